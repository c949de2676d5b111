"""Sentences about other days: the figures they give are another incident's, not this one's.

A story about Saturday's attack often recalls earlier ones: "In June, 14 people were killed in a similar
raid", "The attack came after a strike on September 28 killed more than 130 people". Once the incident's date
is known, a sentence whose every date lies well away from it speaks of something else; its casualty figures
must not become this incident's toll (the highest figure would otherwise win). A sentence with no date, or
with one date near the incident's ("the toll rose on Sunday"), is kept.
"""

from __future__ import annotations

from datetime import date

from service.engines.extractive.dates import DateMention, PartialDate, is_statement_date
from service.schema import DateInfo

# Days a date may lie from the incident's and still be about it. Before it: a night attack may be dated to
# the evening before ("late on Friday" for a Saturday report), no more. After it: the wounded may die and the
# toll be updated days later ("two of the wounded died on Monday", raising the toll of Saturday's attack).
_DAYS_BEFORE = 1
_DAYS_AFTER = 3


def parse_iso(iso: str) -> PartialDate:
    if iso.startswith("--"):
        return PartialDate(None, int(iso[2:4]), int(iso[5:7]))
    year, month, day = (int(part) for part in iso.split("-"))
    return PartialDate(year, month, day)


def _days(a: PartialDate, b: PartialDate) -> int:
    """b - a in days; where either year is unknown both are put in the same (leap) year."""
    if a.year is None or b.year is None:
        return (date(2000, b.month, b.day) - date(2000, a.month, a.day)).days
    return (b.as_date() - a.as_date()).days


def _apart(first: PartialDate, last: PartialDate, start: PartialDate, end: PartialDate) -> bool:
    """True when [first, last] ends more than `_DAYS_BEFORE` days before [start, end], or begins more than
    `_DAYS_AFTER` days after it."""
    return _days(last, start) > _DAYS_BEFORE or _days(end, first) > _DAYS_AFTER


def dated_elsewhere(sentence_ids: set[str], event: DateInfo | None, mentions: list[DateMention]) -> set[str]:
    """Those of `sentence_ids` whose every date (among the article's `mentions`, see `dates.date_mentions`)
    lies more than a few days from the incident's date."""
    if event is None:
        return set()
    start, end = parse_iso(event.start), parse_iso(event.end)
    by_sentence: dict[str, list[bool]] = {}
    for mention in mentions:
        if mention.sentence.id not in sentence_ids or mention.sentence.id in event.citations:
            continue
        if is_statement_date(mention):
            continue  # "the army said on Thursday": when the toll was given, not when the deaths happened
        apart = _apart(mention.first, mention.last, start, end)
        by_sentence.setdefault(mention.sentence.id, []).append(apart)
    return {sentence_id for sentence_id, aparts in by_sentence.items() if all(aparts)}
