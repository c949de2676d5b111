"""Counts in news text: digits, number words, qualifiers, ranges and ACLED's vague quantities."""

from __future__ import annotations

import re
import sys

import pytest

from service.text import fold, numbers
from service.text.fold import fold_case
from service.text.numbers import VAGUE, StatedFigures, find_quantities, number_value, supported_values
from tests.conftest import gold_sentences_and_variants


@pytest.mark.parametrize(
    ("words", "value"),
    [("12", 12), ("1,200", 1200), ("four", 4), ("twenty-one", 21), ("two hundred and five", 205),
     ("three thousand", 3000), ("Eleven", 11), ("several", None), ("", None)],
)  # fmt: skip
def test_number_value(words: str, value: int | None) -> None:
    assert number_value(words) == value


@pytest.mark.parametrize(
    ("text", "low", "best", "high", "vague"),
    [
        ("at least four killed", 4, 4, None, False),
        ("no fewer than 10 soldiers", 10, 10, None, False),
        ("more than 30 people", 31, 31, None, False),
        ("up to 50 people", None, 50, 50, False),
        ("about 20 attackers", 20, 20, 20, False),
        ("between 5 and 10 villagers", 5, None, 10, False),
        ("10-15 fighters", 10, None, 15, False),
        ("several US soldiers", 2, 2, None, True),
        ("dozens of people", 12, 12, None, True),
        ("a dozen houses", 12, 12, None, True),
        ("a number of civilians", 2, 2, None, True),
        ("scores of wounded", 20, 20, None, True),
        ("nearly two dozen people", None, 24, 24, False),
        ("three dozen villagers", 36, 36, 36, False),
        ("half a dozen soldiers", 6, 6, None, True),
        ("on 2019-09-16 gunmen shot dead five", 5, 5, 5, False),
        ("on 25/08/2020 at 10:30 three died", 3, 3, 3, False),
    ],
)
def test_find_quantities_applies_qualifiers(
    text: str, low: int | None, best: int | None, high: int | None, vague: bool
) -> None:
    (q,) = find_quantities(text)
    assert (q.low, q.best, q.high, q.vague) == (low, best, high, vague)
    assert text[q.start : q.end] == q.text


def test_quantities_in_a_sentence_are_in_order_with_offsets() -> None:
    text = "Five soldiers and 3 civilians were killed, and dozens were hurt."
    found = find_quantities(text)
    assert [(q.text, q.best) for q in found] == [("Five", 5), ("3", 3), ("dozens", 12)]


def test_text_without_any_count_has_none() -> None:
    assert find_quantities("The ministry condemned the attack.") == []
    assert find_quantities("") == []


def test_results_are_fresh_lists() -> None:
    first = find_quantities("two people")
    first.clear()
    assert len(find_quantities("two people")) == 1


def test_supported_values_cover_bounds_articles_and_negation() -> None:
    assert supported_values("more than 30 people") == {30, 31}
    assert {1, 2} <= supported_values("a soldier and two civilians were killed")
    assert 1 in supported_values("Gunmen shot dead a policeman.")
    assert 1 not in supported_values("The army said a convoy passed the area.")  # an article is not a count
    assert 0 in supported_values("No one was killed.")
    assert supported_values("several injured") == {2}
    # one death in the singular, without an article before a harm word
    for one in (
        "Gunmen assassinated a member of the local council.",
        "The quarter head has reportedly died after he was shot.",
        "Ferdinand Ba has reportedly died after he was shot.",
        "Ahmed Ali was found dead near the river.",
        "The driver was later confirmed dead.",
    ):
        assert 1 in supported_values(one), one
    assert 1 not in supported_values("Ahmed Ali was found alive near the river.")
    assert 1 not in supported_values("Soldiers have died in the clashes.")


def test_vague_words_follow_the_product_mapping() -> None:
    assert VAGUE["several"] == 2 and VAGUE["dozens"] == 12 and VAGUE["a number of"] == 2


def test_counts_are_read_in_any_letter_case_and_keep_the_articles_spelling() -> None:
    (q,) = find_quantities("AT LEAST FOUR soldiers")
    assert (q.text, q.low, q.best, q.high) == ("AT LEAST FOUR", 4, 4, None)
    (q,) = find_quantities("Between Twenty-One and 30 people")
    assert (q.text, q.low, q.high) == ("Between Twenty-One and 30", 21, 30)
    assert [q.text for q in find_quantities("DOZENS were hurt")] == ["DOZENS"]
    assert supported_values("NO ONE was killed, A soldier said") >= {0, 1}


def test_the_case_fold_equates_exactly_the_letters_ignorecase_equates() -> None:
    everything = "".join(chr(c) for c in range(128, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    odd = {
        ch: letter for letter in "abcdefghijklmnopqrstuvwxyz" for ch in re.findall(letter, everything, re.I)
    }
    assert odd == fold._ODD_CASES
    text = "Seven \u017foldiers and \u0130N ALL 5 were \u212aILLED"
    folded = fold_case(text)
    assert len(folded) == len(text) and folded == "seven soldiers and in all 5 were killed"
    reference = re.compile(numbers._QUANTITY.pattern, re.IGNORECASE)
    assert [m.span() for m in numbers._QUANTITY.finditer(folded)] == [
        m.span() for m in reference.finditer(text)
    ]


def test_supported_values_are_a_fresh_set_every_time() -> None:
    first = supported_values("two people were killed")
    first.add(99)
    assert supported_values("two people were killed") == {2}


def _sentences() -> list[str]:
    return [
        *gold_sentences_and_variants(),
        "Both soldiers died.",
        "No one was hurt.",
        "A soldier was killed.",
    ]


def test_stated_figures_are_the_supported_values_of_their_sentences() -> None:
    """`StatedFigures` answers as the union of `supported_values` would, for one sentence and for several."""
    sentences = _sentences()
    groups = [[s] for s in sentences] + [sentences[i : i + 3] for i in range(0, len(sentences), 3)]
    for group in groups:
        union = set().union(*map(supported_values, group))
        stated = StatedFigures(group)
        for figure in [*range(-1, 40), 50, 99, 100, 101, 1000, *union]:
            assert (figure in stated) == (figure in union), (group, figure)
        for least in [*range(0, 15), 50, 100, 1000, *union]:
            assert stated.any_at_least(least) == any(v >= least for v in union), (group, least)
    assert StatedFigures([]).any_at_least(0) is False and 1 not in StatedFigures([])


def test_a_written_figure_is_found_without_reading_the_wording(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wording ("a soldier", "both", "no one") is read only when 0, 1 or 2 is asked about and not written:
    most checks never pay for it."""
    read: list[str] = []

    def worded(text: str) -> frozenset[int]:
        read.append(text)
        return frozenset({1})

    monkeypatch.setattr(numbers, "worded_values", worded)
    stated = StatedFigures(["Gunmen killed 12 villagers and a soldier; 1 policeman was hurt."])
    assert 12 in stated and 1 in stated and 13 not in stated and stated.any_at_least(12)
    assert read == []
    assert 0 not in stated  # 0 is not written: the wording is read, once
    assert 2 not in stated
    assert len(read) == 1
