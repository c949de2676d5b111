"""The incident's date: found in the text, resolved against the publication date, told apart from the dates
on which people talked about it.

Absolute forms ("August 25", "Feb. 12", "9 August 2021", "2021-08-09", "25/08/2020") and relative ones ("on
Wednesday", "early hours of Monday", "last Thursday", "yesterday", "today", "two days ago", "last week") are
found per sentence. Relative ones resolve against the anchor: `published_at`, else a date in the dateline or
byline ("By The Irrawaddy 3 June 2022", "Kabul [Afghanistan], July 20 (ANI)"). Without any year the result
is the ISO no-year form "--MM-DD". A date next to "took place"/"occurred" or incident words scores up; one
next to "said"/"announced" (the statement date) scores down.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from service.article import Sentence
from service.engines.extractive import cues
from service.engines.extractive.casualties import other_incident
from service.engines.extractive.date_forms import DATE, find_dates
from service.engines.extractive.date_lines import is_date_line
from service.engines.extractive.sentences import Dateline
from service.schema import DateInfo
from service.text.fold import fold_case

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "a": 1}


_STATEMENT_BEFORE = re.compile(
    rf"\b(?:{cues.REPORTING_VERBS}|statement|conference|briefing|interview)\b[\s,]*(?:(?:on|in|late|early)\s+)?"
    r"(?:\(|,)?\s*$",
    re.IGNORECASE,
)


def is_statement_date(mention: DateMention) -> bool:
    """True for the date on which someone spoke ("said on Tuesday", "in a statement on May 3")."""
    before = mention.sentence.text[max(0, mention.start - 30) : mention.start]
    return _STATEMENT_BEFORE.search(before) is not None


_HAPPENED_BEFORE = re.compile(
    r"\b(?:took place|occurred|happened|broke out|erupted|began|started|was carried out|were carried out"
    r"|killed|attacked|struck|incident|attack|clash(?:es)?|strike|explosion|bombing|ambush)\b[^.;]{0,25}$",
    re.IGNORECASE,
)


# The words right before a date that make it no day of the incident: the start of a period ("since April
# 28"), its end ("from 2019 until today"), a habit ("every Tuesday").
_NOT_THE_DAY_BEFORE = re.compile(
    r"(?i)\b(?:(?:until|till|every|each)\s+(?:the\s+)?(?:early\s+|late\s+|mid-?\s*)?|since\b[^,.;:]{0,40})$"
)
# The words right after a date that make it the start of a period running to now: "from March 2019 until today".
_UNTIL_NOW_AFTER = re.compile(r"(?i)\s*(?:until|till|to|through)\s+(?:today|now|the present|date)\b")
# A date opening a sentence whose subject reports ("Yesterday, activists reported that ..."): the day of
# the report, which tells of another event than the story's.
_REPORTED_AFTER = re.compile(
    rf"[\s,]+(?:[\w’'\-]+\s+){{0,5}}?(?:{cues.REPORTING_VERBS}|documented|monitored)\b", re.IGNORECASE
)
# The timestamp of an embedded social-media post ("— The Assam Rifles (@official_dgar) May 23, 2021") and the
# date of a cited source ("[iv] “Title,” Al Jazeera, March 5, 2021, https://…"): when something was posted or
# published, never the incident's day.
_POST_BEFORE = re.compile(r"\(@\w+\)\s*$")
_FOOTNOTE = re.compile(r"\s*\[(?:\d{1,3}|[ivxlc]{1,6})\]")
_LINK_AFTER = re.compile(r"(?i)[\s,;]*(?:https?://|www\.)")
# A second day after a slash: "on August 19/20, 2021", a night across two days.
_SECOND_DAY = re.compile(r"/(\d{1,2})\b(?:,\s*(?:19|20)\d\d\b)?")
_DATE_LINE = -4.0  # a date alone on its line wins only where the story gives no other date
_LAST = re.compile(r"(?i)last\b")
_BYLINE = re.compile(r"(?i)\(?\s*by\b")
_ADJACENT = re.compile(r"[\s,(]{0,3}")


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar day whose year may be unknown."""

    year: int | None
    month: int
    day: int

    def iso(self) -> str:
        return (
            f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
            if self.year
            else f"--{self.month:02d}-{self.day:02d}"
        )

    def as_date(self) -> date:
        """A real date for arithmetic; a leap year stands in for an unknown one (Feb 29 exists)."""
        return date(self.year or 2000, self.month, self.day)

    def shifted(self, days: int) -> PartialDate:
        moved = self.as_date() + timedelta(days=days)
        return PartialDate(moved.year if self.year else None, moved.month, moved.day)


@dataclass(frozen=True, slots=True)
class DateMention:
    sentence: Sentence
    start: int
    end: int
    first: PartialDate
    last: PartialDate
    precision: str
    score: float = 0.0

    @property
    def text(self) -> str:
        return self.sentence.text[self.start : self.end]


