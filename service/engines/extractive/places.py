"""Where the incident happened: the article's countries, each place mention's reading, the incident site.

Countries come first (named countries, the dateline, named provinces), because they decide which reading of
an ambiguous or transliterated name is meant: "Derik" is a town in Syria's Al-Hasakah in an article about
Syria. The incident site is the place nearest the incident words: "near X", "the city of X", "an attack on X"
in a sentence about the clash or the strike outrank the dateline and places merely mentioned.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Literal, NamedTuple

from service.article import Sentence
from service.engines.extractive import cues
from service.engines.extractive.gazetteer import MILLIONS, Gazetteer, Place, fold
from service.engines.extractive.place_mentions import PlaceMention, find_mentions
from service.engines.extractive.sentences import Dateline
from service.schema import Location
from service.text.fold import folded_pattern

_CUE_SCORE = {
    "attack": 3.0, "site": 2.5, "locative": 1.5, "reference": -0.5, "origin": -1.0, "dateline": -1.0, "none": 0.0,
}  # fmt: skip
_MAX_LOCATIONS = 5
Weights = dict[str, float]  # ISO country code -> evidence
_ADJECTIVE = re.compile(r"\b[A-Z][a-z]+(?:ian|ean|an|ese|ish|i|ic)\b")
# A nationality before the means or the men of an attack names the attacker, not where it happened: "Turkish
# drones struck the village", "Russian troops in Syria".
_ATTACKER_NOUN = re.compile(
    r"\s+(?:(?:air|drone|missile|rocket|artillery)\s+)?(?:strikes?|airstrikes?|air\s+raids?|raids?|drones?|warplanes?"
    r"|jets?|aircraft|planes?|helicopters?|missiles?|rockets?|shells?|shelling|bombardment|bombing|artillery"
    r"|forces|troops|army|soldiers|military|navy|warships?|gunboats?)\b"
)
# Words for a kind of place used in one country only: "Barangay Tubodlan" is in the Philippines.
_NATIONAL_PLACE_WORDS_OF = {"PH": "barangay|brgy|sitio|purok", "ET": "kebele|woreda"}
_NATIONAL_PLACE_WORDS = folded_pattern(
    r"\b(?:" + "|".join(f"(?P<{cc}>{words})" for cc, words in _NATIONAL_PLACE_WORDS_OF.items()) + r")\b"
)
# The same words anywhere: a fifth of the cost (`re` skips ahead to their first letters, which a leading `\b`
# stops it from doing), and most sentences hold none.
_ANY_NATIONAL_PLACE_WORD = folded_pattern("|".join(_NATIONAL_PLACE_WORDS_OF.values()))
# One scan for both: the capitalised words, of which the nationality adjectives and the names of four letters
# or more are looked up.
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
_ADJECTIVE_ENDINGS = ("ian", "ean", "an", "ese", "ish", "i", "ic")  # (`_ADJECTIVE`'s, a cheaper test first)


class Resolved(NamedTuple):  # a tuple: one for every reading kept, cheaper than a frozen dataclass
    mention: PlaceMention
    place: Place | None  # None: a named site the gazetteer lacks
    score: float = 0.0


def article_countries(
    mentions: list[PlaceMention], dateline: Dateline | None, gazetteer: Gazetteer
) -> Weights:
    """ISO codes of the countries the article names, weighted: named countries ("near the border with X"
    counts little), the dateline, named provinces. They decide which reading of a place name is meant."""
    weights: Weights = defaultdict(float)
    for m in mentions:
        if not m.candidates and "-" in m.name:  # "the Syria-Turkey border": both, in passing
            halves = [gazetteer.lookup(half) for half in m.name.split("-")]
            if all(any(p.kind == "country" for p in half) for half in halves):
                for half in halves:
                    weights[next(p.cc for p in half if p.kind == "country")] += 0.3
            continue
        countries = {p.cc for p in m.candidates if p.kind == "country"}
        for cc in countries:
            weights[cc] += {"site": 2.0, "attack": 2.0, "reference": 0.3, "origin": 0.5}.get(m.cue, 1.0)
        if not countries and m.type_hint == "admin1":
            for cc in {p.cc for p in m.candidates if p.kind == "admin1"}:
                weights[cc] += 1.0
    if dateline is not None:
        for name in (dateline.region, dateline.place):
            readings = gazetteer.lookup(name or "")
            for place in readings:
                if place.kind == "country":
                    weights[place.cc] += 2.0
            if readings and all(p.kind != "country" for p in readings) and len({p.cc for p in readings}) == 1:
                weights[readings[0].cc] += 1.0  # "LASHKARGAH –": a town of one country only
    return weights


def _place_words(sentences: list[Sentence]) -> Weights:
    """The countries whose own words for a kind of place the article uses ("Barangay", "Sitio", "woreda")."""
    weights: Weights = defaultdict(float)
    for sentence in sentences:
        folded = cues.folded(sentence.text)
        if _ANY_NATIONAL_PLACE_WORD.search(folded) is None:
            continue
        for m in _NATIONAL_PLACE_WORDS.finditer(folded):
            weights[m.lastgroup or ""] += 1.0
    return weights


def _nationalities(sentences: list[Sentence], gazetteer: Gazetteer) -> Weights:
    """Nationality adjectives ("Syrian activists") and the cities of millions named anywhere, even inside
    another name ("the Tijuana police"): weak evidence of the home country, never of a reading (Russian troops
    in Syria do not make "Kamyshly" the Russian town of Kamyshlov). A nationality before the means or the men
    of an attack ("Turkish drones", "Russian troops") names the attacker and counts for nothing."""
    weights: Weights = defaultdict(float)
    for sentence in sentences:
        text = sentence.text
        cities: list[str] = []
        for m in _CAPITALISED.finditer(text):
            word = m.group(0)
            key = word.lower()  # (`fold` of a word of ASCII letters)
            if word.endswith(_ADJECTIVE_ENDINGS) and _ADJECTIVE.fullmatch(word):
                code = gazetteer.demonym_folded(key)
                if code and not _ATTACKER_NOUN.match(text, m.end()):
                    weights[code] += 0.3
            if len(word) >= 4 and (code := gazetteer.city_of_millions_folded(key)):
                cities.append(code)
        for code in cities:  # (after the sentence's adjectives, as the weights were always added)
            weights[code] += 0.3
    return weights


def _pointers(mentions: list[PlaceMention]) -> dict[str, Weights]:
    """For each place name (folded) whose every reading lies in one country, that country, once a mention:
    "Deir Ezzor" points to Syria, and makes "Hajin" the Syrian town, not the Turkish one."""
    pointers: dict[str, Weights] = {}
    for m in mentions:
        codes = {p.cc for p in m.candidates}
        if len(codes) == 1 and (m.cue in ("site", "attack", "dateline") or m.type_hint is not None):
            pointers.setdefault(fold(m.name), defaultdict(float))[next(iter(codes))] += 1.0
    return pointers


def _unambiguous(pointers: dict[str, Weights], nationalities: Weights) -> Weights:
    """Which country the article's places point to: nationality adjectives, and each name whose every
    reading lies in one country (`_pointers`)."""
    weights: Weights = defaultdict(float, nationalities)
    for name_weights in pointers.values():
        for code, weight in name_weights.items():
            weights[code] += weight
    return weights


def _reading(
    mention: PlaceMention,
    countries: Weights,
    nationalities: Weights | None = None,
    pointers: dict[str, Weights] | None = None,
) -> Place | Literal[False] | None:
    """The meant gazetteer entry; None for an unknown named site; False when the name is not a place.

    A country name is a country. Otherwise readings in the article's countries win, exact before
    transliterated; a reading elsewhere needs a place cue ("near X", "the town of X"), or, when the article
    names no country at all, a large town. When the article's countries or other places point somewhere, a
    reading elsewhere also needs some evidence of its country besides this name (another place, a nationality
    word) or a city of millions: "the village of Al Dabas" in a story of Syria and Turkey is no Hungarian
    town, but a village the gazetteer lacks."""
    exact = list(mention.candidates)
    country = next((p for p in exact if p.kind == "country"), None)
    if country is not None:
        return country
    named = fold(mention.name)
    if mention.name.isupper() and len(mention.name) <= 4:
        exact = [p for p in exact if fold(p.name) == named]  # "DRG" is a unit, not an alias of Durg
    cued = mention.cue in ("site", "attack") or mention.type_hint is not None
    hints = nationalities or {}
    elsewhere = [p for p in exact if cued or (not countries and p.population >= 100_000)]
    own = (pointers or {}).get(named, {})
    unfounded = False  # a place by its cue, but each reading is in a country nothing else points to
    if elsewhere and (countries or any(name != named for name in pointers or {})):
        elsewhere = [
            p for p in elsewhere if p.population >= MILLIONS or hints.get(p.cc, 0.0) - own.get(p.cc, 0.0) > 0
        ]
        unfounded = not elsewhere
    pools = [
        [p for p in exact if p.cc in countries],
        [p for p in mention.sounds_like if p.cc in countries and (cued or mention.cue == "locative")],
        elsewhere,
        # No country named: a province read by name, when every reading is in one country ("central Badghis")
        [p for p in exact if not countries and p.kind == "admin1" and len({q.cc for q in exact}) == 1],
    ]
    kind_order = {"town": 0, "admin1": 1, "country": 2}
    if mention.type_hint == "admin1":
        kind_order = {"admin1": 0, "town": 1, "country": 2}
    for pool in pools:
        if pool:
            # A place called so before one that also goes by the name ("Islamabad" is an old name of Chattogram).
            return min(
                pool,
                key=lambda p: (
                    kind_order[p.kind],
                    fold(p.name) != named,
                    -countries.get(p.cc, 0.0),
                    p.population < 1_000_000,  # a city of millions before the namesakes of other countries
                    -hints.get(p.cc, 0.0),  # "Syrian", "Deir Ezzor" in the article: that country's reading
                    -p.population,
                ),
            )
    return None if mention.type_hint or unfounded else False


def _with_sounds_like(mention: PlaceMention, countries: Weights, gazetteer: Gazetteer) -> PlaceMention:
    """Add transliteration readings in the article's countries when no reading by name is there."""
    if not countries or any(p.cc in countries for p in mention.candidates) or not mention.name[:1].isupper():
        return mention
    if mention.cue not in ("site", "attack", "locative") and mention.type_hint is None:
        return mention  # a transliteration reading needs a place cue (see `_reading`)
    top = sorted(countries, key=lambda code: -countries[code])[:2]
    return mention._replace(sounds_like=tuple(gazetteer.lookup_skeleton(mention.name, top)))


