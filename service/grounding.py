"""Grounding: is every fact of a summary supported by the sentences it cites?

The same check runs on every engine's output. A failure is a `Violation` (path, rule, detail) precise enough to
be shown to a model in a repair turn. Rules:

- `unknown_citation`: a citation names no sentence of the article.
- `missing_citation`: an item that must cite cites nothing.
- `number_not_in_citations`: a casualty figure (or a number in a summary statement) that no cited sentence states
  as digits, number words or a vague quantity ("several" -> 2, "dozens" -> 12).
- `name_not_in_citations`: an actor, place, claim source or reporting source not found (fuzzy) in its citations.
- `date_text_not_in_citations`: `date.text` is not in a cited sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from functools import lru_cache

from pydantic import BaseModel
from rapidfuzz import fuzz

from service.article import Article
from service.errors import Violation
from service.numbers import find_quantities, supported_values
from service.schema import IncidentSummary, Range

_FUZZY_TOKEN = 85
_STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "and",
        "in",
        "on",
        "at",
        "for",
        "to",
        "from",
        "by",
        "with",
        "al",
        "el",
        "forces",
        "force",
        "group",
        "groups",
        "people",
        "local",
        "state",
    ]
)


_NON_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: "U.S.-led Coalition" -> "us led coalition"."""
    if text.isascii():  # no accents, no curly quote, and casefold is lower: the short way, same result
        return " ".join(_NON_WORD.sub(" ", text.lower().replace(".", "")).split())
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace(".", "").replace("’", "'"))
    # ASCII has no combining marks: skip the per-character filter (most English text)
    plain = (
        decomposed
        if decomposed.isascii()
        else "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )
    return " ".join(_NON_WORD.sub(" ", plain).split())


def name_in_text(name: str, text: str) -> bool:
    """True when `name` appears in `text`, allowing spelling variants and dropped small words."""
    return _name_in_folded(_fold(name), _fold(text))


def _folded_sentences(article: Article, citations: Sequence[str]) -> str:
    """`_fold` of the cited sentences joined by spaces, from each sentence's own (cached) fold: the same text,
    since folding works within words and joins every run of spaces and punctuation into one space."""
    return " ".join(f for c in citations if c in article.by_id and (f := _fold(article.by_id[c].text)))


def _name_in_folded(folded_name: str, folded_text: str) -> bool:
    if not folded_name:
        return False
    if f" {folded_name} " in f" {folded_text} ":
        return True
    tokens = [t for t in folded_name.split() if t not in _STOPWORDS] or folded_name.split()
    text_tokens = set(folded_text.split())
    matched = 0
    for token in tokens:
        if token in text_tokens or (
            len(token) > 3 and any(fuzz.ratio(token, other) >= _FUZZY_TOKEN for other in text_tokens)
        ):
            matched += 1
    return matched > 0 and matched / len(tokens) >= 0.6


def _cited_text(article: Article, citations: Sequence[str]) -> str:
    return " ".join(article.by_id[c].text for c in citations if c in article.by_id)


def _citation_violations(summary: IncidentSummary, article: Article) -> Iterator[Violation]:
    last = len(article.sentences)

    def walk(node: object, path: str) -> Iterator[Violation]:
        if isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, (BaseModel, list)):  # scalars hold no citations: not walked into
                    yield from walk(item, f"{path}[{i}]")
            return
        if not isinstance(node, BaseModel):
            return
        for name in type(node).model_fields:
            value = getattr(node, name)
            if name != "citations":
                if isinstance(value, (BaseModel, list)):
                    yield from walk(value, f"{path}.{name}" if path else name)
                continue
            sub = f"{path}.{name}" if path else name
            if not value:
                yield Violation(sub, "missing_citation", "cite at least one sentence id")
            for i, cid in enumerate(value):
                if cid not in article.by_id:
                    yield Violation(
                        f"{sub}[{i}]", "unknown_citation", f"{cid} is not a sentence; use S1..S{last}"
                    )

    yield from walk(summary, "")


def _range_violations(rng: Range | None, path: str, supported: set[int]) -> Iterator[Violation]:
    if rng is None:
        return
    for part in ("low", "best", "high"):
        value = getattr(rng, part)
        if value is None or value in supported:
            continue
        if part == "best" and rng.low in supported and rng.high in supported:
            continue  # a best estimate inside a reported range
        yield Violation(
            f"{path}.{part}",
            "number_not_in_citations",
            f"{value} is not stated in the cited sentences; cite the sentence that gives it or use null",
        )