def _valid(year: int | None, month: int, day: int) -> PartialDate | None:
    try:
        date(year or 2000, month, day)
    except ValueError:
        return None
    return PartialDate(year, month, day)


def _infer_year(month: int, day: int, anchor: PartialDate | None) -> int | None:
    """The year that puts the date on or shortly before the anchor (news reports the past)."""
    if anchor is None or anchor.year is None:
        return None
    year = anchor.year
    if _valid(year, month, day) and date(year, month, day) > anchor.as_date() + timedelta(days=2):
        year -= 1
    return year


def _month_range(year: int | None, month: int) -> tuple[PartialDate, PartialDate]:
    last_day = calendar.monthrange(year or 2001, month)[1]
    return PartialDate(year, month, 1), PartialDate(year, month, last_day)


def _resolve(m: re.Match[str], anchor: PartialDate | None) -> tuple[PartialDate, PartialDate, str] | None:
    g = m.groupdict()
    if g["abs1"] or g["abs2"]:
        month = _MONTHS[(g["m1"] or g["m2"]).rstrip(".").lower()]
        day = int(g["d1"] or g["d2"])
        year_text = g["y1"] or g["y2"]
        year = int(year_text) if year_text else _infer_year(month, day, anchor)
        found = _valid(year, month, day)
        return (found, found, "day") if found else None
    if g["iso"] or g["num"]:
        year, month, day = (
            (int(g["y3"]), int(g["m3"]), int(g["d3"]))
            if g["iso"]
            else (int(g["y4"]), int(g["m4"]), int(g["d4"]))
        )
        found = _valid(year, month, day)
        return (found, found, "day") if found else None
    if g["monyear"] or g["inmonth"]:
        month = _MONTHS[(g["m5"] or g["m6"]).rstrip(".").lower()]
        year = int(g["y5"]) if g["y5"] else _infer_year(month, 1, anchor)
        if year is None and anchor is None:
            return None
        first, last = _month_range(year, month)
        return first, last, "month"
    if anchor is None:
        return None
    if g["weekday"]:
        if anchor.year is None:
            return None
        wanted = _WEEKDAYS[fold_case(g["wd"])]
        back = (anchor.as_date().weekday() - wanted) % 7
        if back == 0 and _LAST.match(g["weekday"]):
            back = 7
        found = anchor.shifted(-back)
        return found, found, "day"
    if g["rel"]:
        word = fold_case(g["rel"])
        back = (
            2
            if word in ("the day before yesterday", "the night before last")
            else 1
            if word in ("yesterday", "last night", "overnight", "the day before")
            else 0
        )
        found = anchor.shifted(-back)
        if word.endswith(("24 hours", "48 hours")):  # "in the past 24 hours": part of yesterday and today
            return anchor.shifted(-1 if word.endswith("24 hours") else -2), found, "day"
        return found, found, "day"
    if g["ago"]:
        n = fold_case(g["n"])
        found = anchor.shifted(-(int(n) if n.isdigit() else _NUMBER_WORDS[n]))
        return found, found, "day"
    if g["lastweek"]:
        if anchor.year is None:
            return None
        back = 7 if fold_case(g["lastweek"]) == "last week" else 0
        end = anchor.shifted(-back)
        monday = end.shifted(-end.as_date().weekday())
        return monday, (monday.shifted(6) if back else anchor), "week"
    return None


def find_anchor(
    published_at: date | None, sentences: list[Sentence], dateline: Dateline | None
) -> PartialDate | None:
    """The date relative expressions count from: publication date, else a dateline or byline date."""
    if published_at is not None:
        return PartialDate(published_at.year, published_at.month, published_at.day)
    if dateline is not None and dateline.date_text:
        m = DATE.fullmatch(dateline.date_text)
        resolved = _resolve(m, None) if m else None
        if resolved:
            return resolved[0]
    for sentence in sentences[:3]:
        if len(sentence.text) > 80 and not _BYLINE.match(sentence.text):
            continue
        for m in find_dates(sentence.text):
            if (m.group("y1") or m.group("y2") or m.group("iso")) and (resolved := _resolve(m, None)):
                return resolved[0]
    return None


