"""Rules for articles the engine has never seen (issue 16), each on made-up text: casualty forms (a victim
without a numeral, a subject far from its verb, nominal deaths, "neutralized"), numbers that are no counts
(units, ages, years), tallies over a period or many incidents, the body over the headline, another incident's
figures; the incident date (hours ago, since/until/every, old background dates); villages the gazetteer lacks."""

from __future__ import annotations

from datetime import date

import pytest

from service.article import ArticleIn, Sentence, prepare
from service.engines.extractive import ExtractiveEngine, places
from service.engines.extractive.casualties import _tally_reader, incident_reports, tallies
from service.engines.extractive.dates import find_event_date
from service.engines.extractive.gazetteer import Gazetteer
from service.engines.extractive.place_mentions import find_mentions
from service.engines.extractive.places import article_countries
from service.engines.extractive.sentences import citable, find_dateline
from service.schema import DateInfo, IncidentSummary
from tests.conftest import locations_in


def _figures(text: str) -> list[tuple[str, int | None, str]]:
    return [
        (r.kind, r.count.best, r.group) for r in incident_reports([Sentence("S1", text, 0, len(text))], {})
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a subject with its numeral, separated from the verb
        ("Three fighters of the Free Valley Army were killed on Tuesday.",
         [("killed", 3, "fighters of the Free Valley Army")]),
        ("Four members of the Kasimba Defence Group (KDG) were killed in the raid.",
         [("killed", 4, "members of the Kasimba Defence Group (KDG)")]),
        # one victim without a numeral
        ("A farmer in the northern district was shot dead by gunmen.", [("killed", 1, "farmer")]),
        ("Observers documented the death of a civilian near the market.", [("killed", 1, "civilian")]),
        ("Gunmen opened fire on the trader, killing him instantly.", [("killed", 1, "person")]),
        ("Police said Musa Danjuma was shot dead outside his shop.", [("killed", 1, "person")]),
        # nominal and military verbs
        ("The raid resulted in the death of four rebels and the wounding of two others.",
         [("killed", 4, "rebels"), ("injured", 2, "rebels")]),
        ("Troops neutralized 14 terrorists in the forest.", [("killed", 14, "terrorists")]),
        ("In the operation, 80 militants were eliminated.", [("killed", 80, "militants")]),
        ("Police shot and martyred a driver at the gate.", [("killed", 1, "driver")]),
        ("A commander with his six guards were killed in the ambush.",
         [("killed", 1, "commander"), ("killed", 6, "guards")]),
        ("Ngozi Eze, a retired teacher, was shot dead at her gate.", [("killed", 1, "retired teacher")]),
        ("Two soldiers of the Fifth Battalion have died in hospital.",
         [("killed", 2, "soldiers of the Fifth Battalion")]),
        # zero
        ("The shells hit the market but no casualties were reported.", [("killed", 0, "people")]),
    ],
)  # fmt: skip
def test_casualty_forms(text: str, expected: list[tuple[str, int | None, str]]) -> None:
    assert _figures(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a unit's number, an age, a year, an address: no count
        ("Troops of 21 Armoured Brigade killed two gunmen.", [("killed", 2, "gunmen")]),
        ("Residents said Ali Kamara, 34, a member of the guard, was killed.",
         [("killed", 1, "member of the guard")]),
        ("Soldiers were killed in 2016 and the base was closed.", []),
        ("A man was shot dead at house number 12 in the street.", [("killed", 1, "man")]),
        # things are no victims; the killers are no victims ("have killed" is active)
        ("More than 130 airstrikes were executed by the jets.", []),
        ("A few moments ago a man was executed inside the hotel.", [("killed", 1, "man")]),
        ("Two gunmen of the faction have killed a young man in the city.", [("killed", 1, "young man")]),
        # a subgroup chained by "and" is among those counted, not added
        ("Gunmen killed 23 villagers, including 7 children and 4 women.", [("killed", 23, "villagers")]),
    ],
)  # fmt: skip
def test_numbers_that_name_things_are_no_counts(
    text: str, expected: list[tuple[str, int | None, str]]
) -> None:
    assert _figures(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "These attacks and killings claimed the lives of 512 people, listed as follows:",
        "At least 300 protesters have been killed since the coup.",
        "As of Monday, 78 soldiers had died in the fighting.",
        "Also, 40 shepherds were killed in the same period.",
        "Among the total death toll, 47 people were killed while gathering wood.",
        "The rebels are thought to have killed almost 700 civilians in four months.",
        "Bandits have wreaked havoc in the region, killing hundreds of villagers.",
        "From May 6 to September 10, gunmen killed at least 600 civilians.",
        "At least 90 people were killed in these two provinces.",
    ],
)
def test_tallies_over_a_period_or_many_incidents_are_not_this_incidents(text: str) -> None:
    assert _figures(text) == []


