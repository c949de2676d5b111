"""Derived facts: a missing country or province filled from the gazetteer where the article backs the reading,
marked in `meta.derived` and a warning; never a field the model gave, never a reading the article does not back;
the publication date as the date of an incident the article does not date, never over a stated date nor
without a publication date; and the one gate: a candidate the engine had judged is not judged again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import httpx
import pytest

from service import grounding
from service.article import Article, ArticleIn, prepare
from service.cache import MemoryCache
from service.config import Settings
from service.derived import PUBLICATION_DATE_BASIS, derive, derive_places
from service.engines.base import DerivedFact
from service.errors import Violation
from service.schema import DateInfo, IncidentSummary, Location
from service.summarizer import Summarizer
from tests.conftest import FakeEngine, minimal_summary

ABEOKUTA = (
    "Gunmen kill two farmers near Abeokuta\n\n"
    "Gunmen killed two farmers on a farm outside Abeokuta, Ogun State, on Monday, police said.\n\n"
    "The Nigerian police said they had arrested three suspects."
)
UNDATED = (
    "Farmers shot dead near Abeokuta\n\n"
    "Local monitors have documented the deaths of two farmers shot by gunmen on a farm outside Abeokuta, Ogun "
    "State.\n\n"
    "The Nigerian police said they had arrested three suspects."
)
PUBLISHED = date(2024, 3, 6)
DABAS = (
    "Strikes hit village\n\n"
    "At least four civilians were killed in alleged strikes on the village of Al Dabas on Friday.\n\n"
    "Residents said the strikes came at dawn."
)


def with_place(name: str, admin1: str | None, country: str | None) -> Callable[[Article], IncidentSummary]:
    def build(article: Article) -> IncidentSummary:
        cite = next(s.id for s in article.sentences if name.split()[-1] in s.text)
        location = Location(name=name, admin1=admin1, country=country, role="incident_site", citations=[cite])
        return minimal_summary(article).model_copy(update={"locations": [location]})

    return build


def summarizer(engine: FakeEngine) -> Summarizer:
    settings = Settings(engine="extractive", cache_url="memory://")
    return Summarizer(settings=settings, engine=engine, cache=MemoryCache(), prompt_version="p1")


async def test_a_missing_country_is_derived_and_marked() -> None:
    result = await summarizer(FakeEngine(build=with_place("Abeokuta", "Ogun State", None))).summarize(
        ArticleIn(text=ABEOKUTA)
    )
    [location] = result.summary.locations
    assert (location.admin1, location.country) == ("Ogun State", "Nigeria")  # the stated admin1 is kept
    assert [(d.path, d.value) for d in result.meta.derived] == [("locations[0].country", "Nigeria")]
    assert any(w.startswith("locations[0].country: 'Nigeria' derived") for w in result.meta.warnings)


async def test_a_missing_province_is_derived_too() -> None:
    result = await summarizer(FakeEngine(build=with_place("Abeokuta", None, None))).summarize(
        ArticleIn(text=ABEOKUTA)
    )
    assert {(d.path, d.value) for d in result.meta.derived} == {
        ("locations[0].country", "Nigeria"),
        ("locations[0].admin1", "Ogun"),
    }


async def test_a_field_the_model_gave_is_never_changed() -> None:
    result = await summarizer(FakeEngine(build=with_place("Abeokuta", "Ogun State", "Benin"))).summarize(
        ArticleIn(text=ABEOKUTA)
    )
    assert result.summary.locations[0].country == "Benin" and result.meta.derived == []


def test_a_reading_the_article_does_not_back_is_not_used() -> None:
    """ "Al Dabas" is also a town in Hungary; the article names no country or province: nothing is derived."""
    article = prepare(ArticleIn(text=DABAS), max_chars=10_000)
    summary = with_place("Al Dabas", None, None)(article)
    derived_summary, derived = derive_places(summary, article)
    assert derived == () and derived_summary.locations[0].country is None


async def test_the_summarizer_judges_a_candidate_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine that handed its answer to the gate is not judged again; one that did not is judged once."""
    checked: list[IncidentSummary] = []
    real = grounding.check

    def counting(summary: IncidentSummary, article: Article) -> list[Violation]:
        checked.append(summary)
        return real(summary, article)

    monkeypatch.setattr(grounding, "check", counting)

    class Judging(FakeEngine):
        async def summarize(self, article: Article, *, deadline_s: float | None = None, judge=None):  # type: ignore[no-untyped-def]
            result = await super().summarize(article, deadline_s=deadline_s)
            assert judge is not None and judge(result.summary) == []
            return result

    await summarizer(Judging()).summarize(ArticleIn(text=ABEOKUTA))
    assert len(checked) == 1
    await summarizer(FakeEngine()).summarize(ArticleIn(text=DABAS))
    assert len(checked) == 2


