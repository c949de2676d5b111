"""Whatever the article says and however it says it, the extractive summary is grounded (property test)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import grounding
from service.article import Article, ArticleIn, Sentence, prepare
from service.engines.extractive import ExtractiveEngine
from service.errors import EmptyInput, NoSentences


def _sentences(article: Article) -> tuple[Sentence, ...]:
    try:
        return article.sentences
    except NoSentences:
        return ()


PLACES = ["Kamyshly", "Derik", "Maiduguri", "Gao", "Kherson", "Marib", "the village of Kasan", "Bannu", "Goma",
          "Hasake province", "Sittwe", "Mogadishu", "Tal Tamr", "Borno State", "Kabul"]  # fmt: skip
COUNTS = ["one", "two", "three", "12", "at least four", "more than 20", "several", "dozens of", "a number of",
          "between 5 and 10", "twenty-one", "1,200", "no"]  # fmt: skip
GROUPS = ["civilians", "soldiers", "US soldiers", "militants", "people", "policemen", "villagers"]
ACTORS = ["Gunmen", "Russian forces", "Boko Haram militants", "Unidentified assailants", "The Syrian army",
          "Houthi rebels", "Protesters", "Police"]  # fmt: skip
SOURCES = ["SANA reports that", "According to Reuters,", "Local sources said", "The ministry said", "Witnesses said",
           "“It was an attack,” said Colonel Ahmed Ali."]  # fmt: skip
WHEN = ["on Monday", "yesterday", "on August 25", "early hours of Sunday", "last Thursday", "today February 12th",
        "on 9 August 2021", ""]  # fmt: skip
VERBS = ["were killed", "were wounded", "died", "were injured", "were abducted"]
EVENTS = ["an air strike hit", "clashes broke out near", "a roadside bomb exploded in", "militants attacked",
          "two patrols collided near", "protesters gathered in"]  # fmt: skip
NOISE = [
    "Subscribe to our newsletter",
    "Notify of",
    "Back to top button",
    "Share this article",
    "(Reporting by Jo Doe)",
]


@st.composite
def articles(draw: st.DrawFn) -> str:
    paragraphs = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            paragraphs.append(
                f"{draw(st.sampled_from(SOURCES))} {draw(st.sampled_from(COUNTS))} {draw(st.sampled_from(GROUPS))} "
                f"{draw(st.sampled_from(VERBS))} in {draw(st.sampled_from(PLACES))} {draw(st.sampled_from(WHEN))}."
            )
        elif kind == 1:
            paragraphs.append(
                f"{draw(st.sampled_from(ACTORS))} said {draw(st.sampled_from(EVENTS))} "
                f"{draw(st.sampled_from(PLACES))} {draw(st.sampled_from(WHEN))}, killing "
                f"{draw(st.sampled_from(COUNTS))} {draw(st.sampled_from(GROUPS))}."
            )
        elif kind == 2:
            paragraphs.append(draw(st.sampled_from(NOISE)))
        else:
            paragraphs.append(draw(st.text(alphabet="abc XYZ,.;0123456789", min_size=1, max_size=60)))
    return "\n".join(paragraphs)


@pytest.fixture(scope="module")
def engine() -> ExtractiveEngine:
    return ExtractiveEngine()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=articles(), published=st.one_of(st.none(), st.dates(date(2015, 1, 1), date(2025, 12, 31))))
def test_summaries_of_varied_text_are_always_grounded(
    engine: ExtractiveEngine, text: str, published: date
) -> None:
    try:
        article = prepare(ArticleIn(text=text, published_at=published), max_chars=100_000)
    except (NoSentences, EmptyInput):  # boilerplate or whitespace only
        return
    try:
        summary = engine.summarize_sync(article)
    except NoSentences:  # nothing citable: no word, or credit lines only
        assert all(s.text in NOISE or not re.search(r"[^\W\d_]", s.text) for s in _sentences(article))
        return
    assert grounding.check(summary, article) == []
    for cid in summary.citation_ids():
        cited = article.by_id[cid].text
        assert not any(cited.startswith(noise) for noise in NOISE)
