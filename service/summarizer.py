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
from service.derived import derive
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


def with_page_text(article_in: ArticleIn, page: html_extract.Page) -> ArticleIn:
    """A `url` request as summarized: the page's main text as its `text`, the URL as its `source_url`, and
    the publication date the page states as its `published_at` unless the request gave one."""
    return article_in.model_copy(
        update={
            "text": page.text,
            "source_url": article_in.source_url or article_in.url,
            "published_at": article_in.published_at or page.published,
        }
    )


class PageFetcher(Protocol):
    """What the summarizer needs of `service.url_fetch.UrlFetcher`: one checked fetch of a `url` request."""

    async def fetch(self, url: str) -> FetchedPage: ...


def stored_as(key: str, scope: str | None) -> str:
    """Where the result `key` is stored: under its id, or (scoped results) under its id and the scope."""
    return key if scope is None else f"{key}.{scope}"


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
        if article_in.url is not None:  # a fetched page: its URL and the text fetched (see `fetched`)
            fields.append(article_in.url)
        endpoint = getattr(self.engine, "endpoint", None)  # an engine with a network endpoint names it
        material = json.dumps(
            [SCHEMA_VERSION, self.engine.name, self.engine.model, endpoint, self.prompt_version, *fields],
            default=str,
        )
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    async def summarize(
        self, article_in: ArticleIn, *, refresh: bool = False, scope: str | None = None
    ) -> SummaryResult:
        """A validated summary of the article; `refresh` skips the cache lookup and overwrites the entry.

        `scope` (RESULT_SCOPE=key: a digest of the caller's API key) keeps the result apart: it is stored,
        found and computed for that scope alone. The result's id is the same in every scope."""
        started = self._clock()
        if article_in.url is not None:
            article_in = await self.fetched(article_in)
        key = self.key_for(article_in)
        slot = stored_as(key, scope)
        if not refresh:
            hit = await self.results.get(slot)
            self.metrics.cache_lookup(hit is not None)
            if hit is not None:
                return self._stamp(hit, started, cached=True)
            failed = await self.results.get_failure(slot) if self.settings.failure_ttl_s else None
            if failed is not None:
                raise failed
        article = self.prepare(article_in)
        if self.languages is not None and self.languages.needed_for(self.engine.name):
            # the extractive engine reads English only (service/language.py); the first check loads the model
            await asyncio.to_thread(self.languages.require, self.engine.name, article.text)
        result = await asyncio.shield(self._single_flight(key, slot, article, shared=not refresh))
        # cached: another replica computed it while this one waited (see `_compute`)
        return self._stamp(result, started, cached=result.meta.cached)

    def prepare(self, article_in: ArticleIn) -> Article:
        """The article normalised within the configured limits (`InputError` when it cannot be summarized)."""
        return prepare(
            article_in, max_chars=self.settings.max_article_chars, max_sentences=self.settings.max_sentences
        )

    async def get(self, summary_id: str, *, scope: str | None = None) -> SummaryResult:
        """The cached result with this id (in `scope`, when results are scoped), else `NotFound`."""
        started = self._clock()
        hit = await self.results.get(stored_as(summary_id, scope)) if _ID.match(summary_id) else None
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

    async def fetched(self, article_in: ArticleIn) -> ArticleIn:
        """A `url` request with the page's main text as its `text` (HTML through the same extraction as an
        `html` request), the URL as its `source_url` and the page's publication date (`with_page_text`). The
        cache key is the URL, that text and that date: a page whose markup changes (ads, timestamps) but whose
        article does not is still a hit."""
        url = article_in.url
        assert url is not None
        if article_in.text is not None or article_in.html is not None:
            raise ConflictingInput("send one of `text`, `html` or `url`, not several")
        if self.fetcher is None:
            raise UrlForbidden("this service does not fetch URLs", url=url)
        fetched = await self.fetcher.fetch(url)
        page = (
            await asyncio.to_thread(html_extract.read_page, fetched.body)
            if fetched.kind == "html"
            else html_extract.Page(fetched.body)
        )
        if not page.text.strip():
            raise NoSentences(f"the page at {url} has no article text")
        return with_page_text(article_in, page)

    def _stamp(self, result: SummaryResult, started: float, *, cached: bool) -> SummaryResult:
        latency_ms = round((self._clock() - started) * 1000, 2)
        meta = result.meta.model_copy(update={"cached": cached, "latency_ms": latency_ms})
        return result.model_copy(update={"meta": meta})

    def _single_flight(
        self, key: str, slot: str, article: Article, *, shared: bool
    ) -> asyncio.Task[SummaryResult]:
        """One computation per slot in this process; concurrent callers share its result or its error."""
        task = self._inflight.get(slot)
        if task is None:
            task = asyncio.create_task(self._compute(key, slot, article, shared), name=f"summarize:{slot}")
            self._inflight[slot] = task
            task.add_done_callback(lambda done: self._forget(slot, done))
        return task

    def _forget(self, key: str, task: asyncio.Task[SummaryResult]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited any more is not reported as lost

    async def _compute(self, key: str, slot: str, article: Article, shared: bool) -> SummaryResult:
        """With a cache shared by replicas (Redis), one replica computes and the others wait for its result;
        a refresh computes here."""
        if not (shared and isinstance(self.cache, SharedLocks)):
            return await self._compute_here(key, slot, article, self.settings.deadline_s)
        flight = await shared_flight(
            self.cache,
            slot,
            lambda remaining_s: self._compute_here(key, slot, article, remaining_s),
            budget_s=self.settings.deadline_s,
        )
        self.metrics.flight(flight.role)
        if flight.cached is not None:
            hit = self.results.parse(slot, flight.cached)
            return hit.model_copy(update={"meta": hit.meta.model_copy(update={"cached": True})})
        assert flight.computed is not None
        return flight.computed

    async def _compute_here(self, key: str, slot: str, article: Article, deadline_s: float) -> SummaryResult:
        engine, degraded, warnings = self.engine, False, []
        attempts, usage = 0, Usage()
        started = time.monotonic()
        try:
            outcome = await self._run(self.engine, article, deadline_s)
        except (UpstreamError, OutputError) as error:
            if self.fallback is None:
                if isinstance(error, OutputError) and self.settings.failure_ttl_s:
                    await self.results.put_failure(slot, error, self.settings.failure_ttl_s)
                raise
            if await asyncio.to_thread(self._unreadable_by, self.fallback, article):
                raise  # the fallback cannot read this article's language: the primary's error stands
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
        result = self._result(
            key, article, engine, outcome, degraded=degraded, warnings=warnings, spent=(attempts, usage)
        )
        ttl = self.settings.degraded_ttl_s if degraded else self.settings.cache_ttl_s
        await self.results.put(slot, result, ttl)
        return result

    async def store(
        self, key: str, article: Article, outcome: EngineResult, *, batch_usage: Usage
    ) -> SummaryResult:
        """The result of a settled outcome of this summarizer's engine that arrived another way (the Batch
        API: `service.upstream_batch`), cached under `key` (`key_for` its article) like a computed one, so
        that a request for the article is a hit. `batch_usage`, the tokens of the Batch API rounds, is
        charged at the batch discount (`SUMMARIZER_BATCH_DISCOUNT`)."""
        result = self._result(key, article, self.engine, outcome, batch_usage=batch_usage)
        await self.results.put(key, result, self.settings.cache_ttl_s)
        return result

    def _result(
        self,
        key: str,
        article: Article,
        engine: Engine,
        outcome: EngineResult,
        *,
        degraded: bool = False,
        warnings: list[str] | None = None,
        spent: tuple[int, Usage] | None = None,  # what a failed engine spent before `engine` answered
        batch_usage: Usage | None = None,
    ) -> SummaryResult:
        attempts, usage = spent or (0, Usage())
        model = outcome.served_by or engine.model
        cost = self._cost(model, usage + outcome.usage)
        if cost is not None and batch_usage is not None:
            cost = round(cost - self.settings.batch_discount * (self._cost(model, batch_usage) or 0.0), 6)
        return SummaryResult(
            id=key,
            summary=outcome.summary,
            sentences=[
                SentenceOut(id=s.id, text=s.text, start=s.start, end=s.end, paragraph=p)
                for s, p in zip(article.sentences, article.paragraphs, strict=True)
            ],
            meta=Meta(
                engine=engine.name,
                model=model,
                system_fingerprint=outcome.system_fingerprint,
                cost_usd=cost,
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
                warnings=[*(warnings or []), *outcome.warnings],
                degraded=degraded,
                derived=[DerivedOut(path=f.path, value=f.value, basis=f.basis) for f in outcome.derived],
            ),
        )

    def _unreadable_by(self, engine: Engine, article: Article) -> bool:
        if self.languages is None:
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
        gate = Gate(article)
        started = time.perf_counter()
        try:
            # a moment past the engine's own deadline: an engine that keeps it reports what it spent
            # (attempts, usage); the summarizer's bound is for one that does not
            async with asyncio.timeout(deadline + _DEADLINE_GRACE_S):
                outcome = await engine.summarize(article, deadline_s=deadline, judge=gate)
        except TimeoutError as e:
            error = DeadlineExceeded(f"no summary within the {deadline:g} s deadline")
            self.metrics.engine_run(engine.name, time.perf_counter() - started, None, error)
            raise error from e
        except Exception as e:
            self.metrics.engine_run(engine.name, time.perf_counter() - started, None, e)
            raise
        self.metrics.engine_run(engine.name, time.perf_counter() - started, outcome)
        return await settle(engine.name, outcome, article, gate)


class Gate:
    """The one judge of an article's candidate summaries (`grounding.check`), handed to the engine; it keeps
    its last verdict, so the summary an engine returns is judged once."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self._last: tuple[IncidentSummary, list[Violation]] | None = None

    def __call__(self, summary: IncidentSummary) -> list[Violation]:
        self._last = (summary, grounding.check(summary, self.article))
        return self._last[1]

    def verdict(self, summary: IncidentSummary) -> list[Violation]:
        """The violations of `summary`: the last verdict when it is the candidate judged last."""
        return self._last[1] if self._last and self._last[0] is summary else self(summary)


async def settle(engine_name: str, outcome: EngineResult, article: Article, gate: Gate) -> EngineResult:
    """An engine's outcome accepted on the gate's verdict (`OutputError` when its summary is not grounded),
    with the facts the service derives added (`service.derived`): the step between an answer and a result,
    for the real-time path and the Batch API's."""
    violations = gate.verdict(outcome.summary)
    if violations:
        log.error("engine %s returned an ungrounded summary: %s", engine_name, violations[:5])
        raise OutputError(
            f"the {engine_name} engine's summary failed grounding",
            violations=violations,
            attempts=outcome.attempts,
            usage=outcome.usage,
        )
    summary, derived = await asyncio.to_thread(derive, outcome.summary, article)
    if not derived:
        return outcome
    noted = tuple(f"{f.path}: {f.value!r} derived by the service ({f.basis})" for f in derived)
    return replace(outcome, summary=summary, warnings=(*outcome.warnings, *noted), derived=derived)
