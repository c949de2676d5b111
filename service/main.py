"""The application factory: `create_app(settings)` builds everything the service needs, once, from settings.

Run with `uvicorn --factory service.main:create_app` or `incident-summarizer serve`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service import logs, problems
from service.api import deliveries, health, summaries, view
from service.api.deps import admit
from service.api.openapi import serve_openapi
from service.cache import build_cache
from service.cache.redis_guard import RedisGuard
from service.config import Settings
from service.engines.base import Engine
from service.engines.factory import build_engine, build_fallback, prompt_version
from service.language import LanguageCheck
from service.limits import RequestLimits
from service.metrics import Metrics
from service.prompts import Prompts
from service.ratelimit import build_rate_limiter, refresh_spec
from service.render.evidence import EvidencePage
from service.request_context import RequestContextMiddleware
from service.slack.delivery import SlackDelivery, build_web_client
from service.summarizer import Summarizer
from service.url_fetch import Allowlist, UrlFetcher
from service.view_links import ViewLinks

API_DESCRIPTION = """
Turns a news article about an incident into a structured summary in which every fact cites the article's own
sentences (`S1..Sn`). Errors are RFC 9457 problem details (`application/problem+json`) with a stable `type`.
"""


def build_summarizer(
    settings: Settings,
    metrics: Metrics | None = None,
    *,
    engine: Engine | None = None,
    redis_guard: RedisGuard | None = None,
) -> Summarizer:
    """The summarizer the settings describe: engine (unless one is given), fallback, cache (a Redis one calls
    through `redis_guard`, or a guard of its own from the settings). Constructors do no I/O."""
    prompts = Prompts.load()
    engine = engine or build_engine(settings, prompts)
    return Summarizer(
        settings=settings,
        engine=engine,
        cache=build_cache(settings.cache_url, redis_guard=redis_guard or RedisGuard.from_settings(settings)),
        prompt_version=prompt_version(engine, prompts, settings),
        fallback=build_fallback(settings, prompts),
        metrics=metrics,
        fetcher=build_fetcher(settings),
        languages=LanguageCheck(),
    )


def build_fetcher(settings: Settings) -> UrlFetcher:
    """The fetcher of `url` requests, its SSRF guard on (only `URL_ALLOWLIST` lets private addresses through)."""
    return UrlFetcher(
        allowlist=Allowlist.parse(settings.url_allowlist),
        max_bytes=settings.url_max_bytes,
        timeout_s=settings.url_timeout_s,
        max_redirects=settings.url_max_redirects,
    )


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The app: routes, middleware, problem handlers and lifespan. `engine` replaces the engine the settings
    choose (tests, embedding); the fallback is still built from the settings."""
    settings = settings or Settings()
    logs.configure(settings.log_level)  # JSON lines, unless the host process configured logging already
    metrics = Metrics()
    # one per process for everything that talks to Redis (cache, locks, rate limits): a Redis that hangs
    # costs a few short calls, then none until it answers again
    redis_guard = RedisGuard.from_settings(settings)
    summarizer = build_summarizer(settings, metrics, engine=engine, redis_guard=redis_guard)
    rate_limiter = build_rate_limiter(settings, redis_guard=redis_guard)
    refresh_limiter = build_rate_limiter(settings, spec=refresh_spec(settings), redis_guard=redis_guard)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await summarizer.warm_up()
        try:
            yield
        finally:
            await summarizer.aclose()
            for limiter in (rate_limiter, refresh_limiter):
                if limiter is not None:
                    await limiter.aclose()

    app = FastAPI(
        title="incident-summarizer",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        exception_handlers=problems.exception_handlers(),
    )
    app.state.settings = settings
    app.state.summarizer = summarizer
    app.state.rate_limiter = rate_limiter
    app.state.refresh_limiter = refresh_limiter
    app.state.metrics = metrics
    app.state.view_links = ViewLinks.from_settings(settings)
    app.state.evidence_page = EvidencePage()
    app.state.slack_delivery = SlackDelivery(build_web_client(settings))
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_s=settings.body_timeout_s,
        admit=admit,  # the API key and the rate limit, before the body is read
    )
    # Request ids, access log and request metrics: added last so it is the outermost middleware.
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    # Routes are matched in order: the busiest first (the key check and rate limit are the router's own).
    app.include_router(summaries.router)
    app.include_router(health.router)
    app.include_router(view.router)
    app.mount(*view.assets(), name="evidence-assets")
    app.include_router(deliveries.router)
    if settings.slack_signing_secret is not None:
        from service.cache.shared_flight import SharedLocks
        from service.slack.routes import slack_router

        shared = summarizer.cache if isinstance(summarizer.cache, SharedLocks) else None
        app.include_router(slack_router(settings, summarizer, metrics=metrics, shared=shared))
    serve_openapi(app, keys_required=bool(settings.api_keys))
    return app
