"""End-anchored cue patterns are tried only where the window's last word can end a match: each listed set of
last words must hold the last word of every match of its pattern."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.engines.extractive import casualties, place_mentions
from service.engines.extractive.ending_cues import EndingCue, last_word

CUES = {
    **{
        f"place_mentions.{name}": getattr(place_mentions, name)
        for name in ("_BEFORE_SITE", "_BEFORE_ATTACK", "_BEFORE_ORIGIN", "_BEFORE_REFERENCE", "_TYPE_BEFORE")
    },
    **{
        f"casualties.{name}": getattr(casualties, name)
        for name in ("_ACTIVE_CUE", "_MIXED_BEFORE_CUE", "_SUBGROUP_CUE", "_NEGATED_CUE")
    },
}


@pytest.mark.parametrize("name", sorted(CUES))
def test_every_match_ends_with_a_listed_word(name: str) -> None:
    cue: EndingCue = CUES[name]

    @settings(max_examples=250, deadline=None, derandomize=True)
    @given(st.from_regex(cue.pattern))
    def check(window: str) -> None:
        assert cue.pattern.search(window) is not None
        assert last_word(window) in cue.last_words, (window, last_word(window))

    check()


@pytest.mark.parametrize(
    ("window", "word"),
    [("fled to the  ", "the"), ("near\n", "near"), ("(in ", "in"), ("x-in", "in"), ("in2 ", ""), ("", ""),
     ("the village of\u00a0", "of")],
)  # fmt: skip
def test_last_word(window: str, word: str) -> None:
    assert last_word(window) == word


def test_a_cue_answers_as_its_pattern_on_real_windows() -> None:
    windows = [
        "attacks on the village of ",
        "in the northern town of ",
        "10 km north of ",
        "fled to ",
        "said ",
    ]
    for cue in CUES.values():
        for window in windows:
            assert cue.search(window) == cue.pattern.search(window) or (
                cue.search(window) is not None
                and cue.pattern.search(window) is not None
                and cue.search(window).span() == cue.pattern.search(window).span()
            )
