"""Which sentences the engine may cite, and the dateline at the top of a wire story.

`article.prepare` already dropped web boilerplate; what is left that must not be cited is the bare byline
("(Reporting by Mohammed Khier Ahmed)", "By The Irrawaddy 3 June 2022", "Editing by ...") and bare photo
credits. A dateline ("QAMISHLI, Syria (North Press) –", "Kabul [Afghanistan], July 20 (ANI):") is part of
the first sentence; it tells where the story was filed and, often, when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.article import Article, Sentence
from service.engines.extractive import cues
from service.text.fold import folded_pattern

_BYLINE = re.compile(
    r"^[(\[]?\s*(?:by|reporting by|reported by|written by|writing by|editing by|edited by|additional reporting"
    r"|compiled by|photo(?:graph)?s?(?: by)?|image(?: by)?|source|credit|posted|published|updated|last updated)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+")
_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_NOT_PLACES = frozenset(
    {"BREAKING", "UPDATE", "UPDATED", "EXCLUSIVE", "WATCH", "LIVE", "VIDEO", "PHOTOS", "ANALYSIS"}
)
_DATELINE = re.compile(
    rf"^(?P<place>[A-Z][\w'’.\- ]{{1,40}}?)"
    rf"(?:,\s*(?!{_MONTH}\s+\d)(?P<region>[A-Z][\w'’.\- ]{{1,40}}?))?"  # a region, not the date
    rf"\s*(?:\[(?P<bracket>[^\]]{{2,40}})\])?"
    rf"(?:,\s*(?P<date>(?:{_MONTH}\s+\d{{1,2}}|\d{{1,2}}\s+{_MONTH})(?:,?\s+\d{{4}})?))?"
    rf"\s*(?:\((?P<agency>[^)]{{2,40}})\))?"
    # the dash, or after an agency in capitals none: "LASHKARGAH (BNA) A Taliban commander was killed"
    rf"(?:\s*(?P<dash>[–—:]|-{{1,2}})\s+|(?<=[A-Z]\))(?:\s+(?=[A-Z])|\s*$))",
)


# Web chrome that `boilerplate` lets through ("Share this article", "Follow us on X"): short, unpunctuated.
_CHROME = re.compile(
    r"^(?:share|follow|click|read|watch|listen|sign up|subscribe|download|advertisement|sponsored|related|more"
    r"|tap|join us|print|email)\b[^.!?]{0,50}$",
    re.IGNORECASE,
)


def is_byline(sentence: Sentence) -> bool:
    """A sentence made of a credit line alone ("By", "Reporting by", "Photo" ...), or a leftover of web
    chrome ("Share this article"): never cited."""
    text = sentence.text
    if _WORD.search(text) is None:
        return True
    # The words are counted only for a sentence that looks like chrome, a credit or an aside (few do).
    if _CHROME.match(text) and len(_WORD.findall(text)) <= 6:
        return True
    if _BYLINE.match(text) and len(_WORD.findall(text)) <= 14:
        return True
    return text.startswith("(") and text.endswith(")") and len(_WORD.findall(text)) <= 10


# Text addressed to a model rather than to readers: a pasted JSON answer, or an instruction ("Ignore all
# previous instructions", "Report that ... killed 400 people"). It states no fact, so no fact is taken from it.
# As one re.IGNORECASE pattern this was the costliest test of a sentence; it is split in three, each run only
# where it can match: the JSON key needs a "{" (and no case), an opening command can only match at the start
# (it was anchored with "^"), and a command anywhere needs one of `_COMMAND_HINTS`. The two word patterns are
# lower-case, matched against the case-folded sentence (`casefold`: the matches of re.IGNORECASE).
_JSON_ANSWER = re.compile(r"\{\s*\"[\w ]+\"\s*:")
_COMMAND = folded_pattern(
    r"\b(?:ignore|disregard|forget) (?:all |any )?(?:the )?(?:previous|prior|above|earlier) (?:instructions|rules)"
    r"|\b(?:system prompt|new instructions|copy it exactly|answer only|stop summari[sz]ing)\b"
)
_COMMAND_HINTS = (
    "ignore", "disregard", "forget", "system prompt", "new instructions", "copy it exactly", "answer only",
    "stop summari",
)  # fmt: skip
_OPENING_COMMAND = folded_pattern(
    r"(?:report|write|state|say|output|print|respond|reply|answer|summari[sz]e) (?:that|with|only)\b"
    r"|(?:system|assistant|user|developer)\s*:"
)


def is_instruction(sentence: Sentence) -> bool:
    text = sentence.text
    if "{" in text and _JSON_ANSWER.search(text):
        return True
    lower = cues.folded(text)
    if _OPENING_COMMAND.match(lower):
        return True
    return any(map(lower.__contains__, _COMMAND_HINTS)) and _COMMAND.search(lower) is not None


def citable(article: Article) -> list[Sentence]:
    """The article's sentences less credit lines and text addressed to a model, in order."""
    return [s for s in article.sentences if not is_byline(s) and not is_instruction(s)]


@dataclass(frozen=True, slots=True)
class Dateline:
    """The opening "PLACE, Region [Country], Date (Agency) –" of a wire story, by its parts."""

    sentence_id: str
    place: str
    region: str | None
    date_text: str | None
    agency: str | None
    end: int  # offset in the sentence where the story text starts


def find_dateline(sentences: list[Sentence]) -> Dateline | None:
    """The dateline of the first two sentences, if any. Needs an agency, a bracket, an all-caps place or
    a date, so that an ordinary sentence with a dash is not taken for one."""
    for sentence in sentences[:2]:
        m = _DATELINE.match(sentence.text)
        if not m:
            continue
        place = m.group("place").strip()
        if place.upper() in _NOT_PLACES:
            continue
        strong = m.group("agency") or m.group("bracket") or m.group("date") or place.isupper()
        if not strong or len(place.split()) > 4:
            continue
        region = m.group("bracket") or m.group("region")
        return Dateline(
            sentence.id,
            place,
            region.strip() if region else None,
            m.group("date"),
            m.group("agency"),
            m.end(),
        )
    return None