def _score(m: PlaceMention, place: Place | None) -> float:
    score = _CUE_SCORE[m.cue]
    sentence = m.sentence.text
    score += min(cues.incident_hits_in(sentence, m.start - 120, m.end + 80), 3) * 0.8
    if cues.happened(sentence[max(0, m.start - 80) : m.start]):
        score += 1.5
    if cues.is_background(sentence):
        score -= 1.0
    score += 1.0 if m.position < 3 else 0.4 if m.position < 6 else 0.0
    if place is None:
        score += 0.5  # "the village of X": named as the spot, though the gazetteer lacks it
    elif place.kind == "admin1":
        score -= 1.0
    elif place.kind == "country":
        score -= 2.5
    if place is not None and place not in m.candidates:
        score -= 0.5  # a transliteration match
    return score


def _key(r: Resolved) -> str:
    return f"{r.place.kind}:{r.place.cc}:{r.place.name}" if r.place else f"site:{fold(r.mention.name)}"


def find_locations(
    sentences: list[Sentence], gazetteer: Gazetteer, dateline: Dateline | None, not_places: frozenset[str]
) -> list[Location]:
    """Locations, incident site first; each names the place as the article spells it and cites where."""
    dateline_end = (dateline.sentence_id, dateline.end) if dateline is not None else ("", 0)
    mentions = find_mentions(sentences, gazetteer, not_places, dateline_end)
    countries = article_countries(mentions, dateline, gazetteer)
    for code, weight in _place_words(sentences).items():
        countries[code] += weight
    mentions = [_with_sounds_like(m, countries, gazetteer) for m in mentions]
    nationalities = _nationalities(sentences, gazetteer)
    pointers = _pointers(mentions)
    hints = _unambiguous(pointers, nationalities)
    resolved: list[Resolved] = []
    for m in mentions:
        place = _reading(m, countries, hints, pointers)
        if place is not False:
            resolved.append(Resolved(m, place, _score(m, place)))
    if not resolved:
        return []
    groups: dict[str, list[Resolved]] = {}
    for r in resolved:
        groups.setdefault(_key(r), []).append(r)
    mentioned = {fold(r.mention.name) for r in resolved} | {fold(r.place.name) for r in resolved if r.place}

    def rank(rs: list[Resolved]) -> tuple[float, int]:
        # A place inside a province the article also names is the more specific site: "the town of Jisr
        # al-Shughur" over "Idlib" in "Idlib countryside".
        inner = [r for r in rs if r.place is None or r.place.kind == "town"]
        admin1 = next((r.place.admin1 for r in rs if r.place is not None and r.place.admin1), None)
        specific = (
            bool(inner)
            and admin1 is not None
            and fold(admin1) in mentioned
            and fold(admin1) not in {fold(r.mention.name) for r in rs}
        )
        return max(r.score for r in rs) + 0.3 * (len(rs) - 1) + (1.0 if specific else 0.0), -rs[
            0
        ].mention.position

    scored = sorted(groups.values(), key=rank, reverse=True)
    evidence = defaultdict(float, countries)
    for code, weight in nationalities.items():
        evidence[code] += weight
    home = _home_country(resolved, evidence, gazetteer)
    locations: list[Location] = []
    below_country = [g for g in scored if g[0].place is None or g[0].place.kind != "country"]
    seen_names: set[str] = set()
    for group in below_country or scored[:1]:
        best = max(group, key=lambda r: r.score)
        # Of two spellings of one place ("Ain al-Arab (Kobani)"), the one the gazetteer reads as written
        # names it, rather than a sound-alike.
        shown = max(group, key=lambda r: (r.place is not None and r.place in r.mention.candidates, r.score))
        if fold(shown.mention.name) in seen_names or len(locations) >= _MAX_LOCATIONS:
            continue
        seen_names.add(fold(shown.mention.name))
        order = len(locations)
        admin1, country = _admin1_country(best, resolved, home)
        role = "incident_site" if order == 0 else ("nearby" if best.score > 1.5 else "other")
        ranked = sorted(group, key=lambda r: -r.score)
        citations = list(dict.fromkeys(r.mention.sentence.id for r in [shown, *ranked]))
        locations.append(
            Location(
                name=shown.mention.name, admin1=admin1, country=country, role=role, citations=citations[:3]
            )
        )
    return locations


