"""Reading counts in English news text: digits, number words, qualifiers and ACLED's vague quantities.

Shared by the grounding check (is a figure supported by a sentence?) and the extractive engine (what figure
does a sentence report?), so both read "at least four" and "several" the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from service.text.alternation import by_first_letter
from service.text.fold import fold_case

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_SCALES = {"dozen": 12, "hundred": 100, "thousand": 1000, "million": 1_000_000}  # "two dozen" is 24

# Vague quantities as the product maps them (SPEC §3, after ACLED): value is the conservative low figure.
VAGUE: dict[str, int] = {
    "a couple of": 2,
    "a few": 2,
    "several": 2,
    "a number of": 2,
    "a handful of": 2,
    "numerous": 2,
    "many": 2,
    "half a dozen": 6,
    "a dozen": 12,
    "dozens of": 12,
    "dozens": 12,
    "scores of": 20,
    "hundreds of": 100,
    "hundreds": 100,
    "thousands of": 1000,
    "thousands": 1000,
}

_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES], key=len, reverse=True))
_NUMBER_WORDS = rf"(?:(?:{_WORD})(?:[\s-]+(?:and[\s-]+)?(?:{_WORD}))*)"
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
_NUMBER = rf"(?:{_DIGITS}|{_NUMBER_WORDS})"
_VAGUE_RE = "|".join(re.escape(v) for v in sorted(VAGUE, key=len, reverse=True))

_QUALIFIERS = {
    "at least": "low",
    "no fewer than": "low",
    "no less than": "low",
    "more than": "above",
    "over": "above",
    "up to": "high",
    "as many as": "high",
    "at most": "high",
    "nearly": "high",
    "almost": "high",
    "about": "best",
    "around": "best",
    "approximately": "best",
    "roughly": "best",
    "some": "best",
    "an estimated": "best",
}
_QUAL_RE = "|".join(re.escape(q) for q in sorted(_QUALIFIERS, key=len, reverse=True))

# The words a count can open with; only word starts that are one of them are tried.
_OPENERS = "|".join(
    sorted(
        {
            "between",
            *(q.split()[0] for q in _QUALIFIERS),
            *(v.split()[0] for v in VAGUE),
            *_UNITS,
            *_TENS,
            *_SCALES,
        },
        key=len,
        reverse=True,
    )
)
# The patterns below are lower case and matched case-sensitively against `fold_case(text)` (`service.text.fold`): the same matches
# as re.IGNORECASE on `text`, three to four times faster (sre cannot skip a case-insensitive alternative on
# its first letter).
# A count starts with a digit or an opener; the first-letter class is a cheaper test of the same, done first.
# Digits that continue a date or a time ("2019-09-16", "25/08/2020", "10:30") are not a count.
_FIRST_LETTERS = "".join(sorted({opener[0] for opener in _OPENERS.split("|")}))
_QUANTITY = re.compile(
    rf"(?=[\d{_FIRST_LETTERS}])\b(?<!\d[-/.:])(?!\d+[/:]\d)(?=\d|(?:{by_first_letter(_OPENERS)})\b)(?:(?P<between>between)\s+(?P<a>{_NUMBER})\s+and\s+(?P<b>{_NUMBER})"
    rf"|(?P<from>{_DIGITS})\s*[-–]\s*(?P<to>{_DIGITS})|(?P<from_w>{_NUMBER})\s+to\s+(?P<to_w>{_NUMBER})"
    rf"|(?:(?P<qual>{_QUAL_RE})\s+)?(?P<num>{_NUMBER})"
    rf"|(?P<vague>{_VAGUE_RE}))\b"
)
# Zero only where the negation is about harm: "no one was hurt", "no casualties", "none of the soldiers was
# injured", "without casualties" (not "without giving further details", nor "did not say").
_HARM_WORDS = (
    r"(?:killed|dead|died|deaths?|casualt\w*|injur\w*|wound\w*|hurt|harmed|fatalit\w*|victims?|lives)"
)
_NEGATION = re.compile(
    rf"\b(?:no|none|not|without|zero|nobody|no one|neither|nor)\b(?:\W+\w+){{0,5}}?\W+{_HARM_WORDS}\b"
    rf"|\b{_HARM_WORDS}\W+(?:\w+\W+){{0,2}}(?:no one|nobody|none)\b"
)
_HARM = (
    r"(?:killed|wounded|injured|hurt|shot|dead|died|death|killing|body|corpse|hanged|murdered|assassinated"
    r"|executed|slain|beheaded|abducted|kidnapped|arrested|detained|succumbed|martyr|martyred"
    r"|lost (?:his|her) life)"
)
# "one" and its kin always state a count of one; "a"/"an" only next to what happened to the person
# ("a soldier was killed", "killing a civilian", "a child died", "leaving a child, three women and ten
# insurgents dead", "A New People’s Army (NPA) rebel was killed", "the death of a member", "shooting dead a
# woman"), not in every sentence with an article.
_ONE = re.compile(
    r"\b(?:one|another|single|lone)\b"
    rf"|\b(?:a|an)\s+(?:\S+\s+){{0,8}}?(?:(?:was|is|were|has been|had been)\s+(?:\S+\s+){{0,3}}?)?{_HARM}\b"
    r"|\b(?:death|killing|murder|assassination|execution|body|wounding|abduction|kidnapping)\s+of\s+(?:a|an)\b"
    r"|\b(?:shot dead|gunned down|kill|killing|killed|wound|wounding|wounded|injure|injuring|injured|shoot"
    r"|shooting|shot|abduct|abducting|abducted|kidnap|kidnapping|kidnapped|murder|murdering|murdered"
    r"|execute|executing|executed|assassinate|assassinating|assassinated)(?:[\s,]+\S+){0,2}?[\s,]+(?:a|an)\b"
    r"|\b(?:his|her)\s+(?:\S+\s+)?(?:death|demise)\b|\b(?:killing|killed|wounding|wounded|injuring|injured)\s+(?:him|her)\b"
    # a singular verb after a determiner: "her fetus dies", "the driver was killed", "his son were killed"
    r"|\b(?:the|his|her|its|their)\s+(?:\S+\s+){0,2}?(?:dies|(?:has|had)\s+(?:\S+\s+)?died|is dead|was (?!not\b)(?:\S+\s+){0,2}?"
    r"(?:killed|wounded|injured|hurt|shot|found dead|confirmed dead|declared dead|pronounced dead)|succumbed)\b"
    r"|\b(?:his|her|their)\s+\w+\s+(?:was|were)\s+(?:killed|wounded|injured)\b"
)
# One named person: "the death of Wilson Yanog", "Nureeta was killed", "gunmen killed Ahmed Ali" (matched on
# the text as written: the capital letter is what tells a name).
_NAMED_ONE = re.compile(
    r"\b(?:[Dd]eath|[Kk]illing|[Mm]urder|[Aa]ssassination|[Ee]xecution|[Bb]ody)\s+of\s+[A-Z][\w’'.-]+"
    r"|\b[A-Z][\w’'-]+\s+(?:was|has been|had been)\s+(?:\w+\s+)?(?:killed|shot dead|murdered|assassinated"
    r"|executed|slain|beheaded)\b"
    r"|\b(?:killed|murdered|assassinated|executed|shot dead)\s+[A-Z][\w’'-]+"
    # "Ferdinand has reportedly died", "Ahmed was found dead": "has" and "was" are singular
    r"|\b[A-Z][\w’'-]+\s+(?:has|had)\s+(?:\w+\s+)?died\b"
    r"|\b[A-Z][\w’'-]+\s+was\s+(?:\w+\s+)?(?:found|confirmed|declared|pronounced)\s+dead\b"
)
# "both of the dead", "both were wounded": two.
_BOTH = re.compile(r"\bboth\b")
_DIGITS_ONLY = re.compile(_DIGITS)
_NUMBER_WORD_GAP = re.compile(r"[\s-]+")


def number_value(words: str) -> int | None:
    """The integer a numeral denotes: "12", "1,200", "four", "twenty-one", "two hundred and five"."""
    text = words.strip().lower()
    if _DIGITS_ONLY.fullmatch(text):
        return int(text.replace(",", ""))
    total, current, seen = 0, 0, False
    for token in _NUMBER_WORD_GAP.split(text):
        if token == "and":
            continue
        if token in _UNITS:
            current += _UNITS[token]
        elif token in _TENS:
            current += _TENS[token]
        elif token in _SCALES:
            scale = _SCALES[token]
            current = max(current, 1) * scale
            if scale >= 1000:
                total, current = total + current, 0
        else:
            return None
        seen = True
    return total + current if seen else None


class Quantity(NamedTuple):  # a tuple: one for every number read, cheaper than a frozen dataclass
    """A count found in text, as a range; `start`/`end` are offsets into the text searched."""

    text: str
    start: int
    end: int
    low: int | None
    best: int | None
    high: int | None
    vague: bool = False


def find_quantities(text: str) -> list[Quantity]:
    """Every count expressed in `text`, with its qualifier applied ("at least four" -> low 4, high None)."""
    return list(_quantities(text))


# Words one of which any count contains; a sentence with none (and no digit) is not scanned at all.
_HINTS = (*_UNITS, *_TENS, *_SCALES, "couple", "few", "several", "number of", "handful", "numerous", "many",
          "dozen", "scores")  # fmt: skip
_DIGIT = re.compile(r"\d")


# One pass for the hint words instead of one substring search per word: same answer, a third of the time.
# At the start of a word: every count opens at a word boundary and its words are separated by spaces or
# hyphens ("twenty-one"), so a hint inside a word ("someone", "often", "Germany") announces none.
_ANY_HINT = re.compile(r"\b(?:" + by_first_letter("|".join(re.escape(hint) for hint in _HINTS)) + ")")


_MONTH_BEFORE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?$",
    re.IGNORECASE,
)


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and digits[:2] in ("19", "20") and digits.isdigit()


def _spelled(text: str, m: re.Match[str], group: str) -> str:
    """A group of a match in the case-folded copy of `text`, as `text` spells it ("" if it did not take part)."""
    start, end = m.span(group)
    return text[start:end]


@lru_cache(maxsize=8192)
def _quantities(text: str) -> tuple[Quantity, ...]:
    folded = fold_case(text)  # (the case `_QUANTITY` sees)
    if not _DIGIT.search(text) and not _ANY_HINT.search(folded):
        return ()
    found: list[Quantity] = []
    for m in _QUANTITY.finditer(folded):
        span = (text[m.start() : m.end()], m.start(), m.end())
        if m.group("between") or m.group("from") or m.group("from_w"):
            a = number_value(
                _spelled(text, m, "a") or _spelled(text, m, "from") or _spelled(text, m, "from_w")
            )
            b = number_value(_spelled(text, m, "b") or _spelled(text, m, "to") or _spelled(text, m, "to_w"))
            if a is not None and b is not None and a <= b:
                found.append(Quantity(*span, low=a, best=None, high=b))
            continue
        if m.group("vague"):
            vague = VAGUE[fold_case(_spelled(text, m, "vague"))]  # as the pattern matched it
            found.append(Quantity(*span, low=vague, best=vague, high=None, vague=True))
            continue
        value = number_value(_spelled(text, m, "num"))
        if value is None or (_is_year(_spelled(text, m, "num")) and _MONTH_BEFORE.search(text[: m.start()])):
            continue  # "July 10, 2019 killed 11": the year of a date, not a count
        qual = _QUALIFIERS.get(_spelled(text, m, "qual").lower())
        if qual == "low":
            found.append(Quantity(*span, low=value, best=value, high=None))
        elif qual == "above":
            found.append(Quantity(*span, low=value + 1, best=value + 1, high=None))
        elif qual == "high":
            found.append(Quantity(*span, low=None, best=value, high=value))
        else:
            found.append(Quantity(*span, low=value, best=value, high=value))
    return tuple(found)


def supported_values(text: str) -> set[int]:
    """Every figure a sentence can be cited for: its numbers, their qualified bounds, vague quantities,
    1 for "a"/"one"/"another", 2 for "both", and 0 where the sentence negates ("no one was killed")."""
    return set(written_values(text) | worded_values(text))


@lru_cache(maxsize=8192)
def written_values(text: str) -> frozenset[int]:
    """The figures of `supported_values` that the sentence writes as numbers: its counts and their bounds.
    Cached: the grounding check asks about the same cited text for every fact that cites it."""
    values: set[int] = set()
    for q in find_quantities(text):
        values.update(v for v in (q.low, q.best, q.high) if v is not None)
        if q.low is not None and q.high is None and not q.vague:
            values.add(q.low - 1 if q.text.lower().startswith(("more than", "over")) else q.low)
    return frozenset(values)


WORDED = frozenset({0, 1, 2})  # the only figures wording alone gives


@lru_cache(maxsize=8192)
def worded_values(text: str) -> frozenset[int]:
    """The figures of `supported_values` (of `WORDED`) that only the sentence's wording gives: 1 for "a
    soldier was killed", 2 for "both", 0 for "no one was hurt"; each looked for only where the sentence does
    not write it as a number."""
    written = written_values(text)
    folded = fold_case(text)
    values: set[int] = set()
    if 1 not in written and (_ONE.search(folded) or _NAMED_ONE.search(text)):
        values.add(1)
    if 2 not in written and _BOTH.search(folded):
        values.add(2)
    if 0 not in written and _NEGATION.search(folded):
        values.add(0)
    return frozenset(values)


class StatedFigures:
    """The figures some sentences state (the `supported_values` of each, together), worked out only as far as
    the questions asked need: the numbers the sentences write at once; the figures only their wording gives
    (`worded_values`), which cost most of the reading, once one of 0, 1 or 2 is asked about. Most cited
    figures are written, so most checks never need the wording."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = tuple(texts)
        self._written = frozenset[int]().union(*map(written_values, self._texts))
        self._worded: frozenset[int] | None = None

    def __contains__(self, figure: object) -> bool:
        if figure in self._written:
            return True
        if figure not in WORDED:
            return False
        if self._worded is None:
            self._worded = frozenset[int]().union(*map(worded_values, self._texts))
        return figure in self._worded

    def any_at_least(self, figure: int) -> bool:
        """Is a figure of `figure` or more stated?"""
        return any(v >= figure for v in self._written) or any(v in self for v in WORDED if v >= figure)