def test_a_sentence_going_on_with_a_tally_is_part_of_it() -> None:
    texts = [
        "Gunmen killed a trader in the town of Kallo.",
        "Since the start of the year, monitors have counted 412 killings in the province.",
        "Also, four members of the coalition were killed.",
        "Police said two suspects were arrested.",
        "Since the start of the year, monitors have counted 412 killings in the province.",
        "Monitors documented the killing of 230 civilians by the cells in the eastern districts.",
        "On Monday, gunmen killed 60 villagers in the town of Kallo.",
    ]
    sentences = [Sentence(f"S{i}", t, 0, len(t)) for i, t in enumerate(texts, 1)]
    assert tallies(sentences) == {"S2", "S3", "S5", "S6"}  # S7 has a day of its own
    # asked in any order, sentence by sentence (as `incident_reports` asks), the answers are the same
    for order in (range(len(texts)), reversed(range(len(texts))), (5, 2, 6, 0, 4, 3, 1)):
        in_tally = _tally_reader(sentences)
        assert {sentences[i].id for i in order if in_tally(i)} == {"S2", "S3", "S5", "S6"}
    figures = incident_reports(sentences, {})
    assert {r.sentence.id for r in figures} == {"S1", "S7"}  # (S4 states no casualty)


def _summary(engine: ExtractiveEngine, text: str, published: date = date(2024, 3, 12)) -> IncidentSummary:
    return engine.summarize_sync(prepare(ArticleIn(text=text, published_at=published), max_chars=100_000))


def _killed(summary: IncidentSummary) -> int:
    return sum(c.killed.best or 0 for c in summary.casualties if c.killed is not None)


def test_the_body_beats_the_headline(extractive_engine: ExtractiveEngine) -> None:
    summary = _summary(
        extractive_engine,
        "Gunmen kill 13 others in border attack\n"
        "Soldiers neutralized 14 gunmen who attacked a checkpoint near the town of Kaura Namoda on Monday, "
        "the army said.\nThe army said the checkpoint was reopened.",
    )
    assert _killed(summary) == 14


def test_figures_of_another_incident_are_not_added(extractive_engine: ExtractiveEngine) -> None:
    summary = _summary(
        extractive_engine,
        "Gunmen shot dead two farmers in the village of Tudun Wada on Monday, police said.\n"
        "In a separate attack, five soldiers were killed at a checkpoint.",
    )
    assert _killed(summary) == 2


def test_campaign_totals_are_not_the_incidents(extractive_engine: ExtractiveEngine) -> None:
    summary = _summary(
        extractive_engine,
        "A police officer was shot dead in the town of Kaura Namoda on Monday, police said.\n"
        "The group has carried out 110 attacks since early 2022, killing 87 people.",
    )
    assert _killed(summary) == 1


def _date(text: str, published: date | None = date(2024, 3, 12)) -> DateInfo | None:
    article = prepare(ArticleIn(text=text, published_at=published), max_chars=100_000)
    sentences = citable(article)
    return find_event_date(sentences, published, find_dateline(sentences), list(article.sentences))


