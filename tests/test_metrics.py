"""Prometheus metrics: per-app registry, requests by route template, cache, upstream calls, tokens, repairs,
fallbacks."""

from __future__ import annotations

from datetime import date
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from service.article import Article, ArticleIn
from service.cache import MemoryCache
from service.engines.base import EngineResult, Judge
from service.errors import UpstreamRateLimited, Usage
from service.metrics import Metrics
from service.summarizer import Summarizer
from tests.conftest import AppClient, FakeEngine, llm_settings, minimal_summary, sample_text
from tests.fakes.openai_server import FaultServer, answer_from_request, invalid_json

TEXT = "Two soldiers were killed on Monday when gunmen attacked a checkpoint near Idlib, officials said."


def values(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def value(text: str, name: str, **labels: str) -> float:
    return values(text, name).get(frozenset(labels.items()), 0.0)


async def test_requests_are_counted_by_route_template_and_status(app_client: AppClient) -> None:
    async with app_client(llm_settings(), engine=FakeEngine()) as client:
        first = await client.post("/v1/summaries", json={"text": TEXT})
        await client.post("/v1/summaries", json={"text": TEXT})
        await client.get(f"/v1/summaries/{first.json()['id']}")
        await client.get(f"/v1/summaries/{'0' * 32}")
        await client.get("/no/such/page")
        scraped = await client.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    requests = "http_requests_total"
    assert value(text, requests, method="POST", route="/v1/summaries", status="200") == 2
    assert value(text, requests, method="GET", route="/v1/summaries/{summary_id}", status="200") == 1
    assert value(text, requests, method="GET", route="/v1/summaries/{summary_id}", status="404") == 1
    assert value(text, requests, method="GET", route="<unmatched>", status="404") == 1
    assert first.json()["id"] not in text  # raw paths never become labels
    latency = "http_request_duration_seconds_count"
    assert value(text, latency, method="POST", route="/v1/summaries") == 2
    assert value(text, "summarizer_cache_lookups_total", result="miss") == 1
    assert value(text, "summarizer_cache_lookups_total", result="hit") == 1
    assert value(text, "summarizer_engine_runs_total", engine="fake", outcome="ok") == 1
    assert value(text, "summarizer_inflight") == 0


async def test_each_app_has_its_own_registry(app_client: AppClient) -> None:
    async with app_client(llm_settings(), engine=FakeEngine()) as busy, app_client(llm_settings()) as idle:
        await busy.post("/v1/summaries", json={"text": TEXT})
        busy_text, idle_text = (await busy.get("/metrics")).text, (await idle.get("/metrics")).text
    assert value(busy_text, "http_requests_total", method="POST", route="/v1/summaries", status="200") == 1
    assert value(idle_text, "http_requests_total", method="POST", route="/v1/summaries", status="200") == 0


class ScriptedEngine:
    """An engine named like the LLM one that answers with a given attempts/usage/warnings, or fails."""

    name = "llm"
    model = "scripted"

    def __init__(self, *, attempts: int, usage: Usage, warnings: tuple[str, ...] = ()) -> None:
        self.result = (attempts, usage, warnings)
        self.error: Exception | None = None

    async def summarize(
        self, article: Article, *, deadline_s: float | None = None, judge: Judge | None = None
    ) -> EngineResult:
        if self.error is not None:
            raise self.error
        attempts, usage, warnings = self.result
        return EngineResult(minimal_summary(article), attempts, usage, warnings)

    async def check_ready(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def summarizer_with(engine: Any, fallback: Any = None) -> tuple[Summarizer, Metrics]:
    metrics = Metrics()
    summarizer = Summarizer(
        settings=llm_settings(fallback="extractive"),
        engine=engine,
        cache=MemoryCache(),
        prompt_version="p1",
        fallback=fallback,
        metrics=metrics,
    )
    return summarizer, metrics


async def test_upstream_calls_tokens_repairs_and_fallbacks() -> None:
    engine = ScriptedEngine(
        attempts=3, usage=Usage(1200, 300), warnings=("the model's answer needed 2 repair turn(s)",)
    )
    summarizer, metrics = summarizer_with(engine, fallback=FakeEngine())
    await summarizer.summarize(ArticleIn(text=TEXT))
    engine.error = UpstreamRateLimited("slow down", retry_after=3, attempts=4, usage=Usage(50, 0))
    degraded = await summarizer.summarize(ArticleIn(text=sample_text("syria_checkpoint_shootout")))
    assert degraded.meta.degraded is True
    await summarizer.aclose()
    text = metrics.exposition().decode()
    assert value(text, "summarizer_upstream_calls_total", engine="llm", outcome="ok") == 3
    assert value(text, "summarizer_upstream_calls_total", engine="llm", outcome="UpstreamRateLimited") == 4
    # the failed call's tokens count too; the fallback FakeEngine reports 10 in, 5 out
    assert value(text, "summarizer_tokens_total", direction="in") == 1200 + 50 + 10
    assert value(text, "summarizer_tokens_total", direction="out") == 300 + 5
    assert value(text, "summarizer_repairs_total") == 2
    assert value(text, "summarizer_fallbacks_total", reason="UpstreamRateLimited") == 1
    assert value(text, "summarizer_engine_runs_total", engine="fake", outcome="ok") == 1
    assert value(text, "summarizer_engine_duration_seconds_count", engine="llm") == 2


async def test_the_llm_engines_repair_turns_and_tokens_reach_the_metrics(app_client: AppClient) -> None:
    """Against the fake OpenAI server: a broken first answer, then a valid one, is two calls and one repair."""
    async with FaultServer(default=answer_from_request) as upstream:
        upstream.script(invalid_json())
        async with app_client(llm_settings(openai_base_url=upstream.base_url)) as client:
            response = await client.post("/v1/summaries", json={"text": TEXT})
            text = (await client.get("/metrics")).text
    assert response.status_code == 200, response.text
    usage = response.json()["meta"]["usage"]
    assert upstream.calls == 2
    assert value(text, "summarizer_upstream_calls_total", engine="llm", outcome="ok") == 2
    assert value(text, "summarizer_repairs_total") == 1
    assert value(text, "summarizer_tokens_total", direction="in") == usage["prompt_tokens"] > 0
    assert value(text, "summarizer_tokens_total", direction="out") == usage["completion_tokens"] > 0


async def test_a_repeated_request_is_a_cache_hit() -> None:
    """A repeat is served from the cache, unless the article's options, the engine (so the key) changed or the
    caller asks for a refresh."""
    summarizer, metrics = summarizer_with(FakeEngine())
    first = await summarizer.summarize(ArticleIn(text=TEXT))
    again = await summarizer.summarize(ArticleIn(text=TEXT))
    dated = await summarizer.summarize(ArticleIn(text=TEXT, published_at=date(2024, 2, 12)))
    assert (again.id, again.meta.cached, again.summary) == (first.id, True, first.summary)
    assert dated.id != first.id and dated.meta.cached is False
    refreshed = await summarizer.summarize(ArticleIn(text=TEXT), refresh=True)
    assert refreshed.meta.cached is False
    other_model = FakeEngine()
    other_model.model = "fake-2"
    summarizer.engine = other_model
    changed = await summarizer.summarize(ArticleIn(text=TEXT))
    assert changed.id != first.id and changed.meta.cached is False
    text = metrics.exposition().decode()
    assert value(text, "summarizer_cache_lookups_total", result="hit") == 1
    assert value(text, "summarizer_cache_lookups_total", result="miss") == 3
