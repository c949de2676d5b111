"""The summarizer: cache, single-flight, deadline, grounding of every engine, fallback."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest

from service.article import Article, ArticleIn
from service.cache import MemoryCache
from service.config import Settings
from service.engines.llm import LLMEngine
from service.errors import DeadlineExceeded, NotFound, OutputError, UpstreamUnavailable, Usage
from service.prompts import Prompts
from service.schema import IncidentSummary, Statement
from service.summarizer import Summarizer
from tests.conftest import FakeEngine, sample_text

ARTICLE = ArticleIn(text=sample_text("syria_checkpoint_shootout"))


class RecordingCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.ttls: dict[str, int] = {}

    async def set(self, key: str, value: bytes, ttl_s: int) -> None:
        self.ttls[key] = ttl_s
        await super().set(key, value, ttl_s)


def make(engine: Any, fallback: Any = None, **settings: Any) -> tuple[Summarizer, RecordingCache]:
    cache = RecordingCache()
    config = Settings(engine="extractive", cache_url="memory://", **settings)
    return Summarizer(
        settings=config, engine=engine, cache=cache, prompt_version="p1", fallback=fallback
    ), cache


async def test_second_request_is_served_from_cache_without_the_engine() -> None:
    engine = FakeEngine()
    summarizer, _ = make(engine)
    first = await summarizer.summarize(ARTICLE)
    second = await summarizer.summarize(ARTICLE)
    assert engine.calls == 1
    assert (first.meta.cached, second.meta.cached) == (False, True)
    assert first.id == second.id and first.summary == second.summary
    assert (await summarizer.get(first.id)).meta.cached is True


async def test_refresh_recomputes_and_overwrites() -> None:
    engine = FakeEngine()
    summarizer, _ = make(engine)
    await summarizer.summarize(ARTICLE)
    refreshed = await summarizer.summarize(ARTICLE, refresh=True)
    assert engine.calls == 2 and refreshed.meta.cached is False


async def test_key_changes_with_engine_model_prompt_and_published_at() -> None:
    engine = FakeEngine()
    summarizer, _ = make(engine)
    base = (await summarizer.summarize(ARTICLE)).id
    dated = (await summarizer.summarize(ArticleIn(text=ARTICLE.text, published_at=date(2020, 2, 12)))).id
    summarizer.prompt_version = "p2"
    reprompted = (await summarizer.summarize(ARTICLE)).id
    engine.model = "fake-2"
    remodelled = (await summarizer.summarize(ARTICLE)).id
    assert len({base, dated, reprompted, remodelled}) == 4


async def test_concurrent_identical_requests_share_one_computation() -> None:
    engine = FakeEngine(delay_s=0.2)
    summarizer, _ = make(engine)
    results = await asyncio.gather(*(summarizer.summarize(ARTICLE) for _ in range(20)))
    assert engine.calls == 1
    assert len({r.id for r in results}) == 1


async def test_failures_are_shared_and_not_cached() -> None:
    engine = FakeEngine(delay_s=0.05, error=UpstreamUnavailable("down", attempts=4))
    summarizer, cache = make(engine)
    outcomes = await asyncio.gather(
        *(summarizer.summarize(ARTICLE) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(o, UpstreamUnavailable) for o in outcomes)
    assert engine.calls == 1 and cache.ttls == {}


async def test_deadline_bounds_the_engine() -> None:
    """An engine that would answer after 5 s is told the 0.2 s deadline and stopped at it: it never answers
    (it would, were it not stopped), the request fails with DeadlineExceeded, nothing is cached."""
    engine = FakeEngine(delay_s=5)
    summarizer, cache = make(engine, deadline_s=0.2, timeout_s=0.1)
    with pytest.raises(DeadlineExceeded):
        await summarizer.summarize(ARTICLE)
    assert engine.deadlines == [0.2]
    assert cache.ttls == {}


def _ungrounded(article: Article) -> IncidentSummary:
    return IncidentSummary(
        headline="x",
        summary=[Statement(text="99 people died.", citations=["S1"])],
        event_type="other",
        sub_event_type=None,
        date=None,
        locations=[],
        actors=[],
        casualties=[],
        claims=[],
        disputes=[],
    )


async def test_ungrounded_engine_output_is_an_error_and_never_cached() -> None:
    summarizer, cache = make(FakeEngine(build=_ungrounded))
    with pytest.raises(OutputError) as info:
        await summarizer.summarize(ARTICLE)
    assert info.value.violations[0].rule == "number_not_in_citations"
    assert all(key.startswith("failed:") for key in cache.ttls)  # no result: only the failure, for minutes


async def test_fallback_answers_degraded_and_is_cached_briefly() -> None:
    failing = FakeEngine(error=UpstreamUnavailable("down", attempts=3, usage=Usage(7, 0)))
    fallback = FakeEngine()
    fallback.name, fallback.model = "extractive", "extractive-1"
    summarizer, cache = make(failing, fallback=fallback, degraded_ttl_s=60)
    result = await summarizer.summarize(ARTICLE)
    assert result.meta.degraded is True and result.meta.engine == "extractive"
    assert result.meta.attempts == 4 and result.meta.usage.prompt_tokens == 17
    assert "UpstreamUnavailable" in result.meta.warnings[0]
    assert cache.ttls[result.id] == 60


async def test_unknown_id_is_not_found() -> None:
    summarizer, _ = make(FakeEngine())
    for bad in ("0" * 32, "../etc/passwd", ""):
        with pytest.raises(NotFound):
            await summarizer.get(bad)


async def test_a_cache_outage_costs_a_recomputation_not_the_request() -> None:
    class BrokenCache(MemoryCache):
        async def get(self, key: str) -> bytes | None:
            raise ConnectionError("cache down")

        async def set(self, key: str, value: bytes, ttl_s: int) -> None:
            raise ConnectionError("cache down")

    engine = FakeEngine()
    summarizer = Summarizer(
        settings=Settings(engine="extractive"), engine=engine, cache=BrokenCache(), prompt_version="p1"
    )
    assert (await summarizer.summarize(ARTICLE)).meta.cached is False
    assert engine.calls == 1


async def test_the_fallback_only_gets_what_is_left_of_the_deadline() -> None:
    """The LLM uses the whole deadline; a (slow) fallback then gets a last second, not a fresh deadline: what
    each engine was given is asserted, not how long it took."""
    slow_llm, slow_fallback = FakeEngine(delay_s=10), FakeEngine(delay_s=10)
    slow_fallback.name = "extractive"
    summarizer, cache = make(slow_llm, fallback=slow_fallback, deadline_s=0.5, timeout_s=0.5)
    with pytest.raises(DeadlineExceeded):
        await summarizer.summarize(ARTICLE)
    assert slow_llm.deadlines == [0.5]
    assert slow_fallback.deadlines == [1.0]  # nothing was left: the one second a fallback always gets
    assert cache.ttls == {}


async def test_a_fallback_after_a_fast_failure_gets_the_rest_of_the_deadline() -> None:
    failing_llm = FakeEngine(error=UpstreamUnavailable("down", attempts=1))
    fallback = FakeEngine()
    fallback.name = "extractive"
    summarizer, _ = make(failing_llm, fallback=fallback, deadline_s=30, timeout_s=1.0)
    result = await summarizer.summarize(ARTICLE)
    assert result.meta.degraded is True and failing_llm.deadlines == [30]
    [given] = fallback.deadlines
    assert given is not None and 29 < given <= 30


def test_the_endpoint_is_part_of_the_cache_key() -> None:
    """Two base URLs serving a model of the same name share no cache entries."""
    keys = set()
    for base_url in ("http://127.0.0.1:8080/v1", "http://127.0.0.1:9090/v1"):
        settings = Settings(engine="llm", openai_base_url=base_url, cache_url="memory://")
        engine = LLMEngine(settings, Prompts.load())
        summarizer = Summarizer(settings=settings, engine=engine, cache=MemoryCache(), prompt_version="p1")
        keys.add(summarizer.key_for(ArticleIn(text="Two soldiers were killed near Idlib.")))
    assert len(keys) == 2
