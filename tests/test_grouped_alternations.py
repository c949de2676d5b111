"""Word alternations grouped by first letter (`alternation.by_first_letter`) find what the plain ones find."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from service.engines.extractive import actors, cues, source_phrases
from service.text.fold import fold_case

DATA = Path(__file__).resolve().parent / "data"


def _texts() -> list[str]:
    texts = [
        json.loads(line)["text"]
        for name in ("gold_articles.jsonl", "gold_heldout.jsonl", "gold_rules.jsonl")
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
    ]
    made_up = (
        " ".join(sorted(actors._HEADS))
        + ". "
        + ", ".join(re.sub(r"[()?:|]", " ", cues.REPORTING_VERBS).split())
    )
    return [
        *texts,
        made_up,
        made_up.upper(),
        "According to police, officials said the soldiers, troopers and militiamen",
    ]


@pytest.mark.parametrize(
    ("grouped", "plain", "folded"),
    [
        (actors._HEAD, rf"\b(?:{actors._HEAD_RE})\b", True),
        (
            source_phrases._VERB,
            rf"\b(?=[{source_phrases._VERB_LETTERS}])(?P<verb>{cues.REPORTING_VERBS}|[Aa]ccording to)\b",
            False,
        ),
    ],
)
def test_grouped_patterns_match_as_the_plain_ones(grouped: re.Pattern[str], plain: str, folded: bool) -> None:
    slow = re.compile(plain)
    for text in _texts():
        subject = fold_case(text) if folded else text
        assert [m.span() for m in grouped.finditer(subject)] == [m.span() for m in slow.finditer(subject)]
