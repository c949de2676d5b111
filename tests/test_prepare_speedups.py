"""Preparation's speed-ups change no answer: each fast path is checked against the slow way it replaces.

- boilerplate: `is_boilerplate` (patterns that start with a word tried together, each pattern that can start
  anywhere only when the folded line holds one of its words) answers as the one union of all patterns does;
  every generated match of a pattern, also with odd letters, holds one of its words; the fold keeps every
  character re.IGNORECASE equates with a word's character;
- the trailing-credit check skips the pattern only on lines it cannot match.
"""

from __future__ import annotations

import json
import random
import re
import string
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from service.text import boilerplate, html_extract
from tests.conftest import SAMPLES

DATA = Path(__file__).resolve().parent / "data"
# The characters re.IGNORECASE equates with ASCII letters: where `str.lower` and a naive fold go wrong.
_ODD = {"s": "\u017f", "k": "\u212a", "i": "\u0131", "I": "\u0130", "S": "\u017f", "K": "\u212a"}


def _oddified(text: str, rate: float, rng: random.Random) -> str:
    out = []
    for ch in text:
        r = rng.random()
        out.append(_ODD.get(ch, ch) if r < rate else ch.swapcase() if r < 2 * rate else ch)
    return "".join(out)


def _raw_texts() -> list[str]:
    """Every article the tests and samples hold, as it comes in (HTML pages as their extracted text)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((DATA / "hostile").glob("*.txt"))]
    for path in sorted(DATA.glob("*.jsonl")):
        texts += [
            json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    for path in sorted((DATA / "html").glob("*.html")) + sorted((DATA / "hostile").glob("*.html")):
        texts.append(html_extract.main_text(path.read_text(encoding="utf-8")))
    return texts


RAW = _raw_texts()
_RNG = random.Random(11)
VARIANTS = [*RAW, *(t.upper() for t in RAW[::2]), *(_oddified(t, 0.05, _RNG) for t in RAW[1::2])]


@cache
def _every_character() -> str:
    return "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)


def test_the_corpus_is_not_empty() -> None:
    assert len(RAW) >= 30
    assert sum(len(text) for text in RAW) > 25_000


# --- boilerplate ----------------------------------------------------------------------------------------


def _slow_is_boilerplate(line: str) -> bool:
    """`is_boilerplate` as it was: the union of every pattern, tried whole."""
    line = boilerplate._BULLET.sub("", line)
    if boilerplate._BOILERPLATE.fullmatch(line):
        return True
    return (
        len(line) <= 60
        and bool(boilerplate._GLUED.search(line))
        and not boilerplate._SENTENCE_PUNCT.search(line)
    )


_ANYWHERE = [p for p in boilerplate._LINE_PATTERNS if isinstance(p, boilerplate._Anywhere)]
_ALL_PATTERNS = [p.pattern if isinstance(p, boilerplate._Anywhere) else p for p in boilerplate._LINE_PATTERNS]


def test_the_fast_patterns_are_all_the_patterns() -> None:
    at_start = [p for p in boilerplate._LINE_PATTERNS if not isinstance(p, boilerplate._Anywhere)]
    assert boilerplate._AT_START.pattern == "|".join(f"(?:{p})" for p in at_start)
    assert [pattern.pattern for pattern, _ in boilerplate._ANYWHERE] == [
        f"(?:{p.pattern})" for p in _ANYWHERE
    ]
    assert all(pattern.flags & re.IGNORECASE for pattern, _ in boilerplate._ANYWHERE)
    assert boilerplate._BOILERPLATE.pattern == "|".join(f"(?:{p})" for p in _ALL_PATTERNS)
    # every pattern that can start anywhere is behind its words (the point of the speed-up)
    assert all(not p.startswith(".") for p in at_start)
    assert all(p.words and all(w == w.lower() and w.isascii() for w in p.words) for p in _ANYWHERE)


def test_the_fold_keeps_what_ignorecase_equates_with_a_words_character() -> None:
    """A word is found in the folded line wherever re.IGNORECASE finds it in the line: every character that
    matches one of the words' characters case-insensitively folds to that character, and folding keeps
    every character's place."""
    everything = _every_character()
    word_chars = {c for p in _ANYWHERE for w in p.words for c in w} | set(string.ascii_lowercase)
    for char in sorted(word_chars):
        for match in re.findall(re.escape(char), everything, re.IGNORECASE):
            assert boilerplate.fold_case(match) == char, (hex(ord(match)), char)
    assert boilerplate.fold_case(everything) == "".join(boilerplate.fold_case(c) for c in everything)
    assert len(boilerplate.fold_case(everything)) == len(everything)
    ascii_text = "".join(map(chr, range(128)))
    assert boilerplate.fold_case(ascii_text) == ascii_text.lower()


