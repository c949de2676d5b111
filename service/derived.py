"""Derived facts: what the service adds to a validated summary from its own reference data, marked as such.

`derive(summary, article)` is the one entry point (`summarizer.settle` for every engine and the Batch API,
`service.eval` for the metrics): a location's country and province, and the incident's date.

Places. A model is told to give a location's `admin1` and `country` only when the article names them
(anything else would be a place the article does not support). Readers still want the country of "Abeokuta,
Ogun State". The service reads the article's places with the extractive engine's gazetteer and rules (the
article's own countries decide between readings: "Kamyshly" in an article about Syria is Qamishli, not a
Russian town) and fills a missing `admin1` or `country` when the model's place resolves to exactly one
reading. Each filled field is listed as a `DerivedFact` (path, value, basis): `meta.derived` and a warning
tell a reader what the article stated from what the service derived. A field the model gave is never changed.

Date. An article that states no date for its incident (`summary.date` is null: "activists have documented
the death of ...") is dated to its publication date (`published_at`, from the request), as event datasets
such as UCDP code an event reported without a date. `DateInfo` holds only the article's own words with the
sentences that state them, so `summary.date` stays null: the date is a `DerivedFact` at path `date` and
nothing else. Never when the article states a date; never without a publication date.
"""

from __future__ import annotations

import re

from service.article import Article
from service.engines.base import DerivedFact
from service.engines.extractive.engine import load_reference_data
from service.engines.extractive.gazetteer import Place, fold
from service.engines.extractive.places import find_locations
from service.engines.extractive.sentences import citable, find_dateline
from service.schema import IncidentSummary, Location

_NAME_PART = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:al-|el-|de\s+)?[A-Z][\w’'-]*)*")


def _candidates(
    location: Location, reading: list[Location], countries: set[str]
) -> list[tuple[str | None, str]]:
    """The (admin1, country) readings of a place: the extractive engine's reading of the same name in this
    article (or of a place the model's longer name holds: "Kherson (residential districts)", "a checkpoint on
    the edge of Tal Tamr"), else the gazetteer's entries for the name, or for the proper names in it, within
    the article's countries."""
    key = f" {fold(location.name)} "
    same = {(r.admin1, r.country) for r in reading if r.country and fold(r.name) == key.strip()}
    inside = {(r.admin1, r.country) for r in reading if r.country and f" {fold(r.name)} " in key}
    if same or inside:
        return sorted(same or inside, key=str)
    gazetteer = load_reference_data().gazetteer
    for name in (location.name, *_NAME_PART.findall(location.name)):
        places: list[Place] = gazetteer.lookup(name)
        if name == location.name and any(p.kind == "country" for p in places):
            return [(None, next(p.country for p in places if p.kind == "country"))]
        found = {(p.admin1, p.country) for p in places if p.country in countries and p.kind != "country"}
        if found:
            return sorted(found, key=str)
    return []


def _same_division(a: str, b: str) -> bool:
    """One first-level division: "Kherson" and "Kherson region", "Kharkivs’ka Oblast’" and "Kharkiv
    region" (the first five letters of the first word)."""
    first_a, first_b = (next(iter(fold(name).split()), "")[:5] for name in (a, b))
    return first_a == first_b != ""


def _corroborated(reading: tuple[str | None, str], text: str, place: str) -> bool:
    """A reading the article backs: it names the country or the province, elsewhere than in the place's own
    name ("Niger State" names no country Niger; "Tripoli" no province Tripoli). An adjective describes
    people, not places ("Israeli settlers" near a West Bank village), and a gazetteer reading alone ("Al
    Dabas" is also a town in Hungary) is not enough to state a country."""
    folded = text.replace(f" {fold(place)} ", " ")
    admin1, country = reading
    return f" {fold(country)} " in folded or (admin1 is not None and f" {fold(admin1)} " in folded)


PUBLICATION_DATE_BASIS = "the article's publication date; the article states no date for the incident"


def derive(summary: IncidentSummary, article: Article) -> tuple[IncidentSummary, tuple[DerivedFact, ...]]:
    """`summary` with what the service derives filled in (`derive_places`), and every fact derived: the
    incident's date (`derive_date`), then the places'."""
    summary, places = derive_places(summary, article)
    return summary, (*derive_date(summary, article), *places)


def derive_date(summary: IncidentSummary, article: Article) -> tuple[DerivedFact, ...]:
    """The publication date as the incident's date, when the article states none and the request gave one.
    `summary.date` is left null: it holds only what the article states."""
    if summary.date is not None or article.published_at is None:
        return ()
    return (DerivedFact("date", article.published_at.isoformat(), PUBLICATION_DATE_BASIS),)


def derive_places(
    summary: IncidentSummary, article: Article
) -> tuple[IncidentSummary, tuple[DerivedFact, ...]]:
    """`summary` with missing `admin1`/`country` filled where the place resolves unambiguously, and the facts
    so derived. CPU work (and, the first time in a process, loading the gazetteer: a few seconds)."""
    if not any(loc.country is None or loc.admin1 is None for loc in summary.locations):
        return summary, ()
    resources = load_reference_data()
    sentences = citable(article)
    reading = find_locations(
        sentences, resources.gazetteer, find_dateline(sentences), resources.gazetteer.not_places
    )
    countries = {r.country for r in reading if r.country} | {
        loc.country for loc in summary.locations if loc.country
    }
    named = f" {fold(article.text)} "
    facts: list[DerivedFact] = []
    locations: list[Location] = []
    for i, loc in enumerate(summary.locations):
        found = _candidates(loc, reading, countries) if loc.country is None or loc.admin1 is None else []
        if loc.country is not None:
            found = [c for c in found if fold(c[1]) == fold(loc.country)]
        if loc.admin1 is not None:
            found = [c for c in found if c[0] is None or _same_division(c[0], loc.admin1)]
        found = [c for c in found if _corroborated(c, named, loc.name)]
        update: dict[str, str] = {}
        if len({country for _, country in found}) == 1:
            admin1, country = found[0]
            if loc.country is None:
                update["country"] = country
            if (
                loc.admin1 is None
                and admin1
                and len({a for a, _ in found}) == 1
                and fold(admin1) != fold(loc.name)
            ):
                update["admin1"] = admin1
        for field, value in update.items():
            facts.append(
                DerivedFact(
                    f"locations[{i}].{field}", value, f"gazetteer reading of {loc.name!r} in this article"
                )
            )
        locations.append(loc.model_copy(update=update) if update else loc)
    if not facts:
        return summary, ()
    return summary.model_copy(update={"locations": locations}), tuple(facts)
