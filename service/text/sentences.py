"""Normalisation and the sentence split: one line per paragraph, sentences as spans of the text.

A paragraph of words, spaces, marks that never end a sentence (commas, dashes, quotes) and short asides in
brackets ("IDLIB, Syria (AFP) — ..."), then its closing punctuation, is one sentence: most news paragraphs
are. syntok (through its public API: `Tokenizer` and `segmenter.split`) splits the others; a cut after a
title or an abbreviation, or before a lower-case word, is rejoined.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from syntok import segmenter
from syntok.tokenizer import Tokenizer

from service.text import boilerplate

# Control characters go (except newline and tab); so do invisible format characters (zero-width spaces,
# bidi overrides, soft hyphens), except the joiners some scripts need.
_KEEP_FORMAT = {"\u200c", "\u200d"}
HAS_WORD = re.compile(r"\w{2,}")

# Titles and other abbreviations that syntok may take for a sentence end ("Lt. Gen. John Doe").
_NO_SPLIT_AFTER = re.compile(
    r"\b(Lt|Gen|Col|Maj|Capt|Sgt|Cpl|Pvt|Brig|Adm|Cmdr|Lt\.Col|Dr|Mr|Mrs|Ms|Prof|Rev|Gov|Sen|Rep|St|Mt|Ft"
    r"|No|Nos|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|est|vs|etc|Gov't|Govt)\.$"
)
_LOWER_START = re.compile(r"^[a-z(]")
# A paragraph made of words, spaces and these marks that never end a sentence (commas, dashes, quotes,
# apostrophes, "/", "&", "%", "$"), then its closing punctuation, is one sentence; any other character (a stop,
# a colon, a bracket, "！", "。") is left to syntok.
_NOT_IN_A_SENTENCE = re.compile(r"[^\w\s,\-–—'\"‘’“”/&%$]")
_CLOSING = ".!?…\"'”’»"
# An aside in round brackets after a space ("IDLIB, Syria (AFP) — Air strikes ...", "Hayat Tahrir al-Sham
# (HTS)"): syntok steps over a short one once a sentence has begun. Within its first two words it may cut after
# the aside ("BAGHDAD (Reuters)" | "- A bomb ..."), and right before another aside too: those are left to it.
# (syntok looks some fifty tokens ahead for an aside's end: forty characters keep within that.) Words are
# counted between plain spaces, the only spaces normalised text has: syntok does not part words at every
# character `str.split` does ("\x1f").
_ASIDE = re.compile(r"(?<= )\((?P<inside>[^\W_](?:[^()]{0,38}[^\W_])?)\)(?!\s*\()")


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


def _aside_opened(m: re.Match[str]) -> str:
    """A short aside after the paragraph's first two words with its brackets taken off, else as it is."""
    words = sum(1 for word in m.string[: m.start()].split(" ") if word)
    return f" {m.group('inside')} " if words >= 2 else m.group(0)


def one_sentence(paragraph: str) -> bool:
    """Only words, spaces, marks that never end a sentence and short asides in brackets (`_ASIDE`) before
    the paragraph's closing punctuation: nothing to cut at."""
    if paragraph != paragraph.strip():
        return False
    body = paragraph.rstrip(_CLOSING)
    if "(" in body:
        body = _ASIDE.sub(_aside_opened, body)
    return not _NOT_IN_A_SENTENCE.search(body)


def _split_paragraph(paragraph: str, offset: int) -> list[tuple[int, int]]:
    """syntok's sentences of one paragraph as spans into the text, rejoined where syntok cut after a title or
    abbreviation or before a lower-case word. A paragraph that is `one_sentence` is taken whole, without
    asking syntok."""
    if one_sentence(paragraph):
        return [(offset, offset + len(paragraph))] if paragraph else []
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


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The half-open spans of `text`'s sentences, paragraph by paragraph; spans without a word are left out
    (they cannot be cited)."""
    spans: list[tuple[int, int]] = []
    position = 0
    for paragraph in text.split("\n"):
        spans += [(s, e) for s, e in _split_paragraph(paragraph, position) if HAS_WORD.search(text[s:e])]
        position += len(paragraph) + 1
    return spans
