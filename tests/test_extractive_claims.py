"""Sources, claims and disputes: who says what, resolved references, contradicting accounts and counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.article import ArticleIn, Sentence, prepare
from service.engines.extractive import claims
from service.engines.extractive.claims import account_disputes, count_disputes, find_claims
from service.engines.extractive.sentences import citable
from service.engines.extractive.sources import Attribution, find_attributions
from service.text.fold import fold_case

_SIDES = {"Russian": "RU", "US": "US", "American": "US", "Syrian": "SY", "Turkish": "TR", "White House": "US"}


def _side(text: str) -> str | None:
    return next((code for word, code in _SIDES.items() if word in text), None)


def _analyse(text: str) -> tuple[list[Sentence], dict[str, list[Attribution]]]:
    sentences = citable(prepare(ArticleIn(text=text), max_chars=100_000))
    return sentences, find_attributions(sentences)


def _sources(text: str) -> list[str]:
    return [a.source for items in _analyse(text)[1].values() for a in items]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Syrian state news agency SANA reports that one civilian was killed.", ["Syrian state news agency SANA"]),
        ("The patrol left, according to Reuters.", ["Reuters"]),
        ("Local Kurdish sources report that the clash took place at a checkpoint.", ["Local Kurdish sources"]),
        ("“We returned fire,” said Colonel Miles Cuggins.", ["Colonel Miles Cuggins"]),
        ("Turkish state news agency Anadolu, in turn, reports two air strikes.", ["Turkish state news agency Anadolu"]),
        ("Information Minister Moammar al-Eryani said dozens were hurt.", ["Information Minister Moammar al-Eryani"]),
        ("The White Helmets, a rescue group operating in rebel-held areas, put the death toll at nine.",
         ["White Helmets"]),
        ("The army spokesman, Lieutenant Colonel Guillaume Ndjike, said the rebels attacked.",
         ["Lieutenant Colonel Guillaume Ndjike"]),
        ("According to other reports, police arrived.", []),
        ("The United States and its allies sent aid.", []),
    ],
)  # fmt: skip
def test_sources_are_found(text: str, expected: list[str]) -> None:
    assert _sources(text) == expected


def test_pronouns_definite_descriptions_and_surnames_resolve_to_the_named_source() -> None:
    sentences, attributions = _analyse(
        "The Russian Defense Ministry announced that the US violated agreements. “We acted,” the ministry said. "
        "The Chief of the General Staff, Valery Gerasimov, called Washington. Gerasimov pointed out that the "
        "convoy was announced. White House spokesman John Ullyot said the incident took place near Derik. "
        "“We left the area,” he said."
    )
    resolved = {s.id: [(a.source, a.citations) for a in attributions.get(s.id, [])] for s in sentences}
    assert resolved["S2"] == [("Russian Defense Ministry", ("S1", "S2"))]
    assert resolved["S4"] == [("Valery Gerasimov", ("S3", "S4"))]
    assert resolved["S6"] == [("White House spokesman John Ullyot", ("S5", "S6"))]


def test_a_quote_over_several_sentences_belongs_to_its_speaker() -> None:
    sentences, attributions = _analyse(
        "“The patrol came under fire. For self-defense, the coalition returned fire. The patrol went home,” "
        "said Colonel Miles Cuggins."
    )
    quote = attributions[sentences[-1].id][0]
    assert quote.citations == tuple(s.id for s in sentences)
    assert "self-defense" in quote.text


def test_claims_keep_every_source_and_cite_where_its_name_is() -> None:
    _, attributions = _analyse(
        "Officials said five people died. Officials said the toll may rise. Officials said more. Police said "
        "the attackers fled."
    )
    claims = find_claims(attributions)
    assert [c.source for c in claims] == ["Officials", "Officials", "Police"]
    assert claims[-1].statement == "the attackers fled."


def test_opposing_sides_that_accuse_and_defend_make_an_account_dispute() -> None:
    _, attributions = _analyse(
        "Syrian state news agency SANA reports that US forces opened fire after their vehicles were stopped. "
        "“The patrol came under fire and returned fire in self-defense,” said US Colonel Miles Cuggins."
    )
    disputes = account_disputes(attributions, _side)
    assert len(disputes) == 1 and disputes[0].topic == "who opened fire first"
    assert {p.source for p in disputes[0].positions} == {
        "Syrian state news agency SANA",
        "US Colonel Miles Cuggins",
    }


def test_sources_on_the_same_side_do_not_dispute() -> None:
    _, attributions = _analyse(
        "Russian officials said the US violated the deal. The Russian Defense Ministry said it acted in response."
    )
    assert account_disputes(attributions, _side) == []


def test_different_counts_of_strikes_make_a_count_dispute() -> None:
    sentences, attributions = _analyse(
        "The U.S. Air Force dealt at least one strike in the region. Turkish state news agency Anadolu, in "
        "turn, reports two air strikes in the area."
    )
    disputes = count_disputes(sentences, attributions)
    assert len(disputes) == 1 and disputes[0].topic == "number of strikes"
    assert [p.source for p in disputes[0].positions] == [
        "U.S. Air Force",
        "Turkish state news agency Anadolu",
    ]


def test_same_counts_do_not_dispute() -> None:
    sentences, attributions = _analyse(
        "Police said two rockets hit the city. The army said two rockets fell."
    )
    assert count_disputes(sentences, attributions) == []


def test_stance_words_grouped_by_first_letter_match_as_the_plain_alternations() -> None:
    plain = {
        claims._ACCUSE: r"\b(?:opened fire|fired (?:on|at)|attacked|violat\w*|provocat\w*|provok\w*|aggression"
        r"|aggressive|targeted|tried to (?:prevent|block)|blocked|rammed|blame[sd]?|accus\w+|responsible for"
        r"|illegal|unprovoked|shelled|bombed|war crime\w*|massacre\w*)\b",
        claims._DEFEND: r"\b(?:self-?defen[cs]e|returned fire|came under fire|de-?escalat\w*|do not seek escalation"
        r"|defend themselves|in response|necessary measures|denie[sd]|deny|retaliat\w*|(?:was|were) (?:attacked"
        r"|ambushed|fired upon)|departed the area|withdrew|pulled back|acted in accordance)\b",
    }
    data = Path(__file__).resolve().parent / "data"
    texts = [
        json.loads(line)["text"]
        for name in ("gold_articles.jsonl", "gold_heldout.jsonl", "gold_rules.jsonl")
        for line in (data / name).read_text(encoding="utf-8").splitlines()
    ]
    texts += [
        "They acted in accordance with the rules, denied it and accused the army of aggressive provocations."
    ]
    for grouped, pattern in plain.items():
        slow = re.compile(pattern)
        for text in map(fold_case, texts):
            assert [m.span() for m in grouped.finditer(text)] == [m.span() for m in slow.finditer(text)]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.from_regex(claims._EVENT_NOUN))
def test_every_event_noun_holds_an_event_stem(text: str) -> None:
    # count_disputes reads the figures of a sentence only where an event stem is: none may be missed.
    m = claims._EVENT_NOUN.search(text)
    assert m is not None
    assert claims._EVENT_STEM.search(fold_case(m.group("noun"))) is not None, m.group("noun")
