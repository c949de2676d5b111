"""Who says what: attributions in sentences ("SANA reports that", "according to Reuters", "..., he said").

A source is the noun phrase next to a reporting verb (`source_phrases` finds it): before it ("Syrian state
news agency SANA reports"), after it in inverted quotes ("..." said Colonel Miles Cuggins), or after "according
to". This module resolves and cites them, and reads what each source says. Short references are resolved to a name given earlier, and the sentence that gives the name is cited too, so that the name is in
the cited text: "he said" -> the last person quoted; "the ministry said" -> "Russian Defense Ministry";
"Gerasimov pointed out" -> "Valery Gerasimov".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from service.article import Sentence
from service.engines.extractive.source_phrases import GENERIC, PRONOUNS, SOURCE_HEADS, raw_attributions
from service.text.shorten import shorten

_ORG_WORDS = frozenset([
    "ministry", "agency", "press", "post", "news", "army", "forces", "military", "police", "office",
    "council", "committee", "group", "coalition", "observatory", "command", "government", "authorities",
    "media", "portal", "tv", "radio", "times"
])  # fmt: skip
_QUOTE = re.compile(r"[“\"](?P<q>[^”\"]{12,})[”\"]")
_THAT_WORD = re.compile(r"\bthat\s+")
_TRAILING_THE = re.compile(r"[,\s]*\b(?:the|The)\s*$")
_THAT = re.compile(r"^\s*(?:,?\s*(?:on|in|late|early)\s+[\w ]{1,20}?,?\s+)?(?:in a statement\s+)?", re.I)


@dataclass(frozen=True, slots=True)
class Attribution:
    """A source and the sentence of its statement; `citations` also name the sentence that names it."""

    sentence: Sentence
    source: str
    start: int
    end: int
    citations: tuple[str, ...]
    named_in: str  # the sentences that name the source (where a person's title or side is read)
    quote_before: str = ""  # the earlier sentences of a quote this attribution closes

    @property
    def statement(self) -> str:
        if self.quote_before:
            body = (self.quote_before + " " + self.sentence.text[: self.start]).strip(' “”",;:')
            return shorten(body, 240)
        return statement_of(self.sentence.text, self.start, self.end)

    @property
    def text(self) -> str:
        """Everything the source is cited for saying, for reading its stance."""
        return f"{self.quote_before} {self.sentence.text}".strip()


def statement_of(text: str, start: int, end: int) -> str:
    """What the source asserts: the quote, else the clause after "that", else the sentence less the
    attribution."""
    quote = _QUOTE.search(text)
    if quote:
        body = quote.group("q").strip(" ,")
    elif len(text[end:].strip(" .,;:")) >= 25 or len(text[:start].strip(' ,“”"')) < 10:
        rest = text[end:]
        that = _THAT_WORD.search(rest[:80])
        body = (rest[that.end() :] if that else _THAT.sub("", rest, count=1)).strip(" ,")
    else:
        body = _TRAILING_THE.sub("", text[:start]).strip(" ,")
    body = body.strip(' ,;:“”"') or text
    return shorten(body, 240)


def _looks_like_person(name: str) -> bool:
    words = name.split()
    capitals = [w for w in words if w[0].isupper()]
    return len(capitals) >= 1 and words[-1][0].isupper() and words[-1].lower() not in _ORG_WORDS


def find_attributions(sentences: list[Sentence]) -> dict[str, list[Attribution]]:
    """Attributions per sentence id, with pronouns, definite descriptions and surnames resolved."""
    result: dict[str, list[Attribution]] = {}
    history: list[Attribution] = []
    for index, sentence in enumerate(sentences):
        seen: set[str] = set()
        for phrase, start, end in raw_attributions(sentence):
            source, cited = _resolve(phrase, history, sentences[:index])
            if source is None or source in seen:
                continue
            seen.add(source)
            named_in = " ".join(s.text for s in sentences if s.id in cited) if cited else sentence.text
            quoted = _quote_opening(sentences, index, start)
            attribution = Attribution(
                sentence, source, start, end, tuple(dict.fromkeys([*cited, *quoted, sentence.id])), named_in,
                " ".join(s.text for s in sentences if s.id in quoted) if quoted else "",
            )  # fmt: skip
            result.setdefault(sentence.id, []).append(attribution)
            history.append(attribution)
    return result


def side_of(attribution: Attribution, affiliation_of: Callable[[str], str | None]) -> str | None:
    """The side a source speaks for: `affiliation_of` its name, else, for a person named in full, of the words
    around the name ("Valery Gerasimov, Chief of the Russian General Staff")."""
    source = attribution.source
    side = affiliation_of(source)
    if side is None and _looks_like_person(source) and len(source.split()) >= 2:
        side = affiliation_of(_apposition(attribution.named_in, source))
    return side


def _quote_opening(sentences: list[Sentence], index: int, start: int) -> list[str]:
    """Ids of the earlier sentences of a quotation that the attribution at `start` closes."""
    head = sentences[index].text[:start]
    if "”" not in head or "“" in head:
        return []
    for back in range(index - 1, max(-1, index - 6), -1):
        text = sentences[back].text
        if "”" in text and text.rfind("”") > text.rfind("“"):
            return []
        if "“" in text:
            return [s.id for s in sentences[back:index]]
    return []


def _apposition(text: str, source: str) -> str:
    """The words around a source's name: "Valery Gerasimov, Chief of the Russian General Staff"."""
    at = text.find(source.split()[-1])
    return text[max(0, at - 80) : at + len(source) + 80] if at >= 0 else ""


def _resolve(
    phrase: str, history: list[Attribution], earlier: list[Sentence]
) -> tuple[str | None, list[str]]:
    lowered = phrase.lower()
    definite = lowered.startswith("the ")
    original, phrase = phrase, (phrase[4:] if definite else phrase)
    if phrase.lower() in GENERIC:
        return None, []
    if lowered in PRONOUNS:
        for previous in reversed(history[-6:]):
            if _looks_like_person(previous.source):
                return previous.source, list(previous.citations[:1])
        return None, []
    words = phrase.split()
    if (
        definite
        and len(words) <= 2
        and words[-1].lower() in SOURCE_HEADS
        and not any(w[0].isupper() for w in words)
    ):
        head = words[-1].lower()
        for previous in reversed(history):
            if head in previous.source.lower().split():
                return previous.source, list(previous.citations[:1])
        return original, []
    if len(words) == 1 and words[0][0].isupper():
        full = re.compile(rf"\b([A-Z][\w'’\-]+\s+{re.escape(words[0])})\b")
        for sentence in earlier:
            # The name itself must be in the sentence: a substring test first, the pattern only then.
            m = full.search(sentence.text) if words[0] in sentence.text else None
            if m and m.group(1).split()[0].lower() not in ("the", "a", "an"):
                return m.group(1), [sentence.id]
    return phrase, []
