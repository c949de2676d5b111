"""The casualty reader's prefilter: a sentence without a casualty stem states no casualty figure."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.article import ArticleIn, Sentence, prepare
from service.engines.extractive import casualties
from service.text.alternation import split_alternatives

DATA = Path(__file__).resolve().parent / "data"
_WORD_PATTERNS = ["_PASSIVE", "_ACTIVE", "_LEFT_STATE", "_TOLL", "_COUNT_NOUN"]


@pytest.mark.parametrize("name", _WORD_PATTERNS)
def test_every_match_of_a_casualty_word_pattern_holds_a_stem(name: str) -> None:
    pattern: re.Pattern[str] = getattr(casualties, name)

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(st.from_regex(pattern))
    def check(text: str) -> None:
        m = pattern.search(text)
        assert m is not None
        if "verb" in pattern.groupindex and m.group("verb") in ("left", "leaving"):
            return  # "left"/"leaving" count only with `_LEFT_STATE` after them, checked on its own
        word = (
            m.group("verb")
            if "verb" in pattern.groupindex
            else m.group("noun")
            if "noun" in pattern.groupindex
            else m.group(0)
        )
        assert casualties._CASUALTY_STEM.search(m.group(0)) is not None, m.group(0)
        assert casualties._CASUALTY_STEM.search(" " + word) is not None, word

    check()


def _group_body(pattern: str, name: str) -> str:
    """The text inside the named group `name` of `pattern`."""
    start = pattern.index(f"(?P<{name}>") + len(name) + 5
    depth, i = 1, start
    while depth:
        if pattern[i] == "\\":
            i += 2
            continue
        depth += {"(": 1, ")": -1}.get(pattern[i], 0)
        i += 1
    return pattern[start : i - 1]


def _alternatives(pattern: str) -> list[str]:
    """Every top-level alternative, and those of groups opening an alternative, as plain text."""
    found = []
    for part in split_alternatives(pattern):
        if part.startswith("(?:") and part.endswith(")"):
            found += _alternatives(part[3:-1])
        else:
            found.append(part)
    return found


def test_every_casualty_word_holds_a_stem() -> None:
    words = [
        *_alternatives(casualties._KILLED),
        *_alternatives(casualties._INJURED),
        *_alternatives(_group_body(casualties._ACTIVE.pattern, "verb")),
        *_alternatives(_group_body(casualties._COUNT_NOUN.pattern, "noun")),
    ]
    assert len(words) > 35
    for word in words:
        if word in ("left", "leaving"):
            continue  # they count only with `_LEFT_STATE` after them
        assert casualties._CASUALTY_STEM.match(word) is not None, word  # at the word's start


def test_the_prefilter_changes_no_reading_of_the_gold_sentences(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = []
    for name in ("gold_articles.jsonl", "gold_heldout.jsonl", "gold_rules.jsonl"):
        texts += [json.loads(line)["text"] for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    sentences = [s for t in texts for s in prepare(ArticleIn(text=t), max_chars=1_000_000).sentences]
    sentences += [Sentence(s.id, s.text.upper(), s.start, s.end) for s in sentences]
    fast = [casualties.reports_in(s, None) for s in sentences]
    monkeypatch.setattr(casualties, "_CASUALTY_STEM", re.compile(""))  # matches everywhere: no prefilter
    assert [casualties.reports_in(s, None) for s in sentences] == fast
    assert sum(map(len, fast)) > 50