def _free_text_numbers(path: str, text: str, supported: set[int]) -> Iterator[Violation]:
    """Figures written in a statement, claim or position (other than "one" and vague words) are stated in its
    citations."""
    for q in find_quantities(text):
        values = [v for v in (q.low, q.best, q.high) if v is not None and v > 1]
        if not q.vague and any(v not in supported for v in values):
            yield Violation(
                path, "number_not_in_citations", f"{q.text!r} is not stated in the cited sentences"
            )


def _name_violation(name: str | None, path: str, cited: str, folded: str) -> Iterator[Violation]:
    """`folded` is `_fold(cited)`."""
    if name and cited and not _name_in_folded(_fold(name), folded):
        yield Violation(path, "name_not_in_citations", f"{name!r} does not appear in the cited sentences")


# Verdicts of the most recent checks, by (summary JSON, article fingerprint): an engine checks its answer and
# the summarizer checks the same answer against the same article again (a guard against engines that do not),
# so the second check is a lookup. The verdict is a pure function of the two; nothing else is kept.
_RECENT_VERDICTS = 256
_recent: OrderedDict[tuple[str, str], tuple[Violation, ...]] = OrderedDict()


def check(summary: IncidentSummary, article: Article) -> list[Violation]:
    """Every grounding failure of `summary` against `article`; an empty list means the summary is grounded."""
    key = (summary.model_dump_json(), article.fingerprint)
    verdict = _recent.get(key)
    if verdict is None:
        verdict = tuple(_check(summary, article))
        _recent[key] = verdict
        if len(_recent) > _RECENT_VERDICTS:
            _recent.popitem(last=False)
    return list(verdict)


def _check(summary: IncidentSummary, article: Article) -> list[Violation]:
    violations = list(_citation_violations(summary, article))

    def cited(citations: Sequence[str]) -> str:
        return _cited_text(article, citations)

    # Many facts cite the same sentences: their folded text and figures are worked out once per check.
    folds: dict[tuple[str, ...], str] = {}
    stated: dict[tuple[str, ...], set[int]] = {}

    def folded(citations: Sequence[str]) -> str:
        key = tuple(citations)
        if key not in folds:
            folds[key] = _folded_sentences(article, citations)
        return folds[key]

    def supported(citations: Sequence[str]) -> set[int]:
        """The figures the cited sentences state, each sentence on its own (and each read once)."""
        key = tuple(citations)
        if key not in stated:
            stated[key] = set().union(
                *(supported_values(article.by_id[c].text) for c in citations if c in article.by_id)
            )
        return stated[key]

    free_texts = [(f"summary[{i}].text", st.text, st.citations) for i, st in enumerate(summary.summary)]
    free_texts += [(f"claims[{i}].statement", c.statement, c.citations) for i, c in enumerate(summary.claims)]
    free_texts += [
        (f"disputes[{i}].positions[{j}].position", p.position, p.citations)
        for i, d in enumerate(summary.disputes)
        for j, p in enumerate(d.positions)
    ]
    for path, text, citations in free_texts:
        violations.extend(_free_text_numbers(path, text, supported(citations)))
    if summary.date is not None:
        text = cited(summary.date.citations)
        if text and _fold(summary.date.text) not in folded(summary.date.citations):
            violations.append(
                Violation(
                    "date.text",
                    "date_text_not_in_citations",
                    f"{summary.date.text!r} must be copied exactly from a cited sentence",
                )
            )
    for i, loc in enumerate(summary.locations):
        violations.extend(
            _name_violation(loc.name, f"locations[{i}].name", cited(loc.citations), folded(loc.citations))
        )
    for i, actor in enumerate(summary.actors):
        violations.extend(
            _name_violation(actor.name, f"actors[{i}].name", cited(actor.citations), folded(actor.citations))
        )
    for i, cas in enumerate(summary.casualties):
        text = cited(cas.citations)
        figures = supported(cas.citations)
        violations.extend(_range_violations(cas.killed, f"casualties[{i}].killed", figures))
        violations.extend(_range_violations(cas.injured, f"casualties[{i}].injured", figures))
        path = f"casualties[{i}].reported_by"
        violations.extend(_name_violation(cas.reported_by, path, text, folded(cas.citations)))
    for i, claim in enumerate(summary.claims):
        violations.extend(
            _name_violation(
                claim.source, f"claims[{i}].source", cited(claim.citations), folded(claim.citations)
            )
        )
    for i, dispute in enumerate(summary.disputes):
        for j, pos in enumerate(dispute.positions):
            path = f"disputes[{i}].positions[{j}].source"
            violations.extend(_name_violation(pos.source, path, cited(pos.citations), folded(pos.citations)))
    return violations
