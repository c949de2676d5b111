"""Is each fact about this incident, and does the date say what its words say?

Grounding asks whether the cited sentences state a fact; these rules ask whether they state it of the incident
the summary is about, with the article's own reading rules (the extractive engine's date parser and background
cues) as the judge:

- `casualties_of_another_incident`: a casualty entry whose every cited sentence tells of another incident or a
  period's tally: a background sentence ("since January", "so far this year", "the war has killed", "as
  reported earlier"), or one whose every date lies days away from the incident's ("On March 3, a car bomb ...
  killed 21"). The same figure in a `summary` statement is fine: the prompt asks for background there.
- `date_not_as_stated`: `date.text` names one calendar day ("February 12", "12/02/2024") that `date.start` ..
  `date.end` does not contain (the year is compared only when the text gives one).

A relative date ("on Wednesday") whose reading against the publication date differs from the model's is not
rejected: `date_reading_warning` says so, and the model's date stands (docs/llm.md, "Stated and derived").
"""

from __future__ import annotations

from service.article import Article, Sentence
from service.engines.extractive import cues
from service.engines.extractive.date_forms import find_dates
from service.engines.extractive.dates import (
    DateMention,
    PartialDate,
    date_mentions,
    find_anchor,
    find_mentions,
)
from service.engines.extractive.other_days import dated_elsewhere, parse_iso
from service.engines.extractive.sentences import citable, find_dateline
from service.errors import Violation
from service.schema import DateInfo, IncidentSummary


def violations(summary: IncidentSummary, article: Article) -> list[Violation]:
    found = list(_other_incidents(summary, article))
    if summary.date is not None:
        found += _date_not_as_stated(summary.date, article)
    return found


def _other_incidents(summary: IncidentSummary, article: Article) -> list[Violation]:
    if not summary.casualties:
        return []
    sentences = citable(article)
    elsewhere: set[str] = set()
    if summary.date is not None:
        mentions = date_mentions(
            sentences, article.published_at, find_dateline(sentences), list(article.sentences)
        )
        cited = {c for entry in summary.casualties for c in entry.citations}
        elsewhere = dated_elsewhere(cited, summary.date, mentions)
    found = []
    for i, entry in enumerate(summary.casualties):
        known = [c for c in entry.citations if c in article.by_id]  # (an unknown id is grounding's to report)
        if known and all(c in elsewhere or cues.is_background(article.by_id[c].text) for c in known):
            found.append(
                Violation(
                    f"casualties[{i}]",
                    "casualties_of_another_incident",
                    f"{', '.join(entry.citations)} tell of another incident or a period's tally; casualties are "
                    "the incident's own (mention others in a summary statement)",
                )
            )
    return found


def _reading(text: str, article: Article) -> DateMention | None:
    """The date `text` names, read as the extractive engine reads the article's dates (relative ones against
    the publication date, else a dateline), or None when it names none."""
    sentences = citable(article)
    anchor = find_anchor(article.published_at, list(article.sentences), find_dateline(sentences))
    mentions = find_mentions([Sentence("S0", text, 0, len(text))], anchor, None)
    return mentions[0] if len(mentions) == 1 else None


def _within(day: PartialDate, start: PartialDate, end: PartialDate) -> bool:
    """`day` in [start, end]; without a year on either side, by month and day."""
    if day.year is None or start.year is None or end.year is None:
        key = (day.month, day.day)
        return (start.month, start.day) <= key <= (end.month, end.day)
    return start.as_date() <= day.as_date() <= end.as_date()


def _absolute_day(text: str) -> tuple[int | None, int, int] | None:
    """The one calendar day `text` spells out (month and day, and the year if given), else None."""
    found = [m for m in find_dates(text) if m.group("abs1") or m.group("abs2") or m.group("iso")]
    if len(found) != 1:
        return None
    reading = find_mentions([Sentence("S0", text, 0, len(text))], None, None)
    if len(reading) != 1 or reading[0].precision != "day":
        return None
    m = found[0]
    has_year = bool(m.group("y1") or m.group("y2") or m.group("iso"))
    first = reading[0].first
    return (first.year if has_year else None), first.month, first.day


def _date_not_as_stated(date: DateInfo, article: Article) -> list[Violation]:
    stated = _absolute_day(date.text)
    if stated is None:
        return []
    year, month, day = stated
    if _within(PartialDate(year, month, day), parse_iso(date.start), parse_iso(date.end)):
        return []
    return [
        Violation(
            "date.start",
            "date_not_as_stated",
            f"{date.text!r} is {PartialDate(year, month, day).iso()}, not {date.start}..{date.end}",
        )
    ]


def date_reading_warning(date: DateInfo | None, article: Article) -> str | None:
    """A warning when the service reads `date.text` as another day than the model's dates (the model's date
    stands), else None."""
    if date is None:
        return None
    reading = _reading(date.text, article)
    if reading is None:
        return None
    start, end = parse_iso(date.start), parse_iso(date.end)
    if _within(reading.first, start, end) or _within(start, reading.first, reading.last):
        return None
    return (
        f"date: the service reads {date.text!r} as {reading.first.iso()}"
        + (f"..{reading.last.iso()}" if reading.last != reading.first else "")
        + f", the model as {date.start}"
        + (f"..{date.end}" if date.end != date.start else "")
        + "; the model's date is kept"
    )
