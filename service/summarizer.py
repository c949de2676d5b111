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

from service import grounding
from service.article import Article, ArticleIn, prepare
from service.cache.base import Cache
from service.config import Settings
from service.engines.base import Engine, EngineResult
from service.errors import DeadlineExceeded, NotFound, OutputError, UpstreamError, Usage
from service.result import Meta, SentenceOut, SummaryResult, UsageOut
from service.schema import SCHEMA_VERSION

log = logging.getLogger("service.summarizer")

_ID = re.compile(r"^[0-9a-f]{32}$")


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
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.fallback = fallback
        self.cache = cache
        self.prompt_version = prompt_version
        self._clock = clock
        self._inflight: dict[str, asyncio.Task[SummaryResult]] = {}

    def key_for(self, article: Article) -> str:
        """The cache key and result id: the normalised text and options, engine, model, prompt and schema."""
        material = json.dumps(
            [SCHEMA_VERSION, self.engine.name, self.engine.model, self.prompt_version, article.fingerprint]
        )
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    async def summarize(self, article_in: ArticleIn, *, refresh: bool = False) -> SummaryResult:
        """A validated summary of the article; `refresh` skips the cache lookup and overwrites the entry."""
        started = self._clock()
        article = prepare(
            article_in, max_chars=self.settings.max_article_chars, max_sentences=self.settings.max_sentences
        )
        key = self.key_for(article)
        if not refresh:
            hit = await self._cache_get(key)
            if hit is not None:
                return self._stamp(SummaryResult.model_validate_json(hit), started, cached=True)
        result = await asyncio.shield(self._single_flight(key, article))
        return self._stamp(result, started, cached=False)

    async def get(self, summary_id: str) -> SummaryResult:
        started = self._clock()
        hit = await self._cache_get(summary_id) if _ID.match(summary_id) else None
        if hit is None:
            raise NotFound(f"no cached summary with id {summary_id!r}", summary_id=summary_id)
        return self._stamp(SummaryResult.model_validate_json(hit), started, cached=True)

    async def check_ready(self) -> None:
        await self.cache.ping()
        await self.engine.check_ready()

    async def aclose(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        await self.engine.aclose()
        if self.fallback is not None:
            await self.fallback.aclose()
        await self.cache.aclose()

    # --- internals --------------------------------------------------------------------------------

    def _stamp(self, result: SummaryResult, started: float, *, cached: bool) -> SummaryResult:
        latency_ms = round((self._clock() - started) * 1000, 2)
        meta = result.meta.model_copy(update={"cached": cached, "latency_ms": latency_ms})
        return result.model_copy(update={"meta": meta})

    def _single_flight(self, key: str, article: Article) -> asyncio.Task[SummaryResult]:
        """One computation per key in this process; concurrent callers share its result or its error."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._compute(key, article), name=f"summarize:{key}")
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: str, task: asyncio.Task[SummaryResult]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited any more is not reported as lost

    async def _compute(self, key: str, article: Article) -> SummaryResult:
        engine, degraded, warnings = self.engine, False, []
        attempts, usage = 0, Usage()
        try:
            outcome = await self._run(self.engine, article)
        except (UpstreamError, OutputError) as error:
            if self.fallback is None:
                raise
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
            outcome = await self._run(self.fallback, article)
        result = SummaryResult(
            id=key,
            summary=outcome.summary,
            sentences=[
                SentenceOut(id=s.id, text=s.text, start=s.start, end=s.end) for s in article.sentences
            ],
            meta=Meta(
                engine=engine.name,
                model=engine.model,
                prompt_version=self.prompt_version if engine is self.engine else "none",
                schema_version=SCHEMA_VERSION,
                cached=False,
                attempts=attempts + outcome.attempts,
                usage=UsageOut(
                    prompt_tokens=usage.prompt_tokens + outcome.usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens + outcome.usage.completion_tokens,
                ),
                latency_ms=0.0,
                warnings=[*warnings, *outcome.warnings],
                degraded=degraded,
            ),
        )
        ttl = self.settings.degraded_ttl_s if degraded else self.settings.cache_ttl_s
        await self._cache_set(key, result.model_dump_json().encode(), ttl)
        return result

    async def _run(self, engine: Engine, article: Article) -> EngineResult:
        """One engine, bounded by the request deadline, its output checked by the shared grounding rules."""
        deadline = self.settings.deadline_s
        try:
            async with asyncio.timeout(deadline):
                outcome = await engine.summarize(article, deadline_s=deadline)
        except TimeoutError as e:
            raise DeadlineExceeded(f"no summary within the {deadline:g} s deadline") from e
        violations = grounding.check(outcome.summary, article)
        if violations:
            log.error("engine %s returned an ungrounded summary: %s", engine.name, violations[:5])
            raise OutputError(
                f"the {engine.name} engine's summary failed grounding",
                violations=violations,
                attempts=outcome.attempts,
                usage=outcome.usage,
            )
        return outcome

    async def _cache_get(self, key: str) -> bytes | None:
        try:
            return await self.cache.get(key)
        except Exception as e:  # a cache outage costs a recomputation, never the request
            log.warning("cache %s get failed: %s", self.cache.name, type(e).__name__)
            return None

    async def _cache_set(self, key: str, value: bytes, ttl_s: int) -> None:
        try:
            await self.cache.set(key, value, ttl_s)
        except Exception as e:
            log.warning("cache %s set failed: %s", self.cache.name, type(e).__name__)