@pytest.mark.parametrize(
    ("text", "start", "end", "phrase"),
    [
        (
            "A few hours ago, gunmen killed a trader in the market.",
            "2024-03-12",
            "2024-03-12",
            "A few hours ago",
        ),
        (
            "Two soldiers were killed in an ambush the night before last.",
            "2024-03-10",
            "2024-03-10",
            "the night before last",
        ),
        # 24 hours before a report of today reach back into yesterday; 48 hours into the day before
        (
            "Ten rebels were killed in air strikes in the past 24 hours.",
            "2024-03-11",
            "2024-03-12",
            "in the past 24 hours",
        ),
        (
            "Ten rebels were killed in air strikes in the last 48 hours.",
            "2024-03-10",
            "2024-03-12",
            "in the last 48 hours",
        ),
        # strikes "since morning" are today's
        (
            "Monitors counted six fighters killed in air raids since morning on the hills.",
            "2024-03-12",
            "2024-03-12",
            "since morning",
        ),
    ],
)
def test_relative_dates_of_hours(text: str, start: str, end: str, phrase: str) -> None:
    found = _date(text)
    assert found is not None and (found.start, found.end, found.text) == (start, end, phrase)


def test_a_date_right_after_a_reporting_verb_is_the_statements_despite_incident_words_before_it() -> None:
    found = _date(
        "A police captain has been killed, the army said Monday.\n"
        "The captain was shot dead on Sunday night near a checkpoint."
    )
    assert found is not None and (found.start, found.text) == ("2024-03-10", "on Sunday night")


def test_a_dateline_date_is_not_taken_for_a_region() -> None:
    sentences = citable(
        prepare(ArticleIn(text="Lima, Sept 28 : Rebels killed two soldiers."), max_chars=10_000)
    )
    dateline = find_dateline(sentences)
    assert dateline is not None and (dateline.place, dateline.region, dateline.date_text) == (
        "Lima",
        None,
        "Sept 28",
    )


@pytest.mark.parametrize(
    "text",
    [
        "At least 50 people have been killed since the clashes began on February 28.",
        "Gunmen collect money from the traders every Tuesday.",
        "Since the unrest began in early June 2021, monitors have counted 800 attacks.",
        "Mines have killed 300 people in the province from late May 2019 until today.",
    ],
)
def test_dates_that_are_no_day_of_the_incident(text: str) -> None:
    assert _date(text) is None


def test_yesterdays_report_of_another_event_loses_to_the_incidents_day() -> None:
    found = _date(
        "Gunmen killed two soldiers at a checkpoint on Monday, monitors said.\n"
        "Yesterday, monitors reported that clashes broke out on another front."
    )
    assert found is not None and found.start == "2024-03-11"


def test_a_barangay_or_sitio_is_a_village_with_the_country_of_the_places_near_it(
    gazetteer: Gazetteer,
) -> None:
    locations = locations_in(
        gazetteer,
        "A farmer was shot dead by rebels in Barangay Tubodlan, Escalante City, in the Philippines.",
    )
    site = next(loc for loc in locations if loc.name == "Tubodlan")
    assert site.country == "Philippines"


def test_a_town_in_apposition_is_a_place(gazetteer: Gazetteer) -> None:
    locations = locations_in(
        gazetteer,
        "Five people were killed in a blast at a teashop in Dhuurwaayo, a small town 30 km west of Baidoa.",
    )
    assert "Dhuurwaayo" in [loc.name for loc in locations]
    assert {loc.country for loc in locations} == {"Somalia"}


def test_continents_and_compass_words_are_no_places(gazetteer: Gazetteer) -> None:
    locations = locations_in(
        gazetteer,
        "Attacks have surged across the Horn of Africa. Gunmen killed three herders near the town of Beledweyne "
        "in the Northwest, officials said.",
    )
    assert [loc.name for loc in locations] == ["Beledweyne"]
    assert locations[0].country == "Somalia"


def test_companions_listed_beside_a_named_victim_add_up_but_a_thing_is_no_victim(
    extractive_engine: ExtractiveEngine,
) -> None:
    summary = _summary(
        extractive_engine,
        "A rebel commander with his six bodyguards were killed in an air strike in the town of Kunduz.",
    )
    assert _killed(summary) == 7
    summary = _summary(
        extractive_engine, "A drone attack on a car killed two civilians near the town of Kunduz on Monday."
    )
    assert _killed(summary) == 2


