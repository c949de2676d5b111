"""Article preparation (SPEC §2): the request's text or HTML in, a normalised article with citable sentences out.

Preparation runs in two steps so that a cache hit costs little: `prepare()` normalises the text and computes
its fingerprint; the sentences are split only when an engine first asks for them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field

from service.errors import (
    ConflictingInput,
    EmptyInput,
    InputTooLarge,
    InvalidText,
    NoSentences,
    TooManySentences,
)
from service.text import html_extract
from service.text.sentences import HAS_WORD, normalise, sentence_spans


class ArticleIn(BaseModel):
    """One article: `text`, `html` or `url` (exactly one), with optional metadata."""

    # The document states what `prepare` (and, for `url`, the summarizer) enforces: exactly one of `text`,
    # `html` and `url`, a string.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}}},
                {"required": ["html"], "properties": {"html": {"type": "string"}}},
                {"required": ["url"], "properties": {"url": {"type": "string"}}},
            ]
        },
    )

    text: str | None = Field(None, description="The article as plain text.")
    html: str | None = Field(None, description="The article as an HTML page; its main text is extracted.")
    title: str | None = Field(None, max_length=1000, description="The article's title, if known.")
    published_at: date | None = Field(
        None,
        description="Publication date (YYYY-MM-DD); anchors relative dates such as 'on Wednesday'. For `html` "
        "and `url` input, when it is not sent, the date the page's markup states (its meta tags) is used.",
    )
    source_url: str | None = Field(None, max_length=2048, description="Where the article was published.")
    url: str | None = Field(
        None,
        max_length=2048,
        description="An http(s) page to fetch and summarize, instead of `text` or `html`; it becomes the "
        "`source_url`. Private, loopback and link-local addresses are refused (`URL_ALLOWLIST`).",
    )


@dataclass(frozen=True, slots=True)
class Sentence:
    id: str
    text: str
    start: int
    end: int


def split_sentences(text: str) -> tuple[Sentence, ...]:
    """Sentences `S1..Sn` with half-open offsets into `text`; spans without a word are not citable."""
    return tuple(
        Sentence(f"S{i}", text[start:end], start, end)
        for i, (start, end) in enumerate(sentence_spans(text), 1)
    )


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

    @cached_property
    def paragraphs(self) -> tuple[int, ...]:
        """Each sentence's paragraph (0, 1, …): the normalised text holds one paragraph a line."""
        numbers, paragraph, previous_end = [], 0, 0
        for sentence in self.sentences:
            paragraph += self.text.count("\n", previous_end, sentence.start)
            numbers.append(paragraph)
            previous_end = sentence.end
        return tuple(numbers)


# A code point of the surrogate range in a Python string is always a lone one (JSON decoding joins a pair):
# it has no encoding in UTF-8 (nor any other), so it could be neither hashed, stored nor sent upstream.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_TEXT_FIELDS = ("text", "html", "title", "source_url")


def check_encodable(article: ArticleIn) -> None:
    """Raise `InvalidText` naming the first field that holds a lone surrogate (e.g. JSON's "\\udfff")."""
    for name in _TEXT_FIELDS:
        value = getattr(article, name)
        if value is not None and (found := _LONE_SURROGATE.search(value)) is not None:
            raise InvalidText(
                f"`{name}` holds a lone surrogate (U+{ord(found.group()):04X}) at character {found.start()}, "
                "which no text encoding can carry; send valid Unicode",
                field=name,
            )


def prepare(article: ArticleIn, *, max_chars: int, max_sentences: int = 2_000) -> Article:
    """Validate and normalise one article. Raises an `InputError` the caller can act on."""
    if article.text is not None and article.html is not None:
        raise ConflictingInput("send either `text` or `html`, not both")
    raw = article.text if article.text is not None else article.html
    if raw is None:
        raise EmptyInput("the request has neither `text`, `html` nor `url`")
    if len(raw) > max_chars:
        raise InputTooLarge(
            f"the article has {len(raw)} characters; the limit is {max_chars}", limit=max_chars, size=len(raw)
        )
    if not raw.strip():
        raise EmptyInput("the article is empty")
    check_encodable(article)
    published_at = article.published_at
    if article.html is not None:
        page = html_extract.read_page(raw)
        raw, published_at = page.text, published_at or page.published
    text = normalise(raw)
    if not HAS_WORD.search(text):
        raise NoSentences("the article has no text left once markup and boilerplate are removed")
    title = normalise(article.title) or None if article.title else None
    return Article(text, title, published_at, article.source_url, max_sentences)
