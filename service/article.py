"""Article preparation (SPEC §2): the request's text or HTML in, a normalised article with citable sentences out.

Preparation runs in two steps so that a cache hit costs little: `prepare()` normalises the text and computes
its fingerprint; the sentences are split only when an engine first asks for them.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property

from pydantic import BaseModel, ConfigDict, Field
from syntok import segmenter
from syntok.tokenizer import Tokenizer

from service import boilerplate, html_extract
from service.errors import ConflictingInput, EmptyInput, InputTooLarge, NoSentences, TooManySentences


class ArticleIn(BaseModel):
    """One article: `text` or `html` (exactly one), with optional metadata."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="The article as plain text.")
    html: str | None = Field(None, description="The article as an HTML page; its main text is extracted.")
    title: str | None = Field(None, max_length=1000, description="The article's title, if known.")
    published_at: date | None = Field(
        None, description="Publication date (YYYY-MM-DD); anchors relative dates such as 'on Wednesday'."
    )
    source_url: str | None = Field(None, max_length=2048, description="Where the article was published.")


@dataclass(frozen=True, slots=True)
class Sentence:
    id: str
    text: str
    start: int
    end: int


# Control characters go (except newline and tab); so do invisible format characters (zero-width spaces,
# bidi overrides, soft hyphens), except the joiners some scripts need.
_KEEP_FORMAT = {"\u200c", "\u200d"}
_HAS_WORD = re.compile(r"\w{2,}")

# Titles and other abbreviations that syntok may take for a sentence end ("Lt. Gen. John Doe").
_NO_SPLIT_AFTER = re.compile(
    r"\b(Lt|Gen|Col|Maj|Capt|Sgt|Cpl|Pvt|Brig|Adm|Cmdr|Lt\.Col|Dr|Mr|Mrs|Ms|Prof|Rev|Gov|Sen|Rep|St|Mt|Ft"
    r"|No|Nos|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|est|vs|etc|Gov't|Govt)\.$"
)
_LOWER_START = re.compile(r"^[a-z(]")


def _clean_char(ch: str) -> bool:
    if ch in "\n\t":
        return True
    category = unicodedata.category(ch)
    if category == "Cc":
        return False
    return not (category == "Cf" and ch not in _KEEP_FORMAT)


# Printable ASCII, newline and tab are always kept, so only the runs of other characters are looked at one by
# one (the same result as filtering every character, at a fraction of the cost for mostly-ASCII text).
_MAYBE_UNCLEAN = re.compile(r"[^\x20-\x7e\n\t]+")


def _clean_run(match: re.Match[str]) -> str:
    return "".join(ch for ch in match.group() if _clean_char(ch))


# A publication stamp run into the story's first line ("date 2024-06-07 Bandits, on Thursday, killed ..."): put
# on a line of its own, where it reads as the page's date, not as a date the story gives.
_LEADING_STAMP = re.compile(
    r"^\s*(?P<stamp>(?i:date|dated|published|posted|updated)\s*:?\s*(?:19|20)\d\d-\d\d-\d\d)[ \t]+(?=\S)"
)


def normalise(raw: str) -> str:
    """NFC, control and invisible characters stripped, whitespace collapsed within lines, one line per
    paragraph, web boilerplate lines dropped."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    text = _MAYBE_UNCLEAN.sub(_clean_run, text)
    text = _LEADING_STAMP.sub(r"\g<stamp>\n", text, count=1)
    lines = (  # str.split: the whitespace `\s` matches
        boilerplate.without_trailing_credit(" ".join(line.split())) for line in text.split("\n")
    )
    return "\n".join(line for line in lines if line and not boilerplate.is_boilerplate(line))


@cache
def _tokenizer() -> Tokenizer:
    """One tokenizer for every paragraph, as syntok's `analyze` builds for a document (building one per
    paragraph doubles the cost of splitting). It keeps no state between calls."""
    return Tokenizer(replace_not_contraction=False)


def _split_paragraph(paragraph: str, offset: int) -> list[tuple[int, int]]:
    """syntok's sentences of one paragraph as spans into the text, rejoined where syntok cut after a title or
    abbreviation or before a lower-case word."""
    spans: list[tuple[int, int]] = []
    for tokens in segmenter.split(_tokenizer().tokenize(paragraph)):
        start = tokens[0].offset
        end = tokens[-1].offset + len(tokens[-1].value)
        if spans and (
            _NO_SPLIT_AFTER.search(paragraph[spans[-1][0] - offset : spans[-1][1] - offset])
            or _LOWER_START.match(paragraph[start:end])
        ):
            spans[-1] = (spans[-1][0], offset + end)
        else:
            spans.append((offset + start, offset + end))
    return spans


def split_sentences(text: str) -> tuple[Sentence, ...]:
    """Sentences `S1..Sn` with half-open offsets into `text`; spans without a word are not citable."""
    sentences: list[Sentence] = []
    position = 0
    for paragraph in text.split("\n"):
        for start, end in _split_paragraph(paragraph, position):
            chunk = text[start:end]
            if _HAS_WORD.search(chunk):
                sentences.append(Sentence(f"S{len(sentences) + 1}", chunk, start, end))
        position += len(paragraph) + 1
    return tuple(sentences)


@dataclass(frozen=True)
class Article:
    """A normalised article. `fingerprint` identifies everything about it that changes a summary."""

    text: str
    title: str | None = None
    published_at: date | None = None
    source_url: str | None = None
    max_sentences: int = 2_000
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        material = json.dumps(
            [self.text, self.title, self.published_at.isoformat() if self.published_at else None],
            ensure_ascii=False,
        )
        object.__setattr__(self, "fingerprint", hashlib.sha256(material.encode()).hexdigest())

    @cached_property
    def sentences(self) -> tuple[Sentence, ...]:
        sentences = split_sentences(self.text)
        if not sentences:
            raise NoSentences("the article has no sentences that could be cited")
        if len(sentences) > self.max_sentences:
            raise TooManySentences(
                f"the article has {len(sentences)} sentences; the limit is {self.max_sentences}",
                limit=self.max_sentences,
                count=len(sentences),
            )
        return sentences

    @cached_property
    def by_id(self) -> dict[str, Sentence]:
        return {s.id: s for s in self.sentences}


def prepare(article: ArticleIn, *, max_chars: int, max_sentences: int = 2_000) -> Article:
    """Validate and normalise one article. Raises an `InputError` the caller can act on."""
    if article.text is not None and article.html is not None:
        raise ConflictingInput("send either `text` or `html`, not both")
    raw = article.text if article.text is not None else article.html
    if raw is None:
        raise EmptyInput("the request has neither `text` nor `html`")
    if len(raw) > max_chars:
        raise InputTooLarge(
            f"the article has {len(raw)} characters; the limit is {max_chars}", limit=max_chars, size=len(raw)
        )
    if not raw.strip():
        raise EmptyInput("the article is empty")
    if article.html is not None:
        raw = html_extract.main_text(raw)
    text = normalise(raw)
    if not _HAS_WORD.search(text):
        raise NoSentences("the article has no text left once markup and boilerplate are removed")
    title = normalise(article.title) or None if article.title else None
    return Article(text, title, article.published_at, article.source_url, max_sentences)