def test_an_airport_code_is_no_name_of_its_town(gazetteer: Gazetteer) -> None:
    # GeoNames lists "BNA" among Nashville's names and "SCL" among Santiago's: codes, not names.
    assert gazetteer.lookup("Bna") == [] and gazetteer.lookup("Scl") == []
    assert [p.name for p in gazetteer.lookup("Nashville")] != []


def test_a_reading_in_a_country_nothing_else_points_to_is_an_unknown_village(gazetteer: Gazetteer) -> None:
    # "Florida" is a town in Colombia, Cuba and Uruguay; the article speaks of Syria only.
    locations = locations_in(
        gazetteer,
        "Two civilians were killed when a mortar round hit the village of Florida near Aleppo in northern Syria.",
    )
    assert (locations[0].name, locations[0].country) == ("Florida", "Syria")


def test_the_gazetteer_knows_the_one_city_of_millions_by_a_name(gazetteer: Gazetteer) -> None:
    assert gazetteer.city_of_millions("Tijuana") == "MX"
    assert gazetteer.city_of_millions("Mogadishu") == "SO"
    assert gazetteer.city_of_millions("Hyderabad") is None  # India's and Pakistan's
    assert gazetteer.city_of_millions("Singapore") is None  # also a country
    assert gazetteer.city_of_millions("Florida") is None  # no city of millions


def test_a_city_of_millions_named_anywhere_points_to_its_country(gazetteer: Gazetteer) -> None:
    # "San Isidro" is a town of a dozen countries; "Guadalajara" here names only a police force.
    locations = locations_in(
        gazetteer, "Gunmen killed a shopkeeper in the San Isidro neighbourhood, the Guadalajara police said."
    )
    assert (locations[0].name, locations[0].country) == ("San Isidro", "Mexico")


@pytest.mark.parametrize(
    ("text", "country"),
    [
        (
            "Soldiers killed two rebels in a clash in Sitio Kenema, Barangay Lumbia, early on Sunday.",
            "Philippines",
        ),
        ("Gunmen killed six farmers in the village of Trinidad in Dera woreda on Monday.", "Ethiopia"),
    ],
)
def test_a_word_for_a_kind_of_place_used_in_one_country_points_to_it(
    gazetteer: Gazetteer, text: str, country: str
) -> None:
    assert locations_in(gazetteer, text)[0].country == country


@pytest.mark.parametrize(
    ("code", "word"),
    [(code, w) for code, words in places._NATIONAL_PLACE_WORDS_OF.items() for w in words.split("|")],
)
def test_every_national_place_word_counts_in_any_case(code: str, word: str) -> None:
    texts = [
        f"Gunmen raided the {word} at dawn.",
        f"{word.upper()} Lumbia was raided.",
        f"The {word}s were raided.",
    ]
    sentences = [Sentence(f"S{i}", text, 0, len(text)) for i, text in enumerate(texts, 1)]
    assert places._place_words(sentences) == {code: 2.0}  # (not "...s": a word of its own)


def test_the_nationality_of_an_attacker_is_no_evidence_of_the_place(gazetteer: Gazetteer) -> None:
    locations = locations_in(
        gazetteer,
        "Turkish drones and Turkish warplanes struck the village of Tal Khanzir, killing a Syrian farmer.",
    )
    assert (locations[0].name, locations[0].country) == ("Tal Khanzir", "Syria")


def test_a_dateline_of_a_town_and_an_agency_in_capitals_needs_no_dash(gazetteer: Gazetteer) -> None:
    text = "KENEMA (SLN) A bomb planted on a road killed two policemen in the village of Gbaama on Monday."
    sentences = citable(prepare(ArticleIn(text=text), max_chars=100_000))
    dateline = find_dateline(sentences)
    assert dateline is not None and (dateline.place, dateline.agency) == ("KENEMA", "SLN")
    assert locations_in(gazetteer, text)[0].country == "Sierra Leone"


