"""The worst misses of an eval run: for each record, which metrics it missed, the gold value and the engine's.

`python -m service.eval FILE --misses N` (and `make eval-dev`) prints them after the metrics, worst first: the
records that missed the most metrics, then the largest death-toll error. Each line gives the gold value, the
engine's value and, for a missed toll, the sentences the engine's figures cite, so that a rule can be found
without opening the data set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.eval import Outcome, date_right, place_matches, predicted_date, same_country
from service.schema import IncidentSummary

_EXCERPT = 160


@dataclass(frozen=True, slots=True)
class Miss:
    """One metric a record missed: what the gold says and what the engine said."""

    metric: str
    gold: str
    predicted: str


@dataclass(frozen=True, slots=True)
class RecordMisses:
    record_id: str
    misses: tuple[Miss, ...]
    deaths_error: int  # how far the predicted toll lies outside the gold range (0 when inside)
    evidence: tuple[str, ...]  # the sentences the predicted casualty figures cite


def _deaths(summary: IncidentSummary | None) -> int:
    if summary is None:
        return 0
    return sum(
        (e.killed.best if e.killed.best is not None else (e.killed.low or 0))
        for e in summary.casualties
        if e.killed is not None
    )


def _distance(value: int, low: int | None, high: int | None) -> int:
    if low is not None and value < low:
        return low - value
    if high is not None and value > high:
        return value - high
    return 0


def _span(start: str, end: str) -> str:
    """A date as the misses show it: "2021-05-02", or "2021-05-02..2021-05-04" for a span."""
    return start if start == end else f"{start}..{end}"


def record_misses(outcome: Outcome) -> RecordMisses:
    """The metrics one record missed (the same tests as `service.eval.score`)."""
    gold = outcome.record.get("gold") or {}
    summary = outcome.summary
    misses: list[Miss] = []
    if gold.get("start_date") is not None:
        date = predicted_date(outcome)
        if not date_right(gold, date):
            derived = summary is not None and summary.date is None and date is not None
            shown = _span(*date) if date is not None else "None"
            wanted = _span(gold["start_date"], gold.get("end_date") or gold["start_date"])
            misses.append(Miss("date", wanted, f"{shown} (publication date)" if derived else shown))
    if gold.get("country") is not None:
        site = (
            next((loc for loc in summary.locations if loc.role == "incident_site"), None) if summary else None
        )
        chosen = site or (summary.locations[0] if summary and summary.locations else None)
        country = chosen.country if chosen else None
        if country is None or not same_country(gold["country"], country):
            misses.append(Miss("country", gold["country"], str(country)))
    if gold.get("place") is not None:
        names = [loc.name for loc in summary.locations] if summary else []
        if not any(place_matches(gold["place"], name) for name in names):
            misses.append(Miss("place", gold["place"], ", ".join(names) or "-"))
    low, high = gold.get("deaths_low"), gold.get("deaths_high")
    error = 0
    evidence: tuple[str, ...] = ()
    if low is not None or high is not None:
        value = _deaths(summary)
        error = _distance(value, low, high)
        if error:
            misses.append(Miss("deaths", f"{low}-{high}", str(value)))
            if summary is not None and outcome.article is not None:
                cited = dict.fromkeys(
                    c for e in summary.casualties if e.killed is not None for c in e.citations
                )
                evidence = tuple(
                    f"{cid}: {outcome.article.by_id[cid].text[:_EXCERPT]}"
                    for cid in cited
                    if cid in outcome.article.by_id
                )
    return RecordMisses(str(outcome.record.get("id", "?")), tuple(misses), error, evidence)


def worst(outcomes: Sequence[Outcome], count: int) -> list[RecordMisses]:
    """The `count` records that missed the most metrics, then the largest toll error; none that missed none."""
    found = [m for m in map(record_misses, outcomes) if m.misses]
    found.sort(key=lambda m: (-len(m.misses), -m.deaths_error, m.record_id))
    return found[:count]


def miss_counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """How many records missed each metric."""
    counts: dict[str, int] = {}
    for found in map(record_misses, outcomes):
        for miss in found.misses:
            counts[miss.metric] = counts.get(miss.metric, 0) + 1
    return counts


def print_report(outcomes: Sequence[Outcome], count: int) -> None:
    print(f"misses per metric: {miss_counts(outcomes)}")
    for found in worst(outcomes, count):
        print(f"- {found.record_id}")
        for miss in found.misses:
            print(f"    {miss.metric}: gold {miss.gold} | engine {miss.predicted}")
        for line in found.evidence:
            print(f"      {line}")
