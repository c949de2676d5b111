"""Gazetteer and incident site: transliteration variants, admin1 and country inference, site preference."""

from __future__ import annotations

import pytest

from service.engines.extractive.gazetteer import Gazetteer, fold, skeleton
from tests.conftest import locations_in


@pytest.mark.parametrize(
    ("variants", "key"),
    [
        (["Kamyshly", "Kamishli", "Qamishli", "al-Qamishli"], "kmshl"),
        (["Hasake", "Al-Hasakah", "Hasakah", "Khasaka"], "hsk"),
        (["Derik", "Dayrik", "Deirik"], "drk"),
        (["Deir ez-Zor", "Dayr az Zawr"], "drzr"),
        (["Kharkiv", "Kharkov"], "hrk"),
    ],
)
def test_transliteration_variants_share_a_skeleton(variants: list[str], key: str) -> None:
    assert {skeleton(v) for v in variants} == {key}


def test_fold_drops_accents_apostrophes_and_punctuation() -> None:
    assert fold("Al-Ḩasakah") == "al hasakah"
    assert fold("Ma’rib") == "marib"
    assert fold("Łódź") == "lodz"


@pytest.mark.parametrize(
    ("name", "country", "expected", "admin1"),
    [
        ("Kamyshly", "SY", "Al Qāmishlī", "Al-Hasakah"),
        ("Hasake", "SY", "Al Ḩasakah", "Al-Hasakah"),
        ("al-Malikiyah", "SY", "Al Mālikīyah", "Al-Hasakah"),
        ("Hodeidah", "YE", "Al Ḩudaydah", "Al Hudaydah"),
        ("Jisr al-Shughur", "SY", "Jisr ash Shughūr", "Idlib"),
    ],
)
def test_spelling_variants_reach_the_gazetteer_entry(
    gazetteer: Gazetteer, name: str, country: str, expected: str, admin1: str
) -> None:
    found = [p for p in gazetteer.lookup(name) if p.cc == country] or gazetteer.lookup_skeleton(
        name, [country]
    )
    assert fold(expected) in {fold(p.name) for p in found}
    assert found[0].admin1 == admin1


def test_english_words_do_not_sound_like_towns(gazetteer: Gazetteer) -> None:
    assert gazetteer.lookup_skeleton("Shootout", ["CN", "SY"]) == []


@pytest.mark.parametrize(
    ("words", "code"),
    [("Russian Defense Ministry", "RU"), ("U.S.-led coalition", "US"), ("White House spokesman", "US"),
     ("Syrian state news agency SANA", "SY"), ("local sources", None)],
)  # fmt: skip
def test_nationality_of_a_phrase(gazetteer: Gazetteer, words: str, code: str | None) -> None:
    assert gazetteer.nationality(words) == code


def test_shootout_sample_site_is_kamyshly_in_hasakah_syria(gazetteer: Gazetteer) -> None:
    locations = locations_in(
        gazetteer,
        "SYRIA – American forces in Syria were involved in an armed incident near the city of Kamyshly in the "
        "northeastern province of Hasake, today February 12th.",
    )
    site = locations[0]
    assert (site.name, site.admin1, site.country, site.role) == (
        "Kamyshly",
        "Al-Hasakah",
        "Syria",
        "incident_site",
    )


def test_incident_words_beat_the_dateline(gazetteer: Gazetteer) -> None:
    locations = locations_in(
        gazetteer,
        "QAMISHLI, Syria (North Press) – Two US officials said soldiers were injured. The spokesman said the "
        "incident took place on August 25 near Derik, in the northeast of Syria.",
    )
    assert (locations[0].name, locations[0].admin1) == ("Derik", "Al-Hasakah")
    assert "Qamishli" in [loc.name for loc in locations[1:]]


def test_country_is_inferred_from_a_town(gazetteer: Gazetteer) -> None:
    site = locations_in(gazetteer, "A suicide bomber killed 21 people inside a mosque in Kabul.")[0]
    assert (site.name, site.country, site.admin1) == ("Kabul", "Afghanistan", "Kabul")


def test_country_is_inferred_from_a_province(gazetteer: Gazetteer) -> None:
    site = locations_in(gazetteer, "Gunmen killed five villagers in Zamfara State on Monday.")[0]
    assert (site.name, site.country) == ("Zamfara", "Nigeria")


def test_a_village_the_gazetteer_lacks_inherits_province_and_country(gazetteer: Gazetteer) -> None:
    locations = locations_in(
        gazetteer,
        "Junta troops torched the village of Nyaung Pin Lay in Sagaing Region on Wednesday, killing three "
        "villagers in Myanmar.",
    )
    assert (locations[0].name, locations[0].admin1, locations[0].country) == (
        "Nyaung Pin Lay",
        "Sagaing",
        "Myanmar",
    )


def test_a_reference_point_and_a_neighbouring_country_are_not_the_site(gazetteer: Gazetteer) -> None:
    locations = locations_in(
        gazetteer,
        "Fighting near the town of Kibumba, about 20 km north of Goma, killed eleven people in Congo. Fighting "
        "in Saravena municipality, near the border with Venezuela, killed four Colombian soldiers in Arauca.",
    )
    assert locations[0].name in ("Kibumba", "Saravena")
    assert "Venezuela" not in [loc.name for loc in locations]


def test_a_possessive_country_does_not_swallow_the_place(gazetteer: Gazetteer) -> None:
    site = locations_in(
        gazetteer, "A drone attack killed two civilians in Russia's Belgorod region on Tuesday."
    )[0]
    assert (site.name, site.country) == ("Belgorod", "Russia")


def test_proper_names_that_are_not_places_are_not_located(gazetteer: Gazetteer) -> None:
    locations = locations_in(
        gazetteer,
        "White House National Security Council spokesman John Ullyot said the Syrian Democratic Forces and "
        "Mark Milley discussed the incident in Syria.",
    )
    assert [loc.name for loc in locations] == ["Syria"]


def test_countries_go_by_the_names_news_use(gazetteer: Gazetteer) -> None:
    locations = locations_in(
        gazetteer, "An Israeli air strike hit a house in Rafah on Monday, killing six people."
    )
    assert (locations[0].name, locations[0].country) == ("Rafah", "Palestine")
    assert [p.name for p in gazetteer.lookup("Palestinian Territory")] == ["Palestine"]


def test_a_place_called_so_beats_one_that_also_goes_by_the_name(gazetteer: Gazetteer) -> None:
    # GeoNames lists "Islamabad" among Chattogram's old names; a short acronym is no alias of a town.
    locations = locations_in(
        gazetteer, "ISLAMABAD (Reuters) - DRG and SDF units clashed with militants in Kurram."
    )
    assert [(loc.name, loc.country) for loc in locations] == [("Islamabad", "Pakistan")]


@pytest.mark.parametrize(
    "text",
    [
        "A storm hit the Gulf coast state. Gunmen killed four people in Culiacan on Monday.",
        "Gunmen killed four people in Culiacan on Monday, one of the most violent cities in Latin America.",
    ],
)
def test_regions_of_the_world_are_not_towns(gazetteer: Gazetteer, text: str) -> None:
    # "Gulf" is a province of Papua New Guinea and "America" an alias of towns in Argentina.
    assert [(loc.name, loc.country) for loc in locations_in(gazetteer, text)] == [("Culiacan", "Mexico")]