def test_two_countries_joined_by_a_hyphen_are_both_named(gazetteer: Gazetteer) -> None:
    sentences = citable(
        prepare(ArticleIn(text="Smugglers were shot near the Iraq-Syria border."), max_chars=10_000)
    )
    mentions = find_mentions(sentences, gazetteer, gazetteer.not_places)
    assert dict(article_countries(mentions, None, gazetteer)) == {"IQ": 0.3, "SY": 0.3}


def test_a_place_is_named_by_the_spelling_the_gazetteer_reads_as_written(gazetteer: Gazetteer) -> None:
    # "Kamyshly" is only a sound-alike of Qamishli (as written it is the Russian Kamyshlov)
    locations = locations_in(
        gazetteer,
        "A car bomb struck Kamyshly in Syria on Monday, killing five people. Shops in Qamishli were shut "
        "after the blast.",
    )
    assert (locations[0].name, locations[0].country) == ("Qamishli", "Syria")


def test_the_day_of_another_incident_or_an_earlier_report_loses_to_the_storys() -> None:
    found = _date(
        "Monitors observed heavy clashes today around the dam.\n"
        "Activists had documented the death of four fighters and the injury of ten in an ambush yesterday."
    )
    assert found is not None and (found.start, found.text) == ("2024-03-12", "today")


# Fourth round (extractive-6): one death without a numeral.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a subject and "died" without an auxiliary, a participle between
        ("A protester shot by the police died in hospital on Friday.", [("killed", 1, "protester")]),
        ("Two villagers hit by shrapnel died on the way to the clinic.", [("killed", 2, "villagers")]),
        # the wounded who died after all
        ("A soldier wounded in the ambush later died of his wounds.", [("killed", 1, "soldier")]),
        ("Two guards were injured in the blast and later succumbed.", [("killed", 2, "guards")]),
        # not: a relative clause, another subject, the object of a preposition, a negation
        ("A relative of the man who died said he was unarmed.", []),
        ("Two guards were wounded and a driver was unhurt.", [("injured", 2, "guards")]),
        ("A soldier wounded in a roadside blast died in hospital.", [("killed", 1, "soldier")]),
        ("Two guards were wounded but none of them died.", [("injured", 2, "guards")]),
    ],
)  # fmt: skip
def test_one_who_died_later_or_without_an_auxiliary(
    text: str, expected: list[tuple[str, int | None, str]]
) -> None:
    assert _figures(text) == expected


def test_a_later_death_of_one_of_those_killed_raises_no_toll(extractive_engine: ExtractiveEngine) -> None:
    summary = _summary(
        extractive_engine,
        "Gunmen killed five villagers in the town of Kaura Namoda on Monday, police said.\n"
        "One of the victims died in hospital after the attack.",
    )
    assert _killed(summary) == 5


def test_a_protester_who_died_in_hospital_is_one_death(extractive_engine: ExtractiveEngine) -> None:
    summary = _summary(
        extractive_engine,
        "A protester shot by the police died in hospital in the town of Kaura Namoda on Monday, "
        "a union said.\nThe union said that 20 other protesters were treated for injuries.",
    )
    assert _killed(summary) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A dismembered body was found this morning on the road.", [("killed", 1, "dismembered body")]),
        ("Troops recovered two bodies near the river bank.", [("killed", 2, "bodies")]),
        ("Guards found the body of a child behind the school.", [("killed", 1, "child")]),
        ("Rescuers found the charred body of a driver in the van.", [("killed", 1, "driver")]),
        # not: a body that is no dead person, a body not found, a body already told of
        ("The governing body of a party met on Monday.", []),
        ("A body of water lies near the town.", []),
        ("The body was taken to the morgue.", []),
    ],
)  # fmt: skip
def test_a_dead_body_found_is_a_death(text: str, expected: list[tuple[str, int | None, str]]) -> None:
    assert _figures(text) == expected


