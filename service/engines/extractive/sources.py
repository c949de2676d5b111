"""Who says what: attributions in sentences ("SANA reports that", "according to Reuters", "..., he said").

A source is the noun phrase next to a reporting verb: before it ("Syrian state news agency SANA reports"),
after it in inverted quotes ("..." said Colonel Miles Cuggins), or after "according to". Short references are
resolved to a name given earlier, and the sentence that gives the name is cited too, so that the name is in
the cited text: "he said" -> the last person quoted; "the ministry said" -> "Russian Defense Ministry";
"Gerasimov pointed out" -> "Valery Gerasimov".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from service.alternation import by_first_letter
from service.article import Sentence
from service.engines.extractive import cues

_NP_WORDS = frozenset(
    [
        "official",
        "officials",
        "source",
        "sources",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "spokesmen",
        "ministry",
        "agency",
        "news",
        "state",
        "media",
        "police",
        "army",
        "military",
        "local",
        "knowledgeable",
        "senior",
        "security",
        "government",
        "defense",
        "defence",
        "foreign",
        "interior",
        "health",
        "witnesses",
        "witness",
        "eyewitnesses",
        "eyewitness",
        "residents",
        "resident",
        "activists",
        "activist",
        "medics",
        "medic",
        "doctors",
        "observers",
        "monitor",
        "group",
        "officer",
        "officers",
        "commander",
        "commanders",
        "governor",
        "chief",
        "minister",
        "deputy",
        "representative",
        "authorities",
        "authority",
        "portal",
        "website",
        "newspaper",
        "outlet",
        "channel",
        "television",
        "radio",
        "office",
        "statement",
        "of",
        "for",
        "the",
        "a",
        "an",
        "two",
        "three",
        "several",
        "some",
        "other",
        "provincial",
        "district",
        "regional",
        "military-run",
        "state-run",
        "rights",
        "humanitarian",
        "aid",
        "workers",
        "organization",
        "organisation",
        "council",
        "committee",
        "members",
        "member",
        "leader",
        "leaders",
        "correspondent",
        "reporter",
        "reporters",
        "journalist",
        "journalists",
        "analysts",
        "experts",
        "monitors",
        "hospital",
        "sources'",
        "internationally",
        "recognised",
        "recognized",
        "run",
        "backed-run",
        "war",
        "rescue",
        "human",
    ]
)
_SOURCE_HEADS = frozenset(
    [
        "officials",
        "official",
        "sources",
        "source",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "ministry",
        "agency",
        "police",
        "army",
        "military",
        "witnesses",
        "eyewitnesses",
        "residents",
        "activists",
        "medics",
        "doctors",
        "observers",
        "monitor",
        "group",
        "officer",
        "officers",
        "commander",
        "governor",
        "chief",
        "minister",
        "representative",
        "authorities",
        "portal",
        "website",
        "newspaper",
        "outlet",
        "channel",
        "television",
        "radio",
        "office",
        "council",
        "committee",
        "leader",
        "correspondent",
        "reporter",
        "journalist",
        "hospital",
        "government",
        "observatory",
    ]
)
_LEADING_TRIM = frozenset(["a", "an", "two", "three", "four", "five", "several", "some", "of", "for"])
_GENERIC = frozenset({"reports", "report", "media reports", "other reports", "statement", "reports say"})
_PRONOUNS = frozenset({"he", "she", "him", "her"})
_ORG_WORDS = frozenset(
    [
        "ministry",
        "agency",
        "press",
        "post",
        "news",
        "army",
        "forces",
        "military",
        "police",
        "office",
        "council",
        "committee",
        "group",
        "coalition",
        "observatory",
        "command",
        "government",
        "authorities",
        "media",
        "portal",
        "tv",
        "radio",
        "times",
    ]
)
_SKIP_BEFORE_VERB = frozenset(
    [
        "has",
        "have",
        "had",
        "also",
        "previously",
        "later",
        "then",
        "further",
        "earlier",
        "separately",
        "officially",
    ]
)
_TOKEN = re.compile(r"\S+")
# Lower case: "United States" is no verb. The first-letter class is a cheap test the verbs would make anyway.
_VERB_LETTERS = "".join(sorted({verb[0] for verb in cues.REPORTING_VERBS.split("|")} | {"A", "a"}))
_VERB = re.compile(
    rf"\b(?=[{_VERB_LETTERS}])(?P<verb>{by_first_letter(cues.REPORTING_VERBS)}|[Aa]ccording to)\b"
)  # (the verbs grouped by first letter: `alternation`)
_PARENTHETICAL = re.compile(r",\s+(?:[a-z][\w'’\-]*\s+){0,8}[a-z][\w'’\-]*\s*,\s*$")
_PARTICLE_NAME = re.compile(r"^(?:al|el|ad|ar|as|ash|az|bin|ibn|abu|de|van|von|da|di|du)-?[A-Z]")
_QUOTE = re.compile(r"[“\"](?P<q>[^”\"]{12,})[”\"]")
_AFTER_QUOTE = re.compile(r"[,”\"]\s*$")
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
    affiliation: str | None
    quote_before: str = ""  # the earlier sentences of a quote this attribution closes

    @property
    def statement(self) -> str:
        if self.quote_before:
            body = (self.quote_before + " " + self.sentence.text[: self.start]).strip(' “”",;:')
            return body if len(body) <= 240 else body[:237].rsplit(" ", 1)[0] + "…"
        return statement_of(self.sentence.text, self.start, self.end)

    @property
    def text(self) -> str:
        """Everything the source is cited for saying, for reading its stance."""
        return f"{self.quote_before} {self.sentence.text}".strip()


def _clean(words: list[str]) -> str:
    while words and words[0].lower().strip('“"') in _LEADING_TRIM:
        words = words[1:]
    if len(words) > 1 and words[0].lower() == "the" and words[1][0].isupper():
        words = words[1:]
    while words and words[-1].lower() in ("of", "for", "the"):
        words = words[:-1]
    return " ".join(words).strip(" ,.;:“”\"'")


def _is_np_word(word: str) -> bool:
    bare = word.strip("“”\"'()")
    if not bare:
        return False
    return (
        bare[0].isupper()
        or bare.lower() in _NP_WORDS
        or bare.lower() in _PRONOUNS
        or bool(_PARTICLE_NAME.match(bare))
    )


def _np_before(prefix: str) -> str:
    prefix = _PARENTHETICAL.sub("", prefix.rstrip())
    tokens = _TOKEN.findall(prefix)
    while tokens and tokens[-1].lower().strip(",") in _SKIP_BEFORE_VERB:
        tokens.pop()
    taken: list[str] = []
    appositive = bool(tokens) and tokens[-1].endswith(",") and tokens[-1][:1].isupper()
    for i, token in enumerate(reversed(tokens)):
        if i == 0 and appositive:  # "..., Lieutenant Colonel Guillaume Ndjike, said"
            token = token[:-1]
        if token[-1] in ',;:–—-”"(' or not _is_np_word(token) or len(taken) >= 10:
            break
        taken.append(token)
    return _clean(list(reversed(taken)))


def _np_after(suffix: str) -> str:
    taken: list[str] = []
    for token in _TOKEN.findall(suffix):
        bare = token.rstrip(',.;:”"')
        if not bare or not _is_np_word(bare) or len(taken) >= 8:
            break
        taken.append(bare)
        if bare != token:
            break
    return _clean(taken)


def _acceptable(np: str) -> bool:
    if not np or np.lower() in _GENERIC:
        return False
    words = np.split()
    return any(w[0].isupper() for w in words) or words[-1].lower() in _SOURCE_HEADS or np.lower() in _PRONOUNS


def _raw_attributions(sentence: Sentence) -> list[tuple[str, int, int]]:
    """(source phrase, start, end) of each attribution in one sentence, unresolved; the span covers the
    phrase and its verb."""
    text = sentence.text
    found: list[tuple[str, int, int]] = []
    for m in _VERB.finditer(text):
        inverted = m.group("verb").lower() == "according to"
        np = "" if inverted else _np_before(text[: m.start()])
        if np:
            start, end = text.rfind(np, 0, m.start()), m.end()
        elif inverted or _AFTER_QUOTE.search(text[: m.start()]):
            np = _np_after(text[m.end() :])
            start, end = m.start(), text.find(np, m.end()) + len(np)
        if _acceptable(np) and start >= 0:
            found.append((np, start, max(end, m.end())))
    return found


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
    return body if len(body) <= 240 else body[:237].rsplit(" ", 1)[0] + "…"


def _looks_like_person(name: str) -> bool:
    words = name.split()
    capitals = [w for w in words if w[0].isupper()]
    return len(capitals) >= 1 and words[-1][0].isupper() and words[-1].lower() not in _ORG_WORDS


def find_attributions(
    sentences: list[Sentence], affiliation_of: Callable[[str], str | None]
) -> dict[str, list[Attribution]]:
    """Attributions per sentence id, with pronouns, definite descriptions and surnames resolved."""
    result: dict[str, list[Attribution]] = {}
    history: list[Attribution] = []
    for index, sentence in enumerate(sentences):
        seen: set[str] = set()
        for phrase, start, end in _raw_attributions(sentence):
            source, cited = _resolve(phrase, history, sentences[:index])
            if source is None or source in seen:
                continue
            seen.add(source)
            context = " ".join(s.text for s in sentences if s.id in cited) if cited else sentence.text
            affiliation = affiliation_of(source)
            if affiliation is None and _looks_like_person(source) and len(source.split()) >= 2:
                affiliation = affiliation_of(_apposition(context, source))
            quoted = _quote_opening(sentences, index, start)
            attribution = Attribution(
                sentence, source, start, end, tuple(dict.fromkeys([*cited, *quoted, sentence.id])), affiliation,
                " ".join(s.text for s in sentences if s.id in quoted) if quoted else "",
            )  # fmt: skip
            result.setdefault(sentence.id, []).append(attribution)
            history.append(attribution)
    return result


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
    if phrase.lower() in _GENERIC:
        return None, []
    if lowered in _PRONOUNS:
        for previous in reversed(history[-6:]):
            if _looks_like_person(previous.source):
                return previous.source, list(previous.citations[:1])
        return None, []
    words = phrase.split()
    if (
        definite
        and len(words) <= 2
        and words[-1].lower() in _SOURCE_HEADS
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
