"""Place names in sentences: capitalised runs looked up in the gazetteer, with the words around them.

A run is a sequence of capitalised words, allowing Arabic articles and small connectors ("Qasr al-Deeb",
"Deir ez-Zor", "Ras al-Ain"). A run counts only as a whole, or less a type word ("Borno State", "Hasakah
Governorate"), or less a facility word ("Kamyshly Airport"), so that "White House National Security Council"
or "Syrian Democratic Forces" never yield a place. The words before a run say how it is used: "near X",
"the city of X", "an attack on X", "from X".
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from service.article import Sentence
from service.engines.extractive import cues
from service.engines.extractive.gazetteer import Gazetteer, Place, fold
from service.grounding import DIRECTIONS
from service.text.fold import folded_pattern

Cue = Literal["site", "attack", "locative", "reference", "origin", "dateline", "none"]

_CONNECT = r"(?:al|el|ad|ar|as|ash|az|ez|ed|es|an|at|de|del|di|da|du|la|le|des|bin|ibn|bani|of|and)"
_TOKEN = rf"(?:(?![A-Z][\w.\-]*['’]s\b)[A-Z][\w'’.\-]*[\w]|[A-Z](?![\w'’])|{_CONNECT}-[A-Z][\w'’\-]*)"
_OWNER = r"[A-Z][\w.\-]*['’]s\b"  # "Russia's": a run of its own, possessive dropped
# A run starts with a capital or a connector ("al-Bab"): the first-letter class is a cheap test of that, first.
_RUN_STARTS = "A-Z" + "".join(sorted({word[0] for word in _CONNECT[3:-1].split("|")}))
# A possessive may end a run of several words ("Jammu and Kashmir’s Akhnoor": "Jammu and Kashmir").
_RUN = re.compile(
    rf"(?<![\w'’-])(?=[{_RUN_STARTS}])"
    rf"(?:{_OWNER}|{_TOKEN}(?:\s+(?:{_CONNECT}\s+)?{_TOKEN})*(?:\s+(?:{_CONNECT}\s+)?{_OWNER})?)"
)
_TYPE_WORDS = {
    "province": "admin1", "governorate": "admin1", "state": "admin1", "region": "admin1", "oblast": "admin1",
    "department": "admin1", "prefecture": "admin1", "county": "town", "district": "town", "city": "town",
    "town": "town", "village": "town", "municipality": "town", "countryside": "town", "camp": "town",
    "township": "town", "commune": "town", "locality": "town", "neighbourhood": "town", "neighborhood": "town",
    "hamlet": "town", "settlement": "town", "area": "town", "sector": "town", "woreda": "town",
}  # fmt: skip
# Words that name a village's kind before its name, as part of it: "Barangay Malasibog", "Sitio Mantuhod".
_TYPE_FIRST = frozenset(
    ["barangay", "brgy", "brgy.", "sitio", "purok", "kebele", "woreda", "tehsil", "mohalla"]
)
_FACILITY_WORDS = frozenset(
    [
        "airport",
        "air",
        "base",
        "airbase",
        "base",
        "hospital",
        "university",
        "bridge",
        "dam",
        "road",
        "highway",
        "checkpoint",
        "market",
        "mosque",
        "church",
        "prison",
        "camp",
        "stadium",
        "port",
        "refinery",
        "field",
        "oilfield",
        "crossing",
        "junction",
        "square",
        "street",
    ]
)
_NOT_START = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "on",
        "in",
        "at",
        "by",
        "for",
        "from",
        "with",
        "after",
        "before",
        "during",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "mr",
        "mrs",
        "ms",
        "dr",
        "gen",
        "col",
        "lt",
        "maj",
        "capt",
        "president",
        "minister",
        "general",
        "colonel",
    ]
)
# The patterns of the words around a name are lower case and run on the case-folded sentence (`casefold`):
# the matches of re.IGNORECASE at a third of the cost.
_DIRECTION = r"(?:north|south|east|west|northeast|northwest|southeast|southwest)(?:ern)?"
_BEFORE_SITE = folded_pattern(
    rf"\b(?:in|near|at|outside|around|inside|into|across|outskirts of|vicinity of|{_DIRECTION} of"
    rf"|(?:city|town|village|district|province|region|governorate|state|area|countryside|suburb|neighbou?rhood"
    r"|camp|locality|municipality|county|outskirts|hamlet|settlement)\s+of)"
    rf"(?:\s+the)?(?:\s+{_DIRECTION})?(?:\s+(?:city|town|village|province|region|governorate|state|district))?\s*$"
)
_BEFORE_ATTACK = folded_pattern(
    r"\b(?:attacks?|strikes?|airstrikes?|raids?|assaults?|offensive|shelling|bombing|bombardments?|barrage|incursion"
    r"|ambush|clashes|fighting"
    r"|battle|stormed|hit|struck|targeted|shelled|bombed|attacked|overran|captured|seized)\s+(?:on|in|against|near|of)?"
    r"\s*(?:the\s+)?(?:(?:city|town|village|district)\s+of\s+)?\s*$"
)
_BEFORE_ORIGIN = folded_pattern(r"\b(?:from|to|towards?|fled to|left for)\s+(?:the\s+)?$")
_BEFORE_REFERENCE = folded_pattern(
    rf"(?:\b\d+\s*(?:km|kilomet(?:er|re)s?|miles?)\s+(?:\(\d+\s*\w+\)\s+)?(?:{_DIRECTION}\s+)?(?:of|from)"
    rf"|\b(?:border with|bordering|neighbou?ring|capital of)(?:\s+the)?)\s*$"
)
_TYPE_BEFORE = folded_pattern(
    r"\b(?P<type>city|town|village|province|governorate|state|region|district|oblast|municipality|department"
    r"|county|commune|locality|township|neighbou?rhood|hamlet|settlement|camp)\s+of\s+(?:the\s+)?$"
)
_TYPE_AFTER = folded_pattern(
    r"^(?:\s+|,\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,2}?)(?P<type>province|governorate|state|region|district|city"
    r"|town|village|area|countryside|oblast|county|department|camp|township|municipality|neighbou?rhood|commune"
    r"|sector|woreda|locality|hamlet|settlement)\b"
)  # "X district", and an apposition: "Awdiinle, a small town 30 km west of Baidoa"


class PlaceMention(NamedTuple):  # a tuple: built for every place name, cheaper than a frozen dataclass
    """One place name in one sentence with its gazetteer readings (none for a named site the gazetteer
    lacks, such as "the village of Kasan"): `candidates` by name, `sounds_like` by transliteration."""

    sentence: Sentence
    position: int
    start: int
    end: int
    name: str
    candidates: tuple[Place, ...]
    sounds_like: tuple[Place, ...]
    cue: Cue
    type_hint: str | None


class _Span(NamedTuple):  # a tuple: built for every capitalised run, cheaper than a frozen dataclass
    start: int
    end: int
    text: str
    type_hint: str | None


def _spans(run: re.Match[str]) -> list[_Span]:
    """The candidate names of a run: whole, less a trailing type or facility word, less a compass word."""
    text = run.group(0)
    if text.endswith(("'s", "’s")):  # "Russia's": the possessive is dropped
        text = text[:-2]
    start = run.start()
    words = text.split()
    spans = [_Span(start, start + len(text), text, None)]
    tail = words[-1].lower()
    if len(words) > 1 and (tail in _TYPE_WORDS or tail in _FACILITY_WORDS):
        cut = text[: text.rfind(words[-1])].rstrip()
        spans.append(_Span(start, start + len(cut), cut, _TYPE_WORDS.get(tail)))
    if len(words) > 2 and " ".join(words[-2:]).lower() in ("air base", "military base"):
        cut = " ".join(words[:-2])
        spans.append(_Span(start, start + len(cut), cut, None))
    if len(words) > 1 and words[0].lower() in _TYPE_FIRST:
        offset = text.find(words[1])
        spans.insert(0, _Span(start + offset, start + len(text), text[offset:], "town"))
    if len(words) > 1 and words[0].lower() in DIRECTIONS:
        offset = text.find(words[1])
        spans.append(_Span(start + offset, start + len(text), text[offset:], None))
    return spans


def _cue(before: str) -> Cue:
    """The use the words before a name (case-folded) make of it."""
    if _BEFORE_REFERENCE.search(before):
        return "reference"
    if _BEFORE_ATTACK.search(before):
        return "attack"
    if _BEFORE_SITE.search(before):
        return "site"
    if _BEFORE_ORIGIN.search(before):
        return "origin"
    return "none"


def _cue_at(folded: str, span: _Span, dateline_until: int) -> Cue:
    """The cue of a name in a (case-folded) sentence whose dateline, if any, ends at `dateline_until`."""
    return "dateline" if span.end <= dateline_until else _cue(folded[max(0, span.start - 60) : span.start])


def _site_cue(before: str) -> Cue | None:
    """`_cue(before)` when that is "attack" or "site", else None: two searches where the answer is no
    (most capitalised words are not places), instead of four."""
    attack = _BEFORE_ATTACK.search(before) is not None
    if not attack and _BEFORE_SITE.search(before) is None:
        return None
    if _BEFORE_REFERENCE.search(before):
        return None
    return "attack" if attack else "site"


def _display(name: str) -> str:
    return name.title() if name.isupper() and len(name) > 3 else name


def find_mentions(
    sentences: list[Sentence],
    gazetteer: Gazetteer,
    not_places: frozenset[str],
    dateline_end: tuple[str, int] = ("", 0),
) -> list[PlaceMention]:
    """Every place-like name in the sentences with its readings by name; transliteration readings
    (`sounds_like`) and the choice among readings come later, once the article's countries are known."""
    found: list[PlaceMention] = []
    for position, sentence in enumerate(sentences):
        text = sentence.text
        folded = cues.folded(text)
        dateline_until = dateline_end[1] if sentence.id == dateline_end[0] else -1
        for run in _RUN.finditer(text):
            words = run.group(0).split()
            if len(words) == 1 and words[0].lower() in _NOT_START:
                continue
            # A reading by name wins ("Zamfara" in "Zamfara State"); else the form with a type word; else the
            # first form kept. The first form with a reading ends the search, and the words before a form
            # (its cue) are read only where they decide whether it is kept, or for the form chosen.
            chosen: tuple[_Span, str | None, list[Place], Cue | None] | None = None
            typed = first = None
            for span in _spans(run):
                key = fold(span.text)  # once, for the three look-ups
                if (
                    key in not_places
                    or key.removeprefix("the ") in not_places
                    or gazetteer.demonym_folded(key)
                ):
                    break
                hint = span.type_hint
                start = max(0, span.start - 60)
                before = folded[start : span.start]
                if hint is None:
                    for m, offset in (
                        (_TYPE_BEFORE.search(before), start),
                        (_TYPE_AFTER.match(folded[span.end : span.end + 40]), span.end),
                    ):
                        if m is not None and hint is None:  # the type word as the sentence spells it
                            word = text[offset + m.start("type") : offset + m.end("type")]
                            hint = _TYPE_WORDS.get(word.lower(), "town")
                exact = gazetteer.lookup_folded(key)
                cue = None
                if not exact and hint is None:  # kept only as a site: "near X", "an attack on X"
                    in_dateline = span.end <= dateline_until
                    cue = None if in_dateline else _site_cue(before)
                    if cue is None:
                        continue
                option = (span, hint, exact, cue)
                if exact:
                    chosen = option
                    break
                if hint and typed is None:
                    typed = option
                if first is None:
                    first = option
            chosen = chosen or typed or first
            if chosen is not None:
                span, hint, exact, cue = chosen
                found.append(
                    PlaceMention(
                        sentence,
                        position,
                        span.start,
                        span.end,
                        _display(span.text),
                        tuple(exact),
                        (),
                        cue or _cue_at(folded, span, dateline_until),
                        hint,
                    )
                )
    return found