# --- the publication date as the date of an incident the article does not date ----------------------------


def with_stated_date(article: Article) -> IncidentSummary:
    """The minimal summary with the date the Abeokuta article states ("on Monday", the day before publication)."""
    cite = next(s.id for s in article.sentences if "Monday" in s.text)
    stated = DateInfo(
        start="2024-03-04", end="2024-03-04", precision="day", text="on Monday", citations=[cite]
    )
    return minimal_summary(article).model_copy(update={"date": stated})


def test_derive_dates_an_undated_incident_to_its_publication_and_fills_places_in_one_call() -> None:
    article = prepare(ArticleIn(text=ABEOKUTA, published_at=PUBLISHED), max_chars=10_000)
    summary = with_place("Abeokuta", "Ogun State", None)(article)
    derived_summary, derived = derive(summary, article)
    assert derived == (
        DerivedFact("date", "2024-03-06", PUBLICATION_DATE_BASIS),
        DerivedFact("locations[0].country", "Nigeria", "gazetteer reading of 'Abeokuta' in this article"),
    )
    assert derived_summary.date is None  # the summary holds only what the article states
    assert derived_summary.locations[0].country == "Nigeria"


async def test_an_undated_incident_gets_the_publication_date_as_a_derived_fact_and_a_warning() -> None:
    result = await summarizer(FakeEngine()).summarize(ArticleIn(text=UNDATED, published_at=PUBLISHED))
    assert result.summary.date is None
    [derived] = result.meta.derived
    assert (derived.path, derived.value) == ("date", "2024-03-06")
    assert "publication date" in derived.basis and "states no date" in derived.basis
    assert (
        "date: '2024-03-06' derived by the service (the article's publication date; the article states no date "
        "for the incident)"
    ) in result.meta.warnings


async def test_a_stated_date_is_never_replaced_by_the_publication_date() -> None:
    engine = FakeEngine(build=with_stated_date)
    result = await summarizer(engine).summarize(ArticleIn(text=ABEOKUTA, published_at=PUBLISHED))
    assert result.summary.date is not None and result.summary.date.start == "2024-03-04"
    assert result.meta.derived == [] and not any(w.startswith("date:") for w in result.meta.warnings)


async def test_without_a_publication_date_no_date_is_derived() -> None:
    result = await summarizer(FakeEngine()).summarize(ArticleIn(text=UNDATED))
    assert result.summary.date is None and result.meta.derived == []
    assert not any(w.startswith("date:") for w in result.meta.warnings)


async def test_the_api_returns_the_derived_date_of_the_extractive_engine(
    extractive_client: httpx.AsyncClient,
) -> None:
    body = {"text": UNDATED, "published_at": "2024-03-06"}
    response = await extractive_client.post("/v1/summaries", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["summary"]["date"] is None
    assert [d for d in result["meta"]["derived"] if d["path"] == "date"] == [
        {"path": "date", "value": "2024-03-06", "basis": PUBLICATION_DATE_BASIS}
    ]
    assert any(w.startswith("date: '2024-03-06' derived") for w in result["meta"]["warnings"])
    markdown = await extractive_client.get(f"/v1/summaries/{result['id']}", params={"format": "markdown"})
    assert "- **Date:** 2024-03-06 (not stated in the article: its publication date)" in markdown.text