def _home_country(resolved: list[Resolved], countries: Weights, gazetteer: Gazetteer) -> Place | None:
    codes: Weights = defaultdict(float, countries)
    for r in resolved:
        if r.place is not None and r.place.kind != "country":
            codes[r.place.cc] += 1.0
    if not codes:
        return None
    return gazetteer.country(max(codes, key=lambda code: codes[code]))


def _admin1_country(
    best: Resolved, resolved: list[Resolved], home: Place | None
) -> tuple[str | None, str | None]:
    place = best.place
    if place is not None:
        return (place.admin1 if place.kind != "country" else None), place.country
    # A site the gazetteer lacks: the province named in the same sentence, else the nearest known town's.
    same_sentence = [
        r for r in resolved if r.place is not None and r.mention.sentence.id == best.mention.sentence.id
    ]
    for r in sorted(same_sentence, key=lambda r: abs(r.mention.start - best.mention.start)):
        if (
            r.place is not None
            and r.place.kind in ("town", "admin1")
            and (home is None or r.place.cc == home.cc)
        ):
            return r.place.admin1, r.place.country
    known = [r for r in resolved if r.place is not None and r.place.kind in ("town", "admin1")]
    known = [r for r in known if home is None or r.place.cc == home.cc]  # type: ignore[union-attr]
    if known:
        nearest = max(known, key=lambda r: r.score).place
        return nearest.admin1, nearest.country  # type: ignore[union-attr]
    return None, home.name if home is not None else None