def test_a_body_found_is_one_death_and_stays_one(extractive_engine: ExtractiveEngine) -> None:
    summary = _summary(
        extractive_engine,
        "A dismembered body was found on Monday in the town of Kaura Namoda, police said.\n"
        "The body was taken to the morgue of the town, where a body had been left last month too.",
    )
    assert _killed(summary) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A man was found dead in his car.", [("killed", 1, "man")]),
        ("Two farmers were found dead near the village.", [("killed", 2, "farmers")]),
        ("A farmer from the village was later found dead.", [("killed", 1, "farmer")]),
        ("The journalist was found dead at his home.", [("killed", 1, "person")]),
        ("A guard was found injured at the gate.", [("injured", 1, "guard")]),
        # not: a negation, the living, dead things
        ("The man was not found dead.", []),
        ("The missing soldier was found alive.", []),
        ("Police found dead fish in the river.", []),
    ],
)  # fmt: skip
def test_one_found_dead_is_a_death(text: str, expected: list[tuple[str, int | None, str]]) -> None:
    assert _figures(text) == expected


def test_the_one_found_dead_is_cited(extractive_engine: ExtractiveEngine) -> None:
    summary = _summary(
        extractive_engine,
        "The journalist was found dead at his home in the town of Kaura Namoda on Monday, police said.",
    )
    assert _killed(summary) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Crowds mourned the death of Ali Musa in the town.", [("killed", 1, "person")]),
        ("They confirmed the assassination of Free Valley Army leader Abu Tarik.", [("killed", 1, "person")]),
        ("The killing of Charles Banda was confirmed by police.", [("killed", 1, "person")]),
        # not: a people, a named group's members, a death of the past
        ("Protests followed the killing of Palestinians in the city.", []),
        ("He condemned the killing of Hamas fighters.", []),
        ("Protests have continued since the killing of Ali Musa.", []),
    ],
)  # fmt: skip
def test_the_death_of_a_named_person_is_one_death(
    text: str, expected: list[tuple[str, int | None, str]]
) -> None:
    assert _figures(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The driver succumbed to his wounds on Monday.", [("killed", 1, "person")]),
        ("His brother later succumbed to his injuries.", [("killed", 1, "person")]),
        ("He had worked in the market until his untimely death last night.", [("killed", 1, "person")]),
        ("Police confirmed her death on Friday.", [("killed", 1, "person")]),
        # not: the wounded (how many is not said), a sentence of death, death escaped
        ("The wounded succumbed in hospital.", []),
        ("His death sentence was commuted.", []),
        ("He narrowly escaped death.", []),
    ],
)  # fmt: skip
def test_one_who_succumbed_or_his_death_is_one_death(
    text: str, expected: list[tuple[str, int | None, str]]
) -> None:
    assert _figures(text) == expected


def test_his_death_is_cited_and_adds_nothing_to_a_toll(extractive_engine: ExtractiveEngine) -> None:
    one = _summary(
        extractive_engine,
        "A tailor was abducted in the town of Kaura Namoda on Monday, his family said.\n"
        "He had worked in the town until his untimely death last night.",
    )
    assert _killed(one) == 1
    three = _summary(
        extractive_engine,
        "Gunmen killed three traders in the town of Kaura Namoda on Monday, police said.\n"
        "One of them had worked in the town until his death.",
    )
    assert _killed(three) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two men were discovered to be deceased inside a house.", [("killed", 2, "men")]),
        ("A woman was pronounced dead at the clinic.", [("killed", 1, "woman")]),
        ("Two soldiers were confirmed killed in the raid.", [("killed", 2, "soldiers")]),
        # not: the dead named as a noun, other things confirmed
        ("The deceased was a teacher.", []),
        ("Two people were confirmed to be members of the gang.", []),
    ],
)  # fmt: skip
def test_found_or_confirmed_dead_or_deceased_is_a_death(
    text: str, expected: list[tuple[str, int | None, str]]
) -> None:
    assert _figures(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "dead" after a preposition's object is still a dead person; a motorcycle is no victim; "lost" ends a group
        ("Police checked the report of the discovery of a dead body.", [("killed", 1, "people")]),
        ("Gunmen on a motorcycle shot dead two soldiers at a checkpoint.", [("killed", 2, "soldiers")]),
        ("The four civilians lost their lives immediately.", [("killed", 4, "civilians")]),
    ],
)  # fmt: skip
def test_groups_and_victims_around_the_new_forms(
    text: str, expected: list[tuple[str, int | None, str]]
) -> None:
    assert _figures(text) == expected
