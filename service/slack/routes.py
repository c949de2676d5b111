"""`POST /slack/events`: where Slack sends the slash command and the shortcut, handed to the bolt app.

Every request's signature and timestamp are checked here, before bolt sees it: a forged or stale request gets
401, is counted in `/metrics` (`slack_signature_failures_total`) and is logged as one line with its size only,
never its body. The router's lifespan lets summaries still being written finish (or cancels them after
`drain_timeout_s`) when the service stops.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from service.cache.shared_flight import SharedLocks
from service.config import Settings
from service.metrics import Metrics
from service.slack.app import SummarizerLike, build_slack_bot

log = logging.getLogger(__name__)


def slack_router(
    settings: Settings,
    summarizer: SummarizerLike,
    *,
    drain_timeout_s: float = 10.0,
    metrics: Metrics | None = None,
    shared: SharedLocks | None = None,
) -> APIRouter:
    """The Slack endpoint and its lifespan; `create_app` includes it when SLACK_SIGNING_SECRET is set."""
    metrics = metrics or Metrics()
    bot = build_slack_bot(settings, summarizer, metrics, shared)
    handler = AsyncSlackRequestHandler(bot.app)
    assert settings.slack_signing_secret is not None  # build_slack_bot refuses to build without it
    verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await bot.tasks.drain(drain_timeout_s)

    router = APIRouter(lifespan=lifespan)

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()  # at most MAX_BODY_BYTES (service/limits.py)
        if not verifier.is_valid_request(body, dict(request.headers)):
            metrics.slack_signature_failure()
            log.warning("slack: refused a request with a bad or stale signature (%d bytes)", len(body))
            return Response('{"error":"invalid request"}', status_code=401, media_type="application/json")
        return await handler.handle(request)

    return router
