"""Grounding: each rule accepts what the cited sentences support and rejects what they do not."""

from __future__ import annotations

from typing import Any

import pytest

from service.article import ArticleIn, prepare
from service.grounding import check, name_in_text
from service.schema import IncidentSummary

TEXT = (
    "Gunmen killed at least four soldiers near the town of Kamyshly on February 12th, officials said.\n"
    "Several civilians were wounded, according to SANA.\n"
    "The U.S.-led coalition said its patrol returned fire.\n"
    "Dozens of people fled the village.\n"
    "No one was killed in the second incident."
)
ARTICLE = prepare(ArticleIn(text=TEXT), max_chars=10_000)


def summary(**overrides: Any) -> IncidentSummary:
    data: dict[str, Any] = {
        "headline": "Soldiers killed near Kamyshly",
        "summary": [{"text": "Gunmen killed at least four soldiers.", "citations": ["S1"]}],
        "event_type": "battles",
        "sub_event_type": "armed_clash",
        "date": {
            "start": "--02-12",
            "end": "--02-12",
            "precision": "day",
            "text": "February 12th",
            "citations": ["S1"],
        },
        "locations": [
            {
                "name": "Kamyshly",
                "admin1": "Al-Hasakah",
                "country": "Syria",
                "role": "incident_site",
                "citations": ["S1"],
            }
        ],
        "actors": [
            {
                "name": "US-led coalition",
                "kind": "external_forces",
                "role": "responder",
                "affiliation": None,
                "citations": ["S3"],
            }
        ],
        "casualties": [
            {
                "group": "soldiers",
                "killed": {"low": 4, "best": 4, "high": None},
                "injured": None,
                "reported_by": "officials",
                "citations": ["S1"],
            },
            {
                "group": "civilians",
                "killed": None,
                "injured": {"low": 2, "best": 2, "high": None},
                "reported_by": "SANA",
                "citations": ["S2"],
            },
        ],
        "claims": [{"source": "SANA", "statement": "Several civilians were wounded.", "citations": ["S2"]}],
        "disputes": [],
    }
    data.update(overrides)
    return IncidentSummary.model_validate(data)


def rules(s: IncidentSummary) -> set[tuple[str, str]]:
    return {(v.path, v.rule) for v in check(s, ARTICLE)}


def test_a_grounded_summary_has_no_violations() -> None:
    assert check(summary(), ARTICLE) == []


def test_unknown_citation_is_reported_with_its_path() -> None:
    s = summary(summary=[{"text": "Gunmen attacked.", "citations": ["S1", "S99"]}])
    violations = check(s, ARTICLE)
    assert [(v.path, v.rule) for v in violations] == [("summary[0].citations[1]", "unknown_citation")]
    assert "S1..S5" in violations[0].detail


def test_casualty_figure_not_in_cited_sentence() -> None:
    s = summary(
        casualties=[
            {
                "group": "soldiers",
                "killed": {"low": 7, "best": 7, "high": 7},
                "injured": None,
                "reported_by": None,
                "citations": ["S1"],
            }
        ]
    )
    assert rules(s) == {
        ("casualties[0].killed.low", "number_not_in_citations"),
        ("casualties[0].killed.best", "number_not_in_citations"),
        ("casualties[0].killed.high", "number_not_in_citations"),
    }


def test_figure_cited_from_the_wrong_sentence_fails() -> None:
    s = summary(
        casualties=[
            {
                "group": "soldiers",
                "killed": {"low": 4, "best": 4, "high": None},
                "injured": None,
                "reported_by": None,
                "citations": ["S3"],
            }
        ]
    )
    assert ("casualties[0].killed.low", "number_not_in_citations") in rules(s)


@pytest.mark.parametrize(
    ("citation", "rng"),
    [
        ("S2", {"low": 2, "best": 2, "high": None}),  # "several"
        ("S4", {"low": 12, "best": 12, "high": None}),  # "dozens"
        ("S5", {"low": 0, "best": 0, "high": 0}),  # "no one was killed"
    ],
)
def test_vague_quantities_and_zero_are_grounded(citation: str, rng: dict[str, int | None]) -> None:
    s = summary(
        casualties=[
            {"group": "people", "killed": rng, "injured": None, "reported_by": None, "citations": [citation]}
        ]
    )
    assert rules(s) == set()


def test_statement_numbers_must_be_in_citations() -> None:
    s = summary(summary=[{"text": "Gunmen killed 14 soldiers.", "citations": ["S1"]}])
    assert rules(s) == {("summary[0].text", "number_not_in_citations")}


def test_place_and_actor_names_must_be_in_citations() -> None:
    s = summary(
        locations=[
            {
                "name": "Aleppo",
                "admin1": None,
                "country": "Syria",
                "role": "incident_site",
                "citations": ["S1"],
            }
        ],
        actors=[
            {
                "name": "Wagner Group",
                "kind": "external_forces",
                "role": "initiator",
                "affiliation": None,
                "citations": ["S3"],
            }
        ],
    )
    assert rules(s) == {
        ("locations[0].name", "name_not_in_citations"),
        ("actors[0].name", "name_not_in_citations"),
    }


def test_date_text_must_be_copied_from_a_cited_sentence() -> None:
    s = summary(
        date={
            "start": "--02-13",
            "end": "--02-13",
            "precision": "day",
            "text": "February 13th",
            "citations": ["S1"],
        }
    )
    assert rules(s) == {("date.text", "date_text_not_in_citations")}


def test_claim_source_must_be_in_citations() -> None:
    s = summary(claims=[{"source": "Anadolu", "statement": "Civilians were wounded.", "citations": ["S2"]}])
    assert rules(s) == {("claims[0].source", "name_not_in_citations")}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("US-led coalition", "the U.S.-led coalition said", True),
        ("Qamishli", "near the city of Qamishli", True),
        ("Kamishli", "near the city of Kamishly", True),
        ("Russian military police", "units of the Russian military police arrived", True),
        ("National Defense Forces", "checkpoint of the National Defense Forces (militias", True),
        ("Islamic State", "the Syrian army said", False),
        ("Aleppo", "near Idlib", False),
        # every direction word tells two places apart, "northwestern" as much as "north"
        ("Northwestern Kivu province", "fighting in Kivu province", False),
        ("Northwestern Kivu province", "fighting in northwestern Kivu province", True),
    ],
)
def test_fuzzy_name_matching(name: str, text: str, expected: bool) -> None:
    assert name_in_text(name, text) is expected
