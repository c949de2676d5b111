"""Speakers named next door: the sentence that attributes a statement, added to the statement's citations.

News splits a statement from its speaker: "“The patrol came under fire,” he said." follows the sentence that
names Colonel X, or a quote runs over three sentences and only the last names who spoke. A model that cites
the statement and names its speaker is right, but the cited sentence alone does not name the speaker. The
service adds the attributing sentence to the citations, and says so in a warning, when

- the cited sentence is speech whose speaker it does not name ("he said", a quote) and a sentence at most
  `_REACH` sentences away names that speaker next to a reporting verb, or
- the line right above the cited one is a short heading that names the speaker ("Airwars assessment") and
  the cited sentence credits no one.

The fact is then grounded by sentences that state it, and nothing the article does not say gets in. A
speaker named nowhere near, or only in a sentence that attributes nothing, stays ungrounded; and the added
sentence settles only who spoke: an item whose figures its own citations do not state gets no sentence added
(the figure must be cited where it is stated).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from service import grounding
from service.article import Article
from service.engines.extractive.cues import REPORTING_VERBS
from service.schema import IncidentSummary
from service.text.numbers import StatedFigures, find_quantities

_REACH = 3
_NEAR = 40
_HEADING_WORDS = 5
_WORD = re.compile(r"\w+")
_QUOTE = re.compile(r"[\"“”«»]|‘|’\s|\s‘")
_REPORTED = re.compile(rf"\b(?:{REPORTING_VERBS}|according to|statement)\b", re.IGNORECASE)
_CREDITS = re.compile(r"\b(?:said|says|told|according to|reported by|quoted)\b", re.IGNORECASE)
_PRONOUN_SAID = re.compile(
    rf"\b(?:he|she|they|it|we)\s+(?:\w+\s+)?(?:{REPORTING_VERBS})\b"
    rf"|\b(?:{REPORTING_VERBS})\s+(?:he|she|they|it)\b"
    r"|\baccording to (?:him|her|them|it)\b",
    re.IGNORECASE,
)


def _anonymous_speech(text: str) -> bool:
    """Speech whose speaker the sentence does not name: "“…,” he said.", "It added that …", or a quote with
    no reporting verb at all (the middle of a quote running over several sentences). Not "Residents said …":
    a sentence that names its own speaker is never credited to a neighbour's."""
    if _PRONOUN_SAID.search(text):
        return True
    return bool(_QUOTE.search(text)) and not _REPORTED.search(text)


def _attributing_neighbour(speaker: str, citations: Sequence[str], article: Article) -> str | None:
    """The id of the nearest sentence that names `speaker` in an attribution, next to a cited sentence of
    reported speech; None when there is none."""
    index = {s.id: i for i, s in enumerate(article.sentences)}
    cited = [index[c] for c in citations if c in index]
    for position in cited:  # a heading right above: "Airwars assessment", "Statement by the army"
        heading = article.sentences[position - 1] if position > 0 else None
        if (
            heading is not None
            and len(heading.text.split()) <= _HEADING_WORDS
            and not _CREDITS.search(article.sentences[position].text)  # the sentence credits no one else
            and grounding.names(speaker, article, [heading.id])
        ):
            return heading.id
    for distance in range(1, _REACH + 1):
        for position in cited:
            if not _anonymous_speech(article.sentences[position].text):
                continue
            for near in (position - distance, position + distance):
                if not 0 <= near < len(article.sentences):
                    continue
                sentence = article.sentences[near]
                if _attributes_to(speaker, sentence.text) and grounding.names(
                    speaker, article, [sentence.id]
                ):
                    return sentence.id
    return None


def _attributes_to(speaker: str, text: str) -> bool:
    """A reporting verb (or "according to") within `_NEAR` characters of a word of the speaker's name:
    "spokesman John Ullyot said", "…,” said Colonel Miles Cuggins", not a name far from a "said" that
    attributes the sentence to someone else."""
    found = _WORD.findall(speaker)
    words = {w.lower() for w in found if len(w) >= 4 or w.isupper()} | {found[-1].lower()} if found else set()
    for m in _WORD.finditer(text):
        if m.group().lower() in words:
            window = text[max(0, m.start() - _NEAR) : m.end() + _NEAR]
            if _REPORTED.search(window):
                return True
    return False


def _figures_stated(item: dict[str, Any], citations: list[str], article: Article) -> bool:
    """Whether the sentences the item cites already state its figures: the added sentence settles who spoke,
    never what was said (a casualty count or a number in the statement)."""
    stated = StatedFigures(article.by_id[c].text for c in citations if c in article.by_id)
    figures: list[int] = []
    for kind in ("killed", "injured"):
        counts = item.get(kind)
        if isinstance(counts, dict):
            figures += [v for v in counts.values() if isinstance(v, int)]
    for field in ("statement", "position"):
        text = item.get(field)
        if isinstance(text, str):
            figures += [
                v for q in find_quantities(text) for v in (q.low, q.best, q.high) if v is not None and v > 1
            ]
    return all(v in stated for v in figures)


def cite_speakers(summary: IncidentSummary, article: Article) -> tuple[IncidentSummary, tuple[str, ...]]:
    """`summary` with the attributing sentence added to every claim, dispute position and casualty figure whose
    source its citations do not name (see the module's rule), and one warning per sentence added."""
    data = summary.model_dump()
    warnings: list[str] = []

    def settle(item: dict[str, Any], field: str, path: str) -> None:
        speaker = item[field]
        citations = item["citations"]
        if not isinstance(speaker, str) or not speaker or not isinstance(citations, list):
            return
        if grounding.names(speaker, article, citations) or not _figures_stated(item, citations, article):
            return
        found = _attributing_neighbour(speaker, citations, article)
        if found is None:
            return
        citations.append(found)
        warnings.append(
            f"{path}.citations: added {found}, the sentence that names the source {speaker!r} "
            f"of the statement in {', '.join(str(c) for c in citations[:-1])}"
        )

    for i, claim in enumerate(data["claims"]):
        settle(claim, "source", f"claims[{i}]")
    for i, entry in enumerate(data["casualties"]):
        settle(entry, "reported_by", f"casualties[{i}]")
    for i, dispute in enumerate(data["disputes"]):
        for j, position in enumerate(dispute["positions"]):
            settle(position, "source", f"disputes[{i}].positions[{j}]")
    if not warnings:
        return summary, ()
    return IncidentSummary.model_validate(data), tuple(warnings)
