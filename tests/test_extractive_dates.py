"""Event dates: absolute and relative forms, anchors (published_at, dateline, byline), statement dates."""

from __future__ import annotations

from datetime import date

import pytest

from service.article import ArticleIn, prepare
from service.engines.extractive.dates import PartialDate, find_anchor, find_event_date
from service.engines.extractive.sentences import citable, find_dateline
from service.schema import DateInfo


def _date(text: str, published: date | None = None) -> DateInfo | None:
    article = prepare(ArticleIn(text=text, published_at=published), max_chars=100_000)
    sentences = citable(article)
    return find_event_date(
        sentences, published, find_dateline(list(article.sentences)), list(article.sentences)
    )


CASES = [
    # (text, published_at, start, end, phrase)
    ("Gunmen killed five people in the town on February 12th.", None, "--02-12", "--02-12", "February 12th"),
    ("The attack on May 26 killed two soldiers.", date(2021, 6, 1), "2021-05-26", "2021-05-26", "May 26"),
    ("Shelling on 9 August killed a farmer.", date(2022, 8, 10), "2022-08-09", "2022-08-09", "9 August"),
    ("The strike on Aug. 25, 2020 killed two.", None, "2020-08-25", "2020-08-25", "Aug. 25, 2020"),
    ("A bomb exploded on Wednesday, killing three.", date(2023, 3, 17), "2023-03-15", "2023-03-15", "on Wednesday"),
    ("Two soldiers died in a clash yesterday.", date(2023, 3, 17), "2023-03-16", "2023-03-16", "yesterday"),
    ("Two soldiers died in clashes last Thursday.", date(2023, 3, 16), "2023-03-09", "2023-03-09", "last Thursday"),
    ("Militants attacked the base in the early hours of Monday.", date(2023, 3, 15), "2023-03-13", "2023-03-13",
     "the early hours of Monday"),
    ("Protesters were shot dead today in the capital.", date(2024, 6, 18), "2024-06-18", "2024-06-18", "today"),
    ("ADF rebels killed 18 civilians in an overnight attack.", date(2023, 6, 8), "2023-06-07", "2023-06-07",
     "overnight"),
    ("An air strike killed four people two days ago.", date(2024, 1, 10), "2024-01-08", "2024-01-08",
     "two days ago"),
    ("The clashes of December 30 killed nine.", date(2021, 1, 3), "2020-12-30", "2020-12-30", "December 30"),
    ("Fighting in March 2022 killed dozens of fighters.", None, "2022-03-01", "2022-03-31", "in March 2022"),
    ("The raids in mid-August killed dozens of fighters.", date(2024, 9, 2), "2024-08-01", "2024-08-31",
     "mid-August"),
    ("The bombing on 2021-08-26 killed 13 US troops.", None, "2021-08-26", "2021-08-26", "2021-08-26"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "published", "start", "end", "phrase"), CASES)
def test_dates_resolve(text: str, published: date | None, start: str, end: str, phrase: str) -> None:
    found = _date(text, published)
    assert found is not None
    assert (found.start, found.end, found.text) == (start, end, phrase)


def test_event_date_beats_the_statement_date() -> None:
    found = _date(
        "Officials said on Wednesday that several soldiers were injured. The spokesman said the incident took "
        "place on August 25 near the border.",
        date(2020, 8, 27),
    )
    assert found is not None and found.start == "2020-08-25" and found.text == "August 25"


def test_statement_date_alone_is_resolved_but_cannot_win_over_incident_words() -> None:
    found = _date(
        "The ministry announced on Thursday that the ambush killed 12 soldiers on Monday.", date(2023, 5, 5)
    )
    assert found is not None and found.start == "2023-05-01"


def test_relative_dates_without_anchor_are_not_guessed() -> None:
    assert _date("Gunmen killed five people on Wednesday.") is None


def test_dateline_date_anchors_relative_dates_and_is_not_the_event() -> None:
    found = _date(
        "Kabul [Afghanistan], July 20 (ANI): Five people were killed yesterday in a blast in Kabul."
    )
    assert found is not None and (found.start, found.text) == ("--07-19", "yesterday")


