"""Words that signal the incident itself, and words that signal someone reporting it.

Shared by the date, place, casualty, actor and event-type rules, so that "the incident" means the same thing
to all of them. Patterns are compiled once, at import (they are constants, not clients or data loads).
"""

from __future__ import annotations

import re
from functools import lru_cache

from service.text.alternation import by_first_letter
from service.text.fold import fold_case, folded_pattern


@lru_cache(maxsize=8192)
def folded(text: str) -> str:
    """`fold_case(text)`, cached: every rule folds the same sentences (see `casefold`)."""
    return fold_case(text)


_INCIDENT_WORDS = (
    r"kill(?:ed|ing|s)?|dead|died|death(?:s)?|fatalit(?:y|ies)|wound(?:ed|ing|s)?|injur(?:ed|ing|y|ies)|hurt"
    r"|casualt(?:y|ies)|attack(?:ed|s|ing)?|assault(?:ed)?|clash(?:ed|es)?|fight(?:ing)?|firefight|shoot(?:out|ing)?"
    r"|shot|gun ?battle|gunfire|opened fire|exchange of fire|returned fire|came under fire|ambush(?:ed)?"
    r"|strikes?|airstrikes?|air raids?|raid(?:ed)?|bomb(?:ed|ing|s)?|blast|explosions?|explod(?:ed|es)|shell(?:ed|ing)"
    r"|mortars?|rockets?|missiles?|drones?|ied|landmine|grenade|incident|collision|collided|rammed|accident"
    r"|confrontation|skirmish(?:es)?|abduct(?:ed|ion)|kidnap(?:ped|ping)|massacre|stormed|seized|captured"
    r"|targeted|targeting|claimed responsibility"
    r"|protest(?:s|ers)?|demonstrat(?:ion|ors|ed)|riot(?:s|ers|ing)?|arrest(?:ed|s)?|checkpoint|patrols?|convoy"
)
INCIDENT = re.compile(rf"\b(?:{_INCIDENT_WORDS})\b", re.IGNORECASE)
# The same matches in `fold_case(text)`, 7x faster: case-sensitive, and the words grouped by first letter.
_INCIDENT_FOLDED = folded_pattern(rf"\b(?:{by_first_letter(_INCIDENT_WORDS)})\b")

# "took place", "occurred": the sentence says when or where the incident happened.
_HAPPENED_WORDS = (
    r"took place|occurred|happened|broke out|erupted|unfolded|was carried out|were carried out|struck|hit"
    r"|targeted"
)
HAPPENED = re.compile(rf"\b(?:{_HAPPENED_WORDS})\b", re.IGNORECASE)
_HAPPENED_FOLDED = folded_pattern(rf"\b(?:{by_first_letter(_HAPPENED_WORDS)})\b")


def happened(text: str) -> bool:
    """Does `text` say that something took place (`HAPPENED`)?"""
    return _HAPPENED_FOLDED.search(fold_case(text)) is not None


REPORTING_VERBS = (
    r"said|says|say|told|tells|reported|reports|report|announced|announces|stated|states|confirmed|confirms"
    r"|claimed|claims|revealed|reveals|added|adds|noted|notes|explained|explains|pointed out|points out"
    r"|admitted|admits|denied|denies|accused|accuses|alleged|alleges|insisted|insists|warned|warns|wrote"
    r"|tweeted|posted|acknowledged|acknowledges|declared|declares|blamed|blames|estimated|estimates"
    r"|described|describes|quoted|cited|telling|saying|reporting|announcing|claiming|confirming|condemned"
    r"|put the (?:death )?toll at|puts the (?:death )?toll at|put the number of (?:dead|deaths) at"
)

# Time words that mark background rather than the incident ("since 2011", "last year").
_BACKGROUND_WORDS = (
    r"since (?:19|20)\d\d|since (?:january|february|march|april|may|june|july|august|september|october"
    r"|november|december)|since the (?:start|beginning|end)|since (?:early|late|mid)|last year|years? ago|in (?:19|20)\d\d|over the past"
    r"|this year"
    r"|so far this year|earlier this year|previously|in recent (?:months|years|weeks)|history"
    # Tallies of a period or a war, not of one incident: "in the first half of the year", "in September
    # alone", "last month", "during the Gaza war", "the conflict has killed thousands", "to date".
    r"|in the (?:first|second) half of|in the (?:first|last|past) (?:few |several |\w+ )?(?:months|weeks|quarter)"
    r"|(?:january|february|march|april|may|june|july|august|september|october|november|december|month|week"
    r"|year) alone|last month|earlier this month|to date"
    r"|(?:during|throughout|since) the (?:[\w-]+ ){0,2}(?:war|conflict|insurgency|uprising|revolution)"
    r"|(?:conflict|war|insurgency|violence|unrest)\b[^.;]{0,40}\b(?:has|have) (?:killed|left|claimed)"
    # A look back at another report: "As reported earlier, on January 1 ... one person was killed".
    r"|as (?:was )?(?:previously |earlier )?reported"
)
BACKGROUND = re.compile(rf"\b(?:{_BACKGROUND_WORDS})\b", re.IGNORECASE)
_BACKGROUND_FOLDED = folded_pattern(rf"\b(?:{by_first_letter(_BACKGROUND_WORDS)})\b")
# Every alternative of `_BACKGROUND_WORDS` has one of these in every match (in the folded text): most
# sentences have none, and a few substring tests are much cheaper than a scan with the pattern.
_BACKGROUND_HINTS = (
    "since ", "last year", "ago", "in 19", "in 20", "over the past", "this year", "previously", "in recent",
    "history", "half of", "month", "week", "quarter", "alone", "to date", "war", "conflict", "insurgency",
    "uprising", "revolution", "violence", "unrest", "reported",
)  # fmt: skip


def incident_hits(text: str) -> int:
    """How many incident words `text` has (from `_incident_spans`, cached: every rule asks about the same
    sentences)."""
    return len(_incident_spans(text))


@lru_cache(maxsize=8192)
def _incident_spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(m.span() for m in _INCIDENT_FOLDED.finditer(folded(text)))


def incident_hits_in(text: str, start: int, end: int) -> int:
    """`incident_hits(text[start:end])`, counted from the matches in the whole of `text` (found once per
    sentence) instead of scanning every window again. The two agree unless an edge of the window cuts a word
    or a match (where a cut word could match alone, or a cut phrase not at all); then the window is scanned."""
    start, end = max(0, start), min(len(text), end)
    spans = _incident_spans(text)
    if (
        _cuts_word(text, start)
        or _cuts_word(text, end)
        or any(s < start < e or s < end < e for s, e in spans)
    ):
        # the window scanned again, in the sentence's fold (`fold_case` keeps each character in its place)
        return len(_INCIDENT_FOLDED.findall(folded(text)[start:end]))
    return sum(1 for s, e in spans if start <= s and e <= end)


def _cuts_word(text: str, at: int) -> bool:
    """Is `at` inside a word (a word character on either side, as `re` sees it)?"""
    return 0 < at < len(text) and _is_word(text[at - 1]) and _is_word(text[at])


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


@lru_cache(maxsize=8192)
def is_background(text: str) -> bool:
    """Does `text` have a background time word (`BACKGROUND`)?"""
    lower = folded(text)
    return any(map(lower.__contains__, _BACKGROUND_HINTS)) and _BACKGROUND_FOLDED.search(lower) is not None


_WORDS = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=8192)
def words(text: str) -> frozenset[str]:
    """The lower-case words of `text` ("al-Shabaab" gives "al" and "shabaab"; "İ" is "i")."""
    return frozenset(_WORDS.findall(folded(text)))
