"""`PlainWordTokenizer` is syntok's tokenizer with a shortcut: it must give syntok's tokens, token for token.

Compared on every article the tests and samples hold (raw and normalised, paragraph by paragraph and whole) and
on generated text made of the characters syntok treats specially; the sentences split with it must be the
sentences split with syntok's own tokenizer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from syntok.tokenizer import Token, Tokenizer

from service import article, one_sentence
from service.article import ArticleIn, PlainWordTokenizer, prepare, split_sentences
from tests.conftest import SAMPLES

DATA = Path(__file__).resolve().parent / "data"


def _corpus() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(SAMPLES.glob("*.txt")) + sorted((DATA / "hostile").glob("*.txt")):
        texts[path.name] = path.read_text(encoding="utf-8")
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                texts[f"{path.name}:{record['id']}"] = record["text"]
    for path in sorted((DATA / "html").glob("*.html")) + sorted((DATA / "hostile").glob("*.html")):
        texts[path.name] = prepare(ArticleIn(html=path.read_text(encoding="utf-8")), max_chars=10**7).text
    return texts


CORPUS = _corpus()


def _tokens(tokens: object) -> list[tuple[str, str, int]]:
    assert not isinstance(tokens, list)  # an iterator, like syntok's
    return [(t.spacing, t.value, t.offset) for t in tokens]  # type: ignore[attr-defined]


def _same_tokens(text: str) -> None:
    reference = Tokenizer(replace_not_contraction=False)
    fast = PlainWordTokenizer(replace_not_contraction=False)
    assert _tokens(fast.tokenize(text)) == _tokens(reference.tokenize(text))


def _syntok_sentences(text: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int, int]]:
    with monkeypatch.context() as patched:
        patched.setattr(article, "_tokenizer", lambda: Tokenizer(replace_not_contraction=False))
        patched.setattr(one_sentence, "is_one_sentence", lambda paragraph: False)  # syntok on every paragraph
        return [(s.id, s.text, s.start, s.end) for s in split_sentences(text)]


def test_the_corpus_is_not_empty() -> None:
    assert len(CORPUS) >= 30
    assert sum(len(text) for text in CORPUS.values()) > 20_000


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_tokens_are_syntoks_on_every_test_article(name: str) -> None:
    raw = CORPUS[name]
    _same_tokens(raw)
    normalised = article.normalise(raw)
    for paragraph in normalised.split("\n"):
        _same_tokens(paragraph)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_sentences_are_syntoks_on_every_test_article(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for text in (CORPUS[name], article.normalise(CORPUS[name])):
        ours = [(s.id, s.text, s.start, s.end) for s in split_sentences(text)]
        assert ours == _syntok_sentences(text, monkeypatch)


# Words, punctuation syntok handles specially (hyphens, apostrophes, brackets, dots, ellipses), case changes,
# non-ASCII letters and digits, and Unicode whitespace including the zero-width space.
_PIECES = st.sampled_from(
    [
        "said", "Syria", "SDF", "al", "iPhone", "McDonald", "3rd", "2024", "U.S.", "p.m.", "Feb.", "don't",
        "n't", "’s", "'", "’", "-", "–", "—", "\u00ad", "_", ",", ";", ":", ".", "..", "...", "!", "?", "(", ")",
        "[", "]", "«", "»", "“", "”", '"', "Dêrik", "Ḥalab", "٣", "ǅ", "ß", "e\u0301", " ", "  ", "\t", "\n",
        "\n\n", "\u00a0", "\u200b", "\u2009", "\u3000", "x",
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "   ",
        "word",
        " word",
        "word ",
        "word  \t",
        "he said... then",
        "he said...",
        "wait...!",
        "x...y",
        "iPhone.",
        "McDonald's",
        "pro-government,",
        "U.S.-led",
        "(SDF)",
        "“On Monday,” he said.",
        "ok…",
        "a.b",
        "end.\u200bnext",
        "Dêrik.",
        "killed,",
        "2024).",
        "3rd",
        "AT&T",
        "don't",
        "n't",
        "'s",
        "it’s.",
        "self-defense,",
        "e.g.",
        "No. 5",
        "...",
        "....",
        "word....",
        "x\u00a0y",
        "A1b2C3",
        "aB",
        "Ab",
        "ABc",
        "abC.",
        "(said),",
        "“On",
        "mediation.”",
        "((x",
        "“éa",
        "…word",
        "—word—",
        "_word_",
        "word_",
        "¿Qué?",
        "...word",
        "(iPhone)",
        '"x..."',
        "«Dêrik»",
        "(2024)...",
        "x\u0301y",
        "\u0301x",
        "x\u0301",
        "(pro-government),",
        "19-year-old",
        "COVID-19",
        "2020-21",
        "al-Assad’s",
        "a--b",
        "-word",
        "word-",
        "-",
        "e-mail...",
        "A-Z.",
    ],
)
def test_tokens_are_syntoks_on_edge_cases(text: str) -> None:
    _same_tokens(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=40).map("".join))
def test_tokens_are_syntoks_on_generated_text(text: str) -> None:
    _same_tokens(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_tokens_are_syntoks_on_any_text(text: str) -> None:
    _same_tokens(text)


def test_a_base_offset_is_syntoks_own() -> None:
    fast = PlainWordTokenizer(replace_not_contraction=False)
    reference = Tokenizer(replace_not_contraction=False)
    text = "Gunmen attacked (at dawn) near al-Bab, officials said..."
    assert _tokens(fast.tokenize(text, 7)) == _tokens(reference.tokenize(text, 7))


def test_shortcut_tokens_are_syntok_tokens() -> None:
    tokens = list(PlainWordTokenizer().tokenize("Two soldiers were killed, officials said."))
    assert all(type(t) is Token for t in tokens)
    assert [t.value for t in tokens] == ["Two", "soldiers", "were", "killed", ",", "officials", "said", "."]