def _score(sentence: Sentence, position: int, m: re.Match[str], first: PartialDate, precision: str,
           anchor: PartialDate | None) -> float:  # fmt: skip
    before = sentence.text[max(0, m.start() - 60) : m.start()]
    score = 0.0
    # Right after a reporting verb the date is the statement's, whatever incident words come earlier: "X has
    # been killed, the military said Monday".
    if _STATEMENT_BEFORE.search(before[-30:]):
        score -= 3.0
    elif _HAPPENED_BEFORE.search(before):
        score += 3.0
    incidents = cues.incident_hits(sentence.text)
    score += min(incidents, 3) * 0.7
    if _NOT_THE_DAY_BEFORE.search(before[-50:]) or _UNTIL_NOW_AFTER.match(sentence.text, m.end()):
        return float("-inf")  # "since April 28", "until today", "every Tuesday": no day of the incident
    if (
        _POST_BEFORE.search(before)
        or _FOOTNOTE.match(sentence.text)
        or _LINK_AFTER.match(sentence.text, m.end())
    ):
        return float("-inf")  # a post's timestamp, a cited source's date: when it was published
    if cues.is_background(sentence.text):
        score -= 1.5
        old = anchor is not None and anchor.year is not None and first.year is not None
        if old and (anchor.as_date() - first.as_date()).days > 31:  # type: ignore[union-attr]
            return float("-inf")  # a background sentence's old date is the background's
    if other_incident(sentence):
        score -= (
            2.0  # "in a separate attack on Monday", "activists had documented ... yesterday": another's day
        )
    if _REPORTED_AFTER.match(sentence.text, m.end()) and m.start() <= 3:
        score -= 3.0  # "Yesterday, activists reported that ...": when it was reported
    score += 1.5 if position < 3 else 0.5 if position < 6 else 0.0
    score += {"day": 1.0, "week": -0.5, "month": -0.5}.get(precision, 0.0)
    if anchor is not None and anchor.year is not None and first.year is not None:
        gap = (anchor.as_date() - first.as_date()).days
        if gap < -2:
            return float("-inf")  # after publication: not the incident
        if gap > 31:
            score -= 2.0
    return score


def find_mentions(
    sentences: list[Sentence], anchor: PartialDate | None, dateline: Dateline | None
) -> list[DateMention]:
    mentions: list[DateMention] = []
    for position, sentence in enumerate(sentences):
        skip_until = dateline.end if dateline is not None and dateline.sentence_id == sentence.id else 0
        previous: DateMention | None = None
        for m in find_dates(sentence.text):
            if m.start() < skip_until:
                continue
            resolved = _resolve(m, anchor)
            if resolved is None:
                continue
            first, last, precision = resolved
            end = m.end()
            if (m.group("abs1") or m.group("abs2")) and (second := _SECOND_DAY.match(sentence.text, end)):
                following = first.shifted(1)
                if following.day == int(second.group(1)):  # "August 19/20": the night of the 19th to the 20th
                    last, end = following, second.end()
            score = _score(sentence, position, m, first, precision, anchor)
            if is_date_line(sentence.text):  # the page's publication stamp: rarely the incident's day
                score += _DATE_LINE
            mention = DateMention(sentence, m.start(), end, first, last, precision, score)
            gap = sentence.text[previous.end : m.start()] if previous else None
            if previous is not None and gap is not None and _ADJACENT.fullmatch(gap):
                # "today February 12th", "Wednesday, August 25": one date, the absolute part decides.
                exact = mention if (m.group("abs1") or m.group("abs2") or m.group("iso")) else previous
                mention = DateMention(
                    sentence, previous.start, m.end(), exact.first, exact.last, exact.precision,
                    max(previous.score, score),
                )  # fmt: skip
                mentions[-1] = mention
            else:
                mentions.append(mention)
            previous = mention
    return mentions


def find_event_date(
    sentences: list[Sentence],
    published_at: date | None,
    dateline: Dateline | None,
    all_sentences: list[Sentence],
) -> DateInfo | None:
    """The incident's date with the phrase and sentence that give it, or None when none can be resolved."""
    return pick_event_date(date_mentions(sentences, published_at, dateline, all_sentences))


def date_mentions(
    sentences: list[Sentence],
    published_at: date | None,
    dateline: Dateline | None,
    all_sentences: list[Sentence],
) -> list[DateMention]:
    """Every date the `sentences` state, resolved against the article's anchor (see `find_anchor`)."""
    return find_mentions(sentences, find_anchor(published_at, all_sentences, dateline), dateline)


def pick_event_date(found: list[DateMention]) -> DateInfo | None:
    """The incident's date among the dates an article states (`date_mentions`), or None."""
    mentions = [m for m in found if m.score != float("-inf")]
    if not mentions:
        return None
    support: dict[tuple[str, str], float] = {}
    for m in mentions:
        key = (m.first.iso(), m.last.iso())
        support[key] = support.get(key, 0.0) + 0.5
    best = max(mentions, key=lambda m: (m.score + support[(m.first.iso(), m.last.iso())], -mentions.index(m)))
    if best.score + support[(best.first.iso(), best.last.iso())] < -1.0:
        return None
    return DateInfo(
        start=best.first.iso(),
        end=best.last.iso(),
        precision=best.precision,
        text=best.text,
        citations=[best.sentence.id],
    )
