"""ACLED event type and sub-type from cue words; the sub-type always belongs to the type."""

from __future__ import annotations

import pytest

from service.article import Sentence
from service.engines.extractive import event_type
from service.engines.extractive.event_type import classify
from service.schema import SUB_EVENT_TYPES
from service.text.fold import fold_case


def _classify(*texts: str, killed: int = 0) -> tuple[str, str | None]:
    return classify([Sentence(f"S{i + 1}", t, 0, len(t)) for i, t in enumerate(texts)], killed)


CASES = [
    (["Syrian and U.S Forces in Shootout", "The patrol came under fire and returned fire.",
      "The firing was followed by an air strike on a village."], ("battles", "armed_clash")),
    (["Warplanes carried out air strikes on the town, killing seven civilians."],
     ("explosions_remote_violence", "air_drone_strike")),
    (["A roadside bomb struck an army patrol, killing two soldiers."],
     ("explosions_remote_violence", "remote_explosive_landmine_ied")),
    (["A suicide bomber blew himself up inside a mosque, killing 21 people."],
     ("explosions_remote_violence", "suicide_bomb")),
    (["Russian shelling of the city killed three people.", "Forces fired artillery and rockets."],
     ("explosions_remote_violence", "shelling_artillery_missile_attack")),
    (["Troops torched the village, killing three villagers.", "Soldiers opened fire on villagers who fled."],
     ("violence_against_civilians", "attack")),
    (["Gunmen kidnapped 20 students from a school."], ("violence_against_civilians", "abduction_forced_disappearance")),
    (["Thousands of demonstrators marched peacefully to parliament."], ("protests", "peaceful_protest")),
    (["Police fired tear gas and live bullets at protesters, killing one man."],
     ("protests", "excessive_force_against_protesters")),
    (["Security forces arrested 15 suspected militants in raids."], ("strategic_developments", "arrests")),
    (["Russia blames US for troops injured in vehicle collision in Syria",
      "The officials said the injuries were not caused by shooting and were a result of a vehicle collision."],
     ("strategic_developments", "other")),
    (["Rebels seized the town after the army withdrew, fighters said."],
     ("battles", "non_state_actor_overtakes_territory")),
    (["The committee approved the budget."], ("other", None)),
    (["A drone attack on a car killed two civilians."], ("explosions_remote_violence", "air_drone_strike")),
    (["Riot police used tear gas to clear protesters from the road."], ("protests", "protest_with_intervention")),
    (["Gunmen kill six in bar shooting", "Gunmen burst into a bar and opened fire on customers."],
     ("violence_against_civilians", "attack")),
    # Victims that are not combatants, and gunmen with no armed opponent.
    (["Gunmen on motorcycles shot dead five traders at a cattle market late on Thursday."],
     ("violence_against_civilians", "attack")),
    (["An incursion into the village kills ten people, residents said."], ("violence_against_civilians", "attack")),
    (["A gunman killed eight people at a shopping centre before police shot him."],
     ("violence_against_civilians", "attack")),
    (["Police said the shooter fired dozens of rounds during the mass shooting."],
     ("violence_against_civilians", "attack")),
    # Security forces as targets: an armed engagement.
    (["Unidentified gunmen shot dead two police officers at a checkpoint."], ("battles", "armed_clash")),
    (["Militants stormed an army base overnight, the ministry said."], ("battles", "armed_clash")),
    (["An assault on a police station left four dead."], ("battles", "armed_clash")),
    # ... and in the passive, or as "the death of": a security force's members were the victims.
    (["Two border guards were killed in an attack by unknown assailants near the crossing."],
     ("battles", "armed_clash")),
    (["A police constable was shot dead by militants near the market on Sunday."], ("battles", "armed_clash")),
    (["Activists documented the death of three fighters of a local militia near the dam."],
     ("battles", "armed_clash")),
    # Civilians as the victims, in the passive; an air attack is an air strike.
    (["Two paramedics were executed and their ambulance set on fire, witnesses said."],
     ("violence_against_civilians", "attack")),
    (["Eleven insurgents were killed during an air attack on their hideout, the corps said."],
     ("explosions_remote_violence", "air_drone_strike")),
    (["Four persons, including a child, have been reportedly killed in the night raid."],
     ("violence_against_civilians", "attack")),
    (["The bodies of three men, including a teacher, were found near the highway."],
     ("violence_against_civilians", "attack")),
    # Strikes and explosives.
    (["An Israeli strike on a house killed six people."], ("explosions_remote_violence", "air_drone_strike")),
    (["Attackers planted explosives under the bridge, killing two passers-by."],
     ("explosions_remote_violence", "remote_explosive_landmine_ied")),
    (["Police seized explosives and rifles in the raids, which met no resistance."],
     ("strategic_developments", "disrupted_weapons_use")),
    # Rioters and stone pelting, even where police answered with tear gas.
    (["Rioters torched shops and police fired tear gas to disperse them."], ("riots", "violent_demonstration")),
    (["Two people were hurt in stone pelting during a communal clash in the old city."],
     ("riots", "violent_demonstration")),
]  # fmt: skip


@pytest.mark.parametrize(("texts", "expected"), CASES)
def test_event_types(texts: list[str], expected: tuple[str, str | None]) -> None:
    assert _classify(*texts) == expected


def test_a_cue_struck_out_by_a_later_rule_leaves_no_zero_vote_behind() -> None:
    # "seized" alone, with no armed actor, votes for nothing; the look-up of the civilians' vote added a 0.
    assert _classify("Weapons and documents were seized during the search, which met no resistance.") == (
        "other",
        None,
    )


def test_a_negated_cue_does_not_vote() -> None:
    assert _classify("The injuries were not caused by shooting.", "The vehicles collided.") == (
        "strategic_developments",
        "other",
    )


def test_deaths_make_a_collision_more_than_a_confrontation() -> None:
    texts = ("Two patrols collided and soldiers opened fire, killing two.",)
    assert _classify(*texts, killed=2)[0] == "battles"


@pytest.mark.parametrize(("texts", "expected"), CASES)
def test_sub_type_belongs_to_type(texts: list[str], expected: tuple[str, str | None]) -> None:
    event_type, sub_type = _classify(*texts)
    assert sub_type is None or sub_type in SUB_EVENT_TYPES[event_type]


def test_every_cue_that_matches_a_sentence_is_a_candidate_for_it() -> None:
    """A cue runs only on sentences with one of its trigger words: a trigger list that misses a word the
    pattern can match would silently skip the cue."""
    sentences = [text for texts, _ in CASES for text in texts]
    for text in sentences:
        folded = fold_case(text)
        matching = {i for i, cue in enumerate(event_type._CUES) if cue.pattern.search(folded)}
        assert matching <= set(event_type._candidate_cues(text)), text
