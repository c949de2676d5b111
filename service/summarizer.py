"""Orchestration: prepare → cache → single-flight → engine (→ fallback) → grounding → cache.

No HTTP here: the API, the CLI and the Slack bot all call `Summarizer.summarize` and get either a validated
`SummaryResult` or a typed `SummarizerError`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from service import grounding
from service.article import Article, ArticleIn, prepare
from service.cache.base import Cache
from service.cache.results import ResultStore
from service.cache.shared_flight import SharedLocks, shared_flight
from service.config import Settings
from service.derived import derive_places
from service.engines.base import Engine, EngineResult
from service.errors import (
    ConflictingInput,
    DeadlineExceeded,
    NoSentences,
    NotFound,
    OutputError,
    UpstreamError,
    UrlForbidden,
    Usage,
    Violation,
)
from service.language import LanguageCheck
from service.metrics import Metrics
from service.result import DerivedOut, Meta, SentenceOut, SummaryResult, UsageOut
from service.schema import SCHEMA_VERSION, IncidentSummary
from service.text import html_extract
from service.url_fetch import FetchedPage

log = logging.getLogger("service.summarizer")

_FALLBACK_MIN_S = 1.0
_DEADLINE_GRACE_S = 0.5
_ID = re.compile(r"^[0-9a-f]{32}$")
_SUMMARY_FIELDS = tuple(name for name in ArticleIn.model_fields if name not in ("source_url", "url"))


class PageFetcher(Protocol):
    """What the summarizer needs of `service.url_fetch.UrlFetcher`: one checked fetch of a `url` request."""

    async def fetch(self, url: str) -> FetchedPage: ...


class Summarizer:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        cache: Cache,
        prompt_version: str,
        fallback: Engine | None = None,
        clock: Callable[[], float] = time.perf_counter,
        metrics: Metrics | None = None,
        fetcher: PageFetcher | None = None,
        languages: LanguageCheck | None = None,
    ) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.languages = languages
        self.engine = engine
        self.fallback = fallback
        self.cache = cache
        self.prompt_version = prompt_version
        self._clock = clock
        self.results = ResultStore(cache)
        self._inflight: dict[str, asyncio.Task[SummaryResult]] = {}
        self.metrics = metrics or Metrics()
        self.metrics.track_inflight(lambda: len(self._inflight))

    def key_for(self, article_in: ArticleIn) -> str:
        """The cache key and result id: the article as sent (every field that can change its summary; the
        source URL is metadata), engine, model, endpoint, prompt and schema. Computed before any preparation,
        so a hit costs one look-up."""
        fields = [getattr(article_in, name) for name in _SUMMARY_FIELDS]
        if article_in.url is not None:  # a fetched page: its URL and the text fetched (see `_fetched`)
            fields.append(article_in.url)
        endpoint = getattr(self.engine, "endpoint", None)  # an engine with a network endpoint names it
        material = json.dumps(
            [SCHEMA_VERSION, self.engine.name, self.engine.model, endpoint, self.prompt_version, *fields],
            default=str,
        )
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    async def summarize(self, article_in: ArticleIn, *, refresh: bool = False) -> SummaryResult:
        """A validated summary of the article; `refresh` skips the cache lookup and overwrites the entry."""
        started = self._clock()
        if article_in.url is not None:
            article_in = await self._fetched(article_in)
        key = self.key_for(article_in)
        if not refresh:
            hit = await self.results.get(key)
            self.metrics.cache_lookup(hit is not None)
            if hit is not None:
                return self._stamp(hit, started, cached=True)
            failed = await self.results.get_failure(key) if self.settings.failure_ttl_s else None
            if failed is not None:
                raise failed
        article = prepare(
            article_in, max_chars=self.settings.max_article_chars, max_sentences=self.settings.max_sentences
        )
        if self.languages is not None and self.languages.needed_for(self.engine.name):
            # the extractive engine reads English only (service/language.py); the first check loads the model
            await asyncio.to_thread(self.languages.require, self.engine.name, article.text)
        result = await asyncio.shield(self._single_flight(key, article, shared=not refresh))
        # cached: another replica computed it while this one waited (see `_compute`)
        return self._stamp(result, started, cached=result.meta.cached)

    async def get(self, summary_id: str) -> SummaryResult:
        started = self._clock()
        hit = await self.results.get(summary_id) if _ID.match(summary_id) else None
        if hit is None:
            raise NotFound(f"no cached summary with id {summary_id!r}", summary_id=summary_id)
        return self._stamp(hit, started, cached=True)

    async def warm_up(self) -> None:
        """Open the cache (SQLite: file, WAL and schema, once) and load the engines' data, so the first request
        pays for neither. A cache that cannot be reached yet is logged, not fatal: /readyz reports it, requests
        compute without it, and it is retried on every call."""
        try:
            await self.cache.ping()
        except Exception as e:
            log.warning("cache %s is not reachable at start-up: %s", self.cache.name, type(e).__name__)
        for engine in (self.engine, self.fallback):
            if engine is not None:
                await engine.check_ready()

    async def check_ready(self) -> None:
        await self.cache.ping()
        await self.engine.check_ready()

    async def aclose(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        # wait for them: they release their shared locks before the cache closes
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.engine.aclose()
        if self.fallback is not None:
            await self.fallback.aclose()
        await self.cache.aclose()

    # --- internals --------------------------------------------------------------------------------

    async def _fetched(self, article_in: ArticleIn) -> ArticleIn:
        """A `url` request with the page's main text as its `text` (HTML through the same extraction as an
        `html` request) and the URL as its `source_url`. The cache key is the URL and that text: a page
        whose markup changes (ads, timestamps) but whose article does not is still a hit."""
        url = article_in.url
        assert url is not None
        if article_in.text is not None or article_in.html is not None:
            raise ConflictingInput("send one of `text`, `html` or `url`, not several")
        if self.fetcher is None:
            raise UrlForbidden("this service does not fetch URLs", url=url)
        page = await self.fetcher.fetch(url)
        text = (
            await asyncio.to_thread(html_extract.main_text, page.body) if page.kind == "html" else page.body
        )
        if not text.strip():
            raise NoSentences(f"the page at {url} has no article text")
        return article_in.model_copy(update={"text": text, "source_url": article_in.source_url or url})

    def _stamp(self, result: SummaryResult, started: float, *, cached: bool) -> SummaryResult:
        latency_ms = round((self._clock() - started) * 1000, 2)
        meta = result.meta.model_copy(update={"cached": cached, "latency_ms": latency_ms})
        return result.model_copy(update={"meta": meta})

    def _single_flight(self, key: str, article: Article, *, shared: bool) -> asyncio.Task[SummaryResult]:
        """One computation per key in this process; concurrent callers share its result or its error."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._compute(key, article, shared), name=f"summarize:{key}")
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: str, task: asyncio.Task[SummaryResult]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited any more is not reported as lost

    async def _compute(self, key: str, article: Article, shared: bool) -> SummaryResult:
        """With a cache shared by replicas (Redis), one replica computes and the others wait for its result;
        a refresh computes here."""
        if not (shared and isinstance(self.cache, SharedLocks)):
            return await self._compute_here(key, article, self.settings.deadline_s)
        flight = await shared_flight(
            self.cache,
            key,
            lambda remaining_s: self._compute_here(key, article, remaining_s),
            budget_s=self.settings.deadline_s,
        )
        self.metrics.flight(flight.role)
        if flight.cached is not None:
            hit = self.results.parse(key, flight.cached)
            return hit.model_copy(update={"meta": hit.meta.model_copy(update={"cached": True})})
        assert flight.computed is not None
        return flight.computed

    async def _compute_here(self, key: str, article: Article, deadline_s: float) -> SummaryResult:
        engine, degraded, warnings = self.engine, False, []
        attempts, usage = 0, Usage()
        started = time.monotonic()
        try:
            outcome = await self._run(self.engine, article, deadline_s)
        except (UpstreamError, OutputError) as error:
            if await asyncio.to_thread(self._unreadable_by, self.fallback, article):
                raise  # the fallback cannot read this article's language: the primary's error stands
            if self.fallback is None:
                if isinstance(error, OutputError) and self.settings.failure_ttl_s:
                    await self.results.put_failure(key, error, self.settings.failure_ttl_s)
                raise
            self.metrics.fallback(error)
            log.warning(
                "engine %s failed (%s); answering with %s",
                engine.name,
                type(error).__name__,
                self.fallback.name,
            )
            attempts, usage = error.attempts, error.usage
            warnings.append(
                f"{engine.name} engine failed ({type(error).__name__}: {error.message}); "
                f"this is the {self.fallback.name} engine's summary"
            )
            engine, degraded = self.fallback, True
            # what is left of the request's deadline, but at least a moment: the extractive engine needs
            # milliseconds, and a request may so outlive its deadline by at most _FALLBACK_MIN_S
            remaining = deadline_s - (time.monotonic() - started)
            outcome = await self._run(self.fallback, article, max(_FALLBACK_MIN_S, remaining))
        result = SummaryResult(
            id=key,
            summary=outcome.summary,
            sentences=[
                SentenceOut(id=s.id, text=s.text, start=s.start, end=s.end) for s in article.sentences
            ],
            meta=Meta(
                engine=engine.name,
                model=outcome.served_by or engine.model,
                system_fingerprint=outcome.system_fingerprint,
                cost_usd=self._cost(outcome.served_by or engine.model, usage + outcome.usage),
                prompt_version=self.prompt_version if engine is self.engine else "none",
                schema_version=SCHEMA_VERSION,
                cached=False,
                attempts=attempts + outcome.attempts,
                usage=UsageOut(
                    prompt_tokens=usage.prompt_tokens + outcome.usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens + outcome.usage.completion_tokens,
                    cached_tokens=usage.cached_tokens + outcome.usage.cached_tokens,
                ),
                latency_ms=0.0,
                warnings=[*warnings, *outcome.warnings],
                degraded=degraded,
                derived=[DerivedOut(path=f.path, value=f.value, basis=f.basis) for f in outcome.derived],
            ),
        )
        ttl = self.settings.degraded_ttl_s if degraded else self.settings.cache_ttl_s
        await self.results.put(key, result, ttl)
        return result

    def _unreadable_by(self, engine: Engine | None, article: Article) -> bool:
        if engine is None or self.languages is None:
            return False
        return self.languages.supported(engine.name, article.text) is not None

    def _cost(self, model: str, usage: Usage) -> float | None:
        """The calls' cost at the model's price (SUMMARIZER_PRICES), or None without one."""
        price = self.settings.prices.get(model)
        if price is None:
            return None
        return round((usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1_000_000, 6)

    async def _run(self, engine: Engine, article: Article, deadline_s: float | None = None) -> EngineResult:
        """One engine, bounded by the request deadline; its summary accepted on the gate's verdict (the one
        grounding check), then its derived facts added (`service.derived`)."""
        deadline = self.settings.deadline_s if deadline_s is None else deadline_s
        judged: tuple[IncidentSummary, list[Violation]] | None = None  # the last candidate judged

        def judge(summary: IncidentSummary) -> list[Violation]:
            nonlocal judged
            judged = (summary, grounding.check(summary, article))
            return judged[1]

        started = time.perf_counter()
        try:
            # a moment past the engine's own deadline: an engine that keeps it reports what it spent
            # (attempts, usage); the summarizer's bound is for one that does not
            async with asyncio.timeout(deadline + _DEADLINE_GRACE_S):
                outcome = await engine.summarize(article, deadline_s=deadline, judge=judge)
        except TimeoutError as e:
            error = DeadlineExceeded(f"no summary within the {deadline:g} s deadline")
            self.metrics.engine_run(engine.name, time.perf_counter() - started, None, error)
            raise error from e
        except Exception as e:
            self.metrics.engine_run(engine.name, time.perf_counter() - started, None, e)
            raise
        self.metrics.engine_run(engine.name, time.perf_counter() - started, outcome)
        violations = judged[1] if judged and judged[0] is outcome.summary else judge(outcome.summary)
        if violations:
            log.error("engine %s returned an ungrounded summary: %s", engine.name, violations[:5])
            raise OutputError(
                f"the {engine.name} engine's summary failed grounding",
                violations=violations,
                attempts=outcome.attempts,
                usage=outcome.usage,
            )
        summary, derived = await asyncio.to_thread(derive_places, outcome.summary, article)
        if not derived:
            return outcome
        noted = tuple(f"{f.path}: {f.value!r} derived by the service ({f.basis})" for f in derived)
        return replace(outcome, summary=summary, warnings=(*outcome.warnings, *noted), derived=derived)