def _as_normalised(line: str) -> str:
    """A line as `normalise` hands it over: no control or invisible characters, whitespace collapsed."""
    return " ".join("".join(c for c in line if c.isprintable() or c.isspace()).split())


def _oddify_strategy(text: str) -> st.SearchStrategy[str]:
    return st.randoms(use_true_random=False).map(lambda rng: _oddified(text, 0.3, rng))


@pytest.mark.parametrize("index", range(len(_ANYWHERE)), ids=[p.words[0] for p in _ANYWHERE])
def test_every_match_of_a_pattern_that_starts_anywhere_holds_one_of_its_words(index: int) -> None:
    pattern = re.compile(_ANYWHERE[index].pattern, re.IGNORECASE)
    words = _ANYWHERE[index].words

    @settings(max_examples=80, deadline=None, derandomize=True)
    @given(
        st.from_regex(pattern, fullmatch=True)
        .map(_as_normalised)
        .flatmap(lambda s: st.sampled_from([s]) | _oddify_strategy(s))
    )
    def check(line: str) -> None:
        assume(pattern.fullmatch(line))
        folded = boilerplate.fold_case(line)
        assert any(word in folded for word in words), (line, words)
        assert boilerplate.is_boilerplate(line)

    check()


@pytest.mark.parametrize("index", range(len(_ALL_PATTERNS)))
def test_generated_boilerplate_lines_are_found(index: int) -> None:
    pattern = re.compile(_ALL_PATTERNS[index], re.IGNORECASE)

    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(
        st.from_regex(pattern, fullmatch=True)
        .map(_as_normalised)
        .flatmap(lambda s: st.sampled_from([s]) | _oddify_strategy(s))
    )
    def check(line: str) -> None:
        assert boilerplate.is_boilerplate(line) == _slow_is_boilerplate(line)
        assert boilerplate.is_boilerplate("- " + line) == _slow_is_boilerplate("- " + line)

    check()


def _lines(texts: list[str]) -> list[str]:
    lines = {" ".join(line.split()) for text in texts for line in text.replace("\r", "\n").split("\n")}
    return sorted(line for line in lines if line)


def test_is_boilerplate_is_the_union_on_every_line_of_the_corpus() -> None:
    lines = _lines(VARIANTS)
    assert len(lines) > 400
    verdicts = [boilerplate.is_boilerplate(line) for line in lines]
    assert verdicts == [_slow_is_boilerplate(line) for line in lines]
    assert 30 < sum(verdicts) < len(lines) - 300  # both answers are exercised


@pytest.mark.parametrize(
    "line",
    [
        "ALL RİGHTS RESERVED",
        "© 2024 Example Media. all r\u0131ghts re\u017ferved.",
        "Man records Barcelona van attack witnesses screaming as police respond 0:48",
        "Watch: London jogger pushes woman 1:4\u0663",  # an Arabic-Indic digit is a \d
        "Witnesses said the blast happened at 10:45",
        "A destroyed house in the village. (FILE PHOTO)(Reuters: John Davison)",
        "A destroyed house in the village. [Odelyn Joseph/AP Photo]",
        "A destroyed house in the village. [Odelyn Joseph / \u212aeystone]",
        "The aftermath of a rocket attack. PHOTOGRAPH: Reuters",
        "A market after the strike. \u0130mage credit: AFP",
        "Stay tuned with 24 News HD Android App",
        "Get the news on our \u0130PHONE APP today",
        "App Store Google Play Galaxy Store Huawei Store",
        "KINDLY DO NOT POST ANY PERSONAL, ABUSIVE, DEFAMATORY, INFRINGING, OBSCENE OR UNLAWFUL COMMENTS.",
        "Daijiworld.com will not be responsible for any defamatory message po\u017fted under this article.",
        "The police said the posts on social media were offensive and defamatory.",
        "The photo shows a destroyed house in the village.",
        "The militants used a mobile phone to detonate the bomb.",
        "• Share on Facebook",
        "Military DevelopmentsSyria",
        "",
    ],
)
def test_is_boilerplate_is_the_union_on_edge_cases(line: str) -> None:
    assert boilerplate.is_boilerplate(line) == _slow_is_boilerplate(line)


def test_without_trailing_credit_is_the_substitution() -> None:
    lines = [
        *_lines(VARIANTS),
        "Two were hurt, the governor said. (Reporting by Max Hunder; Editing by Tom Balmforth)",
        "Two were hurt. (additional REPORTING BY A)\n",
        "Two were hurt. (Writing by A)",
    ]
    assert sum(")" in line for line in lines) > 40
    for line in lines:
        assert boilerplate.without_trailing_credit(line) == boilerplate._TRAILING_CREDIT.sub("", line)
    assert boilerplate.without_trailing_credit(lines[-1]) == "Two were hurt."
