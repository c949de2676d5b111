"""Casualty figures: ACLED's vague words, number words, qualifiers, groups, sources, no double counting."""

from __future__ import annotations

import pytest

from service.article import ArticleIn, Sentence, prepare
from service.engines.extractive.casualties import incident_reports, reports_in
from service.engines.extractive.casualty_tally import category, tally
from service.engines.extractive.sentences import citable
from service.engines.extractive.sources import find_attributions
from service.schema import Casualties, Dispute


def _sentence(text: str) -> Sentence:
    return Sentence("S1", text, 0, len(text))


def _figures(text: str) -> list[tuple[str, int | None, int | None, int | None, str]]:
    return [
        (r.kind, r.count.low, r.count.best, r.count.high, r.group) for r in reports_in(_sentence(text), None)
    ]


CASES = [
    ("Several US soldiers were injured in an accident.", [("injured", 2, 2, None, "US soldiers")]),
    ("Dozens of people were killed in the raid.", [("killed", 12, 12, None, "people")]),
    ("At least four civilians died in the shelling.", [("killed", 4, 4, None, "civilians")]),
    ("Twenty-one worshippers were killed.", [("killed", 21, 21, 21, "worshippers")]),
    ("The blast killed 12 soldiers and wounded 5 others.",
     [("killed", 12, 12, 12, "soldiers"), ("injured", 5, 5, 5, "soldiers")]),
    ("One civilian was killed and another wounded.",
     [("killed", 1, 1, 1, "civilian"), ("injured", 1, 1, 1, "civilian")]),
    ("Five soldiers and three civilians were killed.",
     [("killed", 5, 5, 5, "soldiers"), ("killed", 3, 3, 3, "civilians")]),
    ("The bombing left 7 people dead and 20 injured.",
     [("killed", 7, 7, 7, "people"), ("injured", 20, 20, 20, "people")]),
    ("The death toll rose to 15.", [("killed", 15, 15, 15, "people")]),
    ("Between 5 and 10 villagers were killed.", [("killed", 5, None, 10, "villagers")]),
    ("More than 30 people were killed.", [("killed", 31, 31, None, "people")]),
    ("A police officer was killed.", [("killed", 1, 1, 1, "police officer")]),
    ("One wounded from the Syrian army was taken to a hospital.", [("injured", 1, 1, 1, "Syrian army")]),
    ("No one was hurt in the raids.", [("injured", 0, 0, 0, "people")]),
    ("A third passenger was hospitalised with shrapnel wounds.", [("injured", 1, 1, 1, "third passenger")]),
    ("Militants killed 12 people, including five children.", [("killed", 12, 12, 12, "people")]),
    # Lists: each count gets the verb of the list; a unit's acronym in brackets is part of its name.
    ("Five soldiers, two policemen and three civilians were killed.",
     [("killed", 5, 5, 5, "soldiers"), ("killed", 2, 2, 2, "policemen"), ("killed", 3, 3, 3, "civilians")]),
    ("The attack left a child, three women, and 10 insurgents dead.",
     [("killed", 1, 1, 1, "child"), ("killed", 3, 3, 3, "women"), ("killed", 10, 10, 10, "insurgents")]),
    ("Gunmen killed a soldier and two civilians near the town.",
     [("killed", 1, 1, 1, "soldier"), ("killed", 2, 2, 2, "civilians")]),
    ("Ten District Reserve Guard (DRG) personnel and a driver were killed.",
     [("killed", 10, 10, 10, "District Reserve Guard (DRG) personnel"), ("killed", 1, 1, 1, "driver")]),
    ("Police fired, killing one man and injuring at least 12 others, a rights group said.",
     [("killed", 1, 1, 1, "man"), ("injured", 12, 12, None, "man")]),
    ("Gunmen on motorcycles shot dead five traders.", [("killed", 5, 5, 5, "traders")]),
    # Figures after the sentence turns to an earlier incident are that incident's.
    ("A police officer was shot dead, weeks after an attack killed 12 officers.",
     [("killed", 1, 1, 1, "police officer")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_figures_are_read_as_acled_does(text: str, expected: list) -> None:
    assert _figures(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The officials said the injuries were not caused by shooting.",
        "About 500 US soldiers remain in northern Syria.",
        "The US Air Force dealt at least one strike in the region.",
        "Two US officials revealed on Wednesday that the patrol left.",
        "The war has killed more than 500,000 people since 2011.",
        "The attack destroyed 40 percent of the market.",
        "The feud has left hundreds dead since September.",
        "The blast went off in a market, killing and injuring more than 10 people.",
        "Twelve people were killed or injured in the attack.",
        "The shelling caused 12 casualties among the defenders.",
        "At least 1,692 civilians have been killed in fighting in the first half of the year.",
        "In September alone, 216 people were killed.",
    ],
)
def test_numbers_that_are_not_casualties_are_ignored(text: str) -> None:
    assert _figures(text) == []


def _summarize(text: str) -> tuple[list[Casualties], list[Dispute]]:
    article = prepare(ArticleIn(text=text), max_chars=100_000)
    sentences = citable(article)
    attributions = find_attributions(sentences)
    reports = incident_reports(sentences, attributions)
    return tally(reports)


def _killed(entries: list[Casualties]) -> int:
    return sum(e.killed.best if e.killed.best is not None else e.killed.low or 0 for e in entries if e.killed)


def test_one_death_reported_twice_is_counted_once() -> None:
    entries, _ = _summarize(
        "The US military killed one person at the checkpoint. SANA reports that one civilian was killed."
    )
    assert _killed(entries) == 1
    assert [e.group for e in entries if e.killed] == ["civilian"]
    assert entries[0].reported_by == "SANA"


def test_different_groups_add_up_across_sentences() -> None:
    entries, _ = _summarize(
        "Militants attacked a checkpoint, killing three policemen. Two of the attackers were killed when police "
        "returned fire."
    )
    assert _killed(entries) == 5


def test_an_overall_toll_replaces_smaller_group_figures() -> None:
    entries, _ = _summarize(
        "At least 21 people were killed in the blast, officials said. Among the dead was a woman of 62."
    )
    assert _killed(entries) == 21


def test_sources_with_different_figures_make_a_dispute_and_each_figure_names_its_source() -> None:
    entries, disputes = _summarize(
        "A car bomb killed eight people, police said. Hospital officials said they had received the bodies of "
        "10 people."
    )
    assert _killed(entries) == 10
    assert entries[0].reported_by == "Hospital officials"
    assert len(disputes) == 1
    assert {p.source for p in disputes[0].positions} == {"police", "Hospital officials"}


def test_exact_figures_beat_vague_ones_for_the_same_group() -> None:
    entries, _ = _summarize(
        "Several soldiers were killed, the army said. The army later said 4 soldiers died."
    )
    assert _killed(entries) == 4


@pytest.mark.parametrize(
    ("group", "expected"),
    [("US soldiers", "state forces"), ("villagers", "civilians"), ("attackers", "armed group"),
     ("people", "unspecified"), ("police officer", "state forces")],
)  # fmt: skip
def test_groups_fall_into_categories(group: str, expected: str) -> None:
    assert category(group) == expected


def test_groups_of_one_kind_listed_in_one_sentence_add_up() -> None:
    entries, _ = _summarize("The attack left a child, three women, and 10 insurgents dead.")
    assert _killed(entries) == 14
    entries, _ = _summarize(
        "Five soldiers, two policemen and three civilians were killed. Five soldiers died."
    )
    assert _killed(entries) == 10
