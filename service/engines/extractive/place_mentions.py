"""Place names in sentences: capitalised runs looked up in the gazetteer, with the words around them.

A run is a sequence of capitalised words, allowing Arabic articles and small connectors ("Qasr al-Deeb",
"Deir ez-Zor", "Ras al-Ain"). A run counts only as a whole, or less a type word ("Borno State", "Hasakah
Governorate"), or less a facility word ("Kamyshly Airport"), so that "White House National Security Council"
or "Syrian Democratic Forces" never yield a place. The words before a run say how it is used: "near X",
"the city of X", "an attack on X", "from X".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from service.article import Sentence
from service.engines.extractive.gazetteer import Gazetteer, Place, fold

Cue = Literal["site", "attack", "locative", "reference", "origin", "dateline", "none"]

_CONNECT = r"(?:al|el|ad|ar|as|ash|az|ez|ed|es|an|at|de|del|di|da|du|la|le|des|bin|ibn|bani|of|and)"
_TOKEN = rf"(?:(?![A-Z][\w.\-]*['’]s\b)[A-Z][\w'’.\-]*[\w]|[A-Z]|{_CONNECT}-[A-Z][\w'’\-]*)"
_OWNER = r"[A-Z][\w.\-]*['’]s\b"  # "Russia's": a run of its own, possessive dropped
_RUN = re.compile(rf"(?<![\w'’-])(?:{_OWNER}|{_TOKEN}(?:\s+(?:{_CONNECT}\s+)?{_TOKEN})*)")
_POSSESSIVE = re.compile(r"['’]s$")
_TYPE_WORDS = {
    "province": "admin1", "governorate": "admin1", "state": "admin1", "region": "admin1", "oblast": "admin1",
    "department": "admin1", "prefecture": "admin1", "county": "town", "district": "town", "city": "town",
    "town": "town", "village": "town", "municipality": "town", "countryside": "town", "camp": "town",
    "township": "town", "commune": "town", "locality": "town", "neighbourhood": "town", "neighborhood": "town",
    "hamlet": "town", "settlement": "town", "area": "town",
}  # fmt: skip
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
_COMPASS = frozenset(
    [
        "north",
        "south",
        "east",
        "west",
        "northern",
        "southern",
        "eastern",
        "western",
        "central",
        "northeastern",
        "northwestern",
        "southeastern",
        "southwestern",
        "upper",
        "lower",
        "greater",
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
_DIRECTION = r"(?:north|south|east|west|northeast|northwest|southeast|southwest)(?:ern)?"
_BEFORE_SITE = re.compile(
    rf"\b(?:in|near|at|outside|around|inside|into|across|outskirts of|vicinity of|{_DIRECTION} of"
    rf"|(?:city|town|village|district|province|region|governorate|state|area|countryside|suburb|neighbou?rhood"
    r"|camp|locality|municipality|county|outskirts|hamlet|settlement)\s+of)"
    rf"(?:\s+the)?(?:\s+{_DIRECTION})?(?:\s+(?:city|town|village|province|region|governorate|state|district))?\s*$",
    re.IGNORECASE,
)
_BEFORE_ATTACK = re.compile(
    r"\b(?:attacks?|strikes?|airstrikes?|raids?|assaults?|offensive|shelling|bombing|ambush|clashes|fighting"
    r"|battle|stormed|hit|struck|targeted|shelled|bombed|attacked|overran|captured|seized)\s+(?:on|in|against|near)?"
    r"\s*(?:the\s+)?(?:(?:city|town|village|district)\s+of\s+)?\s*$",
    re.IGNORECASE,
)
_BEFORE_ORIGIN = re.compile(r"\b(?:from|to|towards?|fled to|left for)\s+(?:the\s+)?$", re.IGNORECASE)
_BEFORE_REFERENCE = re.compile(
    rf"(?:\b\d+\s*(?:km|kilomet(?:er|re)s?|miles?)\s+(?:\(\d+\s*\w+\)\s+)?(?:{_DIRECTION}\s+)?(?:of|from)"
    rf"|\b(?:border with|bordering|neighbou?ring|capital of)(?:\s+the)?)\s*$",
    re.IGNORECASE,
)
_TYPE_BEFORE = re.compile(
    r"\b(?P<type>city|town|village|province|governorate|state|region|district|oblast|municipality|department"
    r"|county|commune|locality|township|neighbou?rhood|hamlet|settlement|camp)\s+of\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_TYPE_AFTER = re.compile(
    r"^\s+(?P<type>province|governorate|state|region|district|city|town|village|area|countryside|oblast"
    r"|county|department|camp|township|municipality|neighbou?rhood|commune)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class PlaceMention:
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


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    text: str
    type_hint: str | None


def _spans(run: re.Match[str]) -> list[_Span]:
    """The candidate names of a run: whole, less a trailing type or facility word, less a compass word."""
    text = _POSSESSIVE.sub("", run.group(0))
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
    if len(words) > 1 and words[0].lower() in _COMPASS:
        offset = text.find(words[1])
        spans.append(_Span(start + offset, start + len(text), text[offset:], None))
    return spans


def _cue(before: str) -> Cue:
    if _BEFORE_REFERENCE.search(before):
        return "reference"
    if _BEFORE_ATTACK.search(before):
        return "attack"
    if _BEFORE_SITE.search(before):
        return "site"
    if _BEFORE_ORIGIN.search(before):
        return "origin"
    return "none"


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
        for run in _RUN.finditer(text):
            first_word = run.group(0).split()[0].lower()
            if first_word in _NOT_START and len(run.group(0).split()) == 1:
                continue
            options: list[PlaceMention] = []
            for span in _spans(run):
                if fold(span.text) in not_places or gazetteer.demonym(span.text):
                    break
                before = text[max(0, span.start - 60) : span.start]
                after = text[span.end : span.end + 20]
                hint = span.type_hint
                for m in (_TYPE_BEFORE.search(before), _TYPE_AFTER.match(after)):
                    if m is not None and hint is None:
                        hint = _TYPE_WORDS.get(m.group("type").lower(), "town")
                exact = gazetteer.lookup(span.text)
                cue = (
                    "dateline"
                    if sentence.id == dateline_end[0] and span.end <= dateline_end[1]
                    else _cue(before)
                )
                if not exact and hint is None and cue in ("none", "origin", "dateline", "reference"):
                    continue
                options.append(
                    PlaceMention(
                        sentence,
                        position,
                        span.start,
                        span.end,
                        _display(span.text),
                        tuple(exact),
                        (),
                        cue,
                        hint,
                    )
                )
            # A reading by name wins ("Zamfara" in "Zamfara State"); else the form with a type word.
            chosen = next((o for o in options if o.candidates), None) or next(
                (o for o in options if o.type_hint), options[0] if options else None
            )
            if chosen is not None:
                found.append(chosen)
    return found
