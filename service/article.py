"""Article preparation (SPEC §2): the request's text or HTML in, a normalised article with citable sentences out.

Preparation runs in two steps so that a cache hit costs little: `prepare()` normalises the text and computes
its fingerprint; the sentences are split only when an engine first asks for them.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property

from pydantic import BaseModel, ConfigDict, Field
from syntok import segmenter
from syntok.tokenizer import Token, Tokenizer

from service import boilerplate, html_extract, one_sentence
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


# A whitespace-delimited chunk that is an ASCII word between punctuation ("(said),"). `\W` never matches a
# character syntok counts as part of a word (`str.isalnum`): `\w` is exactly those and the underscore.
_PLAIN_CHUNK = re.compile(r"(\W*)([A-Za-z0-9]+)(\W*)")
# The only place syntok's in-word separators can match in an ASCII word: a lowercase-uppercase transition.
_CASE_TRANSITION = re.compile(r"[a-z][A-Z]")


def _punctuated_word(chunk: str) -> tuple[str, str, str] | None:
    """The punctuation before an ASCII word, the word and the punctuation after it, if the chunk is just that."""
    plain = _PLAIN_CHUNK.fullmatch(chunk)
    if plain is None or plain[3].startswith("...") or _CASE_TRANSITION.search(plain[2]):
        return None  # syntok keeps a trailing "..." as one token and splits words at case transitions
    return plain[1], plain[2], plain[3]


class PlainWordTokenizer(Tokenizer):
    """syntok's tokenizer, token for token, with a shortcut for plain ASCII words (a third of a split's time).

    syntok cuts the text at whitespace and tokenizes each chunk on its own; only the first token of a chunk
    depends on the text around it (its `spacing` is the whitespace before the chunk), and one last token
    carries trailing whitespace. Most chunks of news prose are an ASCII word, maybe with punctuation before or
    after it: syntok makes one token of each punctuation character and one of the word (no in-word separator
    can match in it: those need a hyphen, apostrophe, bracket, dot or a lowercase-uppercase transition), but
    keeps a trailing "..." whole. Those chunks are made here directly; every other chunk is handed to
    syntok's own `tokenize`, and its tokens are moved to the chunk's offset. `tests/test_article_tokenizer.py`
    compares both on every test article and on generated text.
    """

    def tokenize(self, text: str, base_offset: int = 0) -> Iterator[Token]:
        if base_offset:
            return super().tokenize(text, base_offset)
        # A list, not a generator: the segmenter pulls tokens one at a time, and a list iterator is cheaper.
        return iter(self._tokens(text))

    def _tokens(self, text: str) -> list[Token]:
        tokens: list[Token] = []
        end = 0  # of the previous chunk
        for chunk_match in Tokenizer._spaces.finditer(text):
            start = chunk_match.start()
            chunk, spacing = chunk_match.group(), text[end:start]
            end = chunk_match.end()
            if chunk.isascii() and chunk.isalnum() and not _CASE_TRANSITION.search(chunk):  # most chunks
                tokens.append(Token(spacing, chunk, start))
            elif (parts := _punctuated_word(chunk)) is not None:
                before, word, after = parts  # one token per punctuation character, the first gets the spacing
                for i, char in enumerate(before, start):
                    tokens.append(Token("" if i > start else spacing, char, i))
                tokens.append(Token("" if before else spacing, word, start + len(before)))
                for i, char in enumerate(after, start + len(before) + len(word)):
                    tokens.append(Token("", char, i))
            else:
                for i, token in enumerate(super().tokenize(chunk)):
                    tokens.append(Token(token.spacing if i else spacing, token.value, start + token.offset))
        if end < len(text):
            tokens.append(Token(text[end:], "", len(text)))
        return tokens


@cache
def _tokenizer() -> Tokenizer:
    """One tokenizer for every paragraph, as syntok's `analyze` builds for a document (building one per
    paragraph doubles the cost of splitting). It keeps no state between calls."""
    return PlainWordTokenizer(replace_not_contraction=False)


def _split_paragraph(paragraph: str, offset: int) -> list[tuple[int, int]]:
    if one_sentence.is_one_sentence(paragraph):  # most news paragraphs: syntok's answer without running it,
        # from the first token (the first run of what is not syntok's whitespace) to the paragraph's end
        first = Tokenizer._spaces.search(paragraph)
        return [] if first is None else [(offset + first.start(), offset + len(paragraph))]
    spans: list[tuple[int, int]] = []
    for tokens in segmenter.segment(_tokenizer().tokenize(paragraph)):
        if not tokens:
            continue
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