def test_byline_date_anchors_weekdays() -> None:
    found = _date("By The Irrawaddy 3 June 2022\nJunta troops torched a village on Wednesday, killing three.")
    assert found is not None and found.start == "2022-06-01"


def test_dates_after_publication_are_not_the_incident() -> None:
    found = _date(
        "Talks are planned for May 30. Rockets hit the city on May 2, killing two.", date(2023, 5, 3)
    )
    assert found is not None and found.start == "2023-05-02"


def test_background_dates_lose_to_the_incident() -> None:
    found = _date(
        "A car bomb killed eight people on Saturday. The group has carried out attacks since 2011, including "
        "one in March 2019.",
        date(2021, 9, 26),
    )
    assert found is not None and found.start == "2021-09-25"


def test_anchor_prefers_published_at_over_text() -> None:
    article = prepare(ArticleIn(text="By The Irrawaddy 3 June 2022\nTroops attacked."), max_chars=1000)
    anchor = find_anchor(date(2022, 6, 5), list(article.sentences), None)
    assert anchor == PartialDate(2022, 6, 5)
    assert find_anchor(None, list(article.sentences), None) == PartialDate(2022, 6, 3)


def test_partial_dates_shift_across_month_ends_without_a_year() -> None:
    assert PartialDate(None, 3, 1).shifted(-1).iso() == "--02-29"
    assert PartialDate(2023, 3, 1).shifted(-1).iso() == "2023-02-28"


def test_a_date_alone_on_its_line_anchors_the_story_and_loses_to_its_incident_date() -> None:
    text = (
        "Gunmen kill five traders\n\nSunday, July 24, 2016\n\nThe killings are the latest of many. Residents "
        "are afraid. Markets are empty. Traders have left.\n\nFive traders were shot dead at a market on "
        "Friday, police said."
    )
    found = _date(text)
    assert found is not None and (found.start, found.text) == ("2016-07-22", "on Friday")


def test_a_date_line_is_still_the_answer_when_the_story_gives_no_other_date() -> None:
    found = _date("Gunmen kill five traders\n\nOctober 5, 2018\n\nFive traders were shot dead at a market.")
    assert found is not None and found.start == "2018-10-05"


@pytest.mark.parametrize(
    ("phrase", "start"),
    [
        ("\u017fix days ago", "2023-03-11"),
        ("LAST N\u0130GHT", "2023-03-16"),
        ("overn\u0131ght", "2023-03-16"),
    ],
)
def test_relative_dates_in_odd_letters_resolve_as_in_plain_ones(phrase: str, start: str) -> None:
    # Read with str.lower(), "ſix" raised KeyError and "LAST NİGHT" was taken for the publication day.
    found = _date(f"Gunmen killed two villagers {phrase}.", date(2023, 3, 17))
    assert found is not None and found.start == start


@pytest.mark.parametrize(
    "quoted",
    [
        # an embedded post's signature line: when it was posted
        "Militants killed a soldier near the border post.\n\n— Border Guard HQ (@borderguard_hq) June 4, 2022",
        # a cited source's date, in a footnote and before its link
        "Militants killed a soldier near the border post.\n\n[iii] “Soldier killed,” Daily Courier, June 4, 2022.",
        "Militants killed a soldier near the border post. The Daily Courier covered the attack at length (Daily "
        "Courier, June 4, 2022, https://example.org/a).",
    ],
)
def test_a_posts_or_a_cited_sources_date_is_not_the_incidents(quoted: str) -> None:
    assert _date(quoted, date(2022, 6, 5)) is None


def test_a_date_across_a_slash_is_the_night_of_both_days() -> None:
    found = _date(
        "Two farmers were killed in shelling of the village on March 30/31, 2022.", date(2022, 4, 2)
    )
    assert found is not None
    assert (found.start, found.end, found.text) == ("2022-03-30", "2022-03-31", "March 30/31, 2022")
    found = _date("Two farmers were killed in shelling on March 30/2 of the village.", date(2022, 4, 2))
    assert found is not None and (found.start, found.end) == ("2022-03-30", "2022-03-30")
