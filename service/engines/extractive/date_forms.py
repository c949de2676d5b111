"""Where a sentence states a date: the forms a date takes in news text, and a fast way to find them.

`DATE` is the pattern of every form `dates` resolves (its named groups say which form matched); `find_dates`
gives its matches in a sentence, exactly those of `DATE.finditer`, at a fraction of the cost:

- a sentence without a month name, a digit before "-" or "/", or (case aside) one of `_DATE_WORDS` has no
  date (`may_have_date`), and most sentences have none;
- in the others, `DATE` (costly: re.IGNORECASE alternatives at every word) is tried only where its case-blind
  copy `_ANY_CASE_DATE`, a lower-case pattern run on the case-folded sentence (cheap), finds a date. Ignoring
  case only widens a pattern (it has no negative lookaround with letters in it, which would narrow instead),
  so a date starts only where the copy finds one (`casefold`: the folded pattern on the folded text matches
  where re.IGNORECASE matches on the text). Trying `DATE.match` at those places from left to right, skipping
  those inside the date last found, is what `finditer` does: no date is empty, and `match` at an offset
  sees the characters before it (for word boundaries).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from service.engines.extractive import cues
from service.text.fold import folded_pattern

_MON = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_WD = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"

# Only word starts that can open a date are tried (the alternation is costly at every position).
_OPENERS = (
    r"(?i:on|last|this|early|late|in|during|mid|the|yesterday|today|tonight|overnight|earlier|hours|morning"
    r"|evening|night|afternoon|one|two|three|four|five|six|seven|a|at|several|moments|minutes|since)\b|\d|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct"
    r"|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun"
)
# The first-character class is a cheaper test of what the openers' lookahead requires, done first.
DATE = re.compile(
    rf"\b(?=\d|(?i:[oltedimyhnafs])|[JFMASONDTW])(?=(?:{_OPENERS}))(?:"
    rf"(?P<abs1>(?P<m1>{_MON})\s+(?P<d1>\d{{1,2}}){_ORD}(?!\d)(?:,?\s+(?P<y1>{_YEAR}))?)"
    rf"|(?P<abs2>(?P<d2>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<m2>{_MON})(?:,?\s+(?P<y2>{_YEAR}))?)"
    rf"|(?P<iso>(?P<y3>{_YEAR})-(?P<m3>\d\d)-(?P<d3>\d\d))"
    rf"|(?P<num>(?P<d4>\d{{1,2}})/(?P<m4>\d{{1,2}})/(?P<y4>{_YEAR}))"
    rf"|(?P<monyear>(?:(?i:in|during)\s+)?(?P<m5>{_MON})\s+(?P<y5>{_YEAR}))"
    rf"|(?P<inmonth>(?:(?i:in|during|early|late|mid)\s+|(?i:mid-))(?P<m6>January|February|March|April|May|June|July|August"
    rf"|September|October|November|December)\b(?!\s+\d))"
    rf"|(?P<weekday>(?:(?i:on|last|this past|this|early on|late on|early|late)\s+)?"
    rf"(?:(?i:the\s+)?(?i:early\s+)?(?i:hours|morning|evening|night|afternoon)\s+(?i:of)\s+)?"
    rf"(?P<wd>{_WD})(?:\s+(?i:morning|night|evening|afternoon))?)"
    rf"|(?P<rel>(?i:yesterday|today|tonight|last night|this morning|this afternoon|this evening|overnight"
    rf"|earlier today|since (?:this |early )?morning|since dawn|the day before yesterday|the day before|the night before last|this dawn|at dawn today"
    rf"|(?:a few |several |two |three |\d+ )?(?:hours|moments|minutes) ago"
    rf"|in the (?:past|last) (?:few |several )?hours|in the (?:past|last) (?:24|48) hours))"
    rf"|(?P<ago>(?P<n>\d|(?i:one|two|three|four|five|six|seven|a))\s+(?i:days?)\s+(?i:ago|earlier))"
    rf"|(?P<lastweek>(?i:last week|earlier this week|this week)))",
)

# Every date has a month (spelled as `_MON` spells it: capitalised, each name begins with one of these
# abbreviations), a digit before "-" or "/" (the ISO and numeric forms) or, case aside, one of `_DATE_WORDS`
# (weekdays end in "day"; "yesterday", "today", "tonight", "overnight", "this morning", "two days ago", "last
# week"). Numbers alone ("killed 12") make no date. The months and "-", "/" are found with a pattern of
# literal alternatives only, which `re` scans for quickly; the lookbehinds check the digit before "-" or "/".
_DATE_SIGN = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|-(?<=\d-)|/(?<=\d/)")
_DATE_WORDS = ("day", "night", "morning", "afternoon", "evening", "week", "hours", "ago", "dawn")


def may_have_date(text: str) -> bool:
    """False when `text` surely has no date (see `_DATE_SIGN`)."""
    return _DATE_SIGN.search(text) is not None or any(map(cues.folded(text).__contains__, _DATE_WORDS))


# The pieces of a pattern that ignoring case changes: escapes (kept), group names and the inline flag (dropped:
# the copy captures nothing and is all lower-case), upper-case letters (lowered).
_CASED_PIECE = re.compile(r"\\.|\(\?P<\w+>|\(\?i:|[A-Z]")
_LETTER = re.compile(r"(?<!\\)[A-Za-z]")


def _negated_parts(pattern: str) -> Iterator[str]:
    """The insides of `pattern`'s negative lookarounds and negated character classes."""
    opened: list[tuple[int, bool]] = []  # (where a group's inside starts, whether it is negative)
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "[":
            end = i + 2 if pattern[i + 1 : i + 2] in ("]", "^") else i + 1
            end += 1 if pattern[i + 1 : i + 3] == "^]" else 0
            while pattern[end] != "]":
                end += 2 if pattern[end] == "\\" else 1
            if pattern[i + 1] == "^":
                yield pattern[i + 2 : end]
            i = end + 1
            continue
        if pattern[i] == "(":
            negative = pattern.startswith(("(?!", "(?<!"), i)
            opened.append((pattern.index("!", i) + 1 if negative else i, negative))
        elif pattern[i] == ")":
            start, negative = opened.pop()
            if negative:
                yield pattern[start:i]
        i += 1


def any_case(pattern: str) -> str:
    """A lower-case copy of `pattern` that, on case-folded text, matches wherever `pattern` matches on the
    text, ignoring case; so wherever `pattern` matches. A negative lookaround or negated class with a letter
    would be narrowed by ignoring case, not widened: it is refused, as are back-references to named groups."""
    if "(?P=" in pattern or any(_LETTER.search(part) for part in _negated_parts(pattern)):
        raise ValueError(f"ignoring case could narrow {pattern!r}")

    def piece(m: re.Match[str]) -> str:
        text = m.group(0)
        return text if text.startswith("\\") else "(?:" if text.startswith("(") else text.lower()

    return _CASED_PIECE.sub(piece, pattern)


# An empty match (a lookahead) at every place where the case-blind copy of `DATE` matches.
_ANY_CASE_DATE = folded_pattern(f"(?={any_case(DATE.pattern)})")


def find_dates(text: str) -> Iterator[re.Match[str]]:
    """The matches of `DATE.finditer(text)`, found faster (see the module's docstring)."""
    if not may_have_date(text):
        return
    resume = 0
    for candidate in _ANY_CASE_DATE.finditer(cues.folded(text)):
        if candidate.start() >= resume and (m := DATE.match(text, candidate.start())):
            yield m
            resume = m.end()
