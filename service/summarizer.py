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
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache

from service import grounding
from service.article import Article, ArticleIn, prepare
from service.cache.base import Cache
from service.cache.parsed import ParsedResults
from service.cache.shared_flight import SharedLocks, shared_flight
from service.config import Settings
from service.engines.base import Engine, EngineResult
from service.errors import DeadlineExceeded, NotFound, OutputError, UpstreamError, Usage
from service.metrics import Metrics
from service.request_context import note_result
from service.result import DerivedOut, Meta, SentenceOut, SummaryResult, UsageOut
from service.schema import SCHEMA_VERSION

log = logging.getLogger("service.summarizer")

_FALLBACK_MIN_S = 1.0
_ID = re.compile(r"^[0-9a-f]{32}$")
# Preparing an article (normalisation, boilerplate) costs more than serving its summary from the cache, so
# the fingerprints of this many recent requests are remembered: a repeated request skips preparation.
_KNOWN_REQUESTS = 4096
# Every field of a request that can change its summary (the source URL is metadata only).
_DIGESTED_FIELDS = tuple(name for name in ArticleIn.model_fields if name != "source_url")


def _request_digest(article_in: ArticleIn) -> bytes:
    """What identifies a request's article before preparation (preparation is a pure function of it).

    The fields are hashed directly, each prefixed by its length (half the cost of hashing their JSON)."""
    digest = hashlib.sha256()
    for name in _DIGESTED_FIELDS:
        value = getattr(article_in, name)
        data = b"\xff" if value is None else str(value).encode("utf-8", "surrogatepass")  # b"\xff": no UTF-8
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.digest()


@lru_cache(maxsize=_KNOWN_REQUESTS)
def _cache_key(engine: str, model: str, prompt_version: str, fingerprint: str) -> str:
    """A pure function of its arguments, remembered for the requests seen recently (a hit asks for it again)."""
    material = json.dumps([SCHEMA_VERSION, engine, model, prompt_version, fingerprint])
    return hashlib.sha256(material.encode()).hexdigest()[:32]


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
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.fallback = fallback
        self.cache = cache
        self.prompt_version = prompt_version
        self._clock = clock
        self._inflight: dict[str, asyncio.Task[SummaryResult]] = {}
        # request digest -> article fingerprint, for the requests prepared most recently
        self._fingerprints: OrderedDict[bytes, str] = OrderedDict()
        # the results last read from or written to the cache, parsed: a hit on the same bytes reuses them
        self._parsed = ParsedResults()
        self.metrics = metrics or Metrics()
        self.metrics.track_inflight(lambda: len(self._inflight))

    def key_for(self, article: Article) -> str:
        """The cache key and result id: the normalised text and options, engine, model, prompt and schema."""
        return self._key(article.fingerprint)

    def _key(self, fingerprint: str) -> str:
        return _cache_key(self.engine.name, self.engine.model, self.prompt_version, fingerprint)

    async def summarize(self, article_in: ArticleIn, *, refresh: bool = False) -> SummaryResult:
        """A validated summary of the article; `refresh` skips the cache lookup and overwrites the entry."""
        started = self._clock()
        request = _request_digest(article_in)
        known = self._fingerprints.get(request)
        if known is not None and not refresh:  # seen before: a cache hit needs no preparation
            hit = await self._lookup(self._key(known))
            if hit is not None:
                return self._stamp(hit, started, cached=True)
        article = prepare(
            article_in, max_chars=self.settings.max_article_chars, max_sentences=self.settings.max_sentences
        )
        self._remember(request, article.fingerprint)
        key = self.key_for(article)
        if known is None and not refresh:
            hit = await self._lookup(key)
            if hit is not None:
                return self._stamp(hit, started, cached=True)
        result = await asyncio.shield(self._single_flight(key, article, shared=not refresh))
        # cached: another replica computed it while this one waited (see `_compute`)
        return self._stamp(result, started, cached=result.meta.cached)

    async def get(self, summary_id: str) -> SummaryResult:
        started = self._clock()
        hit = await self._cache_get(summary_id) if _ID.match(summary_id) else None
        if hit is None:
            raise NotFound(f"no cached summary with id {summary_id!r}", summary_id=summary_id)
        return self._stamp(self._parsed.parse(summary_id, hit), started, cached=True)

    def dump_json(self, result: SummaryResult) -> bytes:
        """`result.model_dump_json()` of a result this summarizer returned, without serializing its summary and
        sentences again when they are those of a kept result (see `service.cache.parsed`)."""
        return self._parsed.dump_json(result)

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
        self._parsed.clear()

    # --- internals --------------------------------------------------------------------------------

    async def _lookup(self, key: str) -> SummaryResult | None:
        hit = await self._cache_get(key)
        self.metrics.cache_lookup(hit is not None)
        return self._parsed.parse(key, hit) if hit is not None else None

    def _remember(self, request: bytes, fingerprint: str) -> None:
        self._fingerprints[request] = fingerprint
        self._fingerprints.move_to_end(request)
        if len(self._fingerprints) > _KNOWN_REQUESTS:
            self._fingerprints.popitem(last=False)

    def _stamp(self, result: SummaryResult, started: float, *, cached: bool) -> SummaryResult:
        latency_ms = round((self._clock() - started) * 1000, 2)
        meta = result.meta.model_copy(update={"cached": cached, "latency_ms": latency_ms})
        note_result(engine=meta.engine, cached=cached)
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
            hit = self._parsed.parse(key, flight.cached)
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
            if self.fallback is None:
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
                derived=[DerivedOut(path=f.path, value=f.value, basis=f.basis) for f in outcome.derived],
            ),
        )
        ttl = self.settings.degraded_ttl_s if degraded else self.settings.cache_ttl_s
        await self._cache_set(key, self._parsed.serialize(result), ttl)
        return result

    async def _run(self, engine: Engine, article: Article, deadline_s: float | None = None) -> EngineResult:
        """One engine, bounded by the request deadline, its output checked by the shared grounding rules."""
        deadline = self.settings.deadline_s if deadline_s is None else deadline_s
        started = time.perf_counter()
        try:
            async with asyncio.timeout(deadline):
                outcome = await engine.summarize(article, deadline_s=deadline)
        except TimeoutError as e:
            error = DeadlineExceeded(f"no summary within the {deadline:g} s deadline")
            self.metrics.engine_run(engine.name, time.perf_counter() - started, None, error)
            raise error from e
        except Exception as e:
            self.metrics.engine_run(engine.name, time.perf_counter() - started, None, e)
            raise
        self.metrics.engine_run(engine.name, time.perf_counter() - started, outcome)
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
