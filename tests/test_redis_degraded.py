"""Redis as an optional dependency: a Redis that hangs (accepts, never answers) costs a few short calls, then
none until the guard's cool-down ends; requests are answered by computing, rate limits hold in the process,
warnings come once an interval, and /readyz reports the cache as degraded without a 503.

No real Redis: a loopback server that accepts and never answers (tests/fakes/hanging_server.py) counts the
calls that reached it. Time is bounded by the injected timeouts and read from an injected clock, never measured.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from service.cache.redis import RedisCache
from service.cache.redis_guard import RedisGuard
from service.config import Settings
from service.errors import CacheUnavailable
from tests.conftest import (
    AppClient,
    FakeClock,
    FakeEngine,
    assert_problem,
    sample_text,
    throwaway_redis_server,
)
from tests.fakes.hanging_server import HangingServer

SYRIA = sample_text("syria_checkpoint_shootout")
FAILURES = 3


@pytest.fixture
async def hanging() -> AsyncIterator[HangingServer]:
    async with HangingServer() as server:
        yield server


def settings_for(url: str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "engine": "extractive",
        "cache_url": url,
        "redis_timeout_s": 0.05,
        "redis_breaker_failures": FAILURES,
        "redis_breaker_cooldown_s": 600,
        "rate_limit_per_minute": 1,
        "rate_limit_burst": 4,
    }
    return Settings(**(base | overrides))


# --- over HTTP, against a Redis that hangs ------------------------------------------------------------------


async def test_a_hanging_redis_is_skipped_after_a_few_calls_and_requests_are_answered(
    app_client: AppClient, hanging: HangingServer, caplog: pytest.LogCaptureFixture
) -> None:
    engine = FakeEngine()
    with caplog.at_level(logging.WARNING):
        async with app_client(settings_for(hanging.redis_url), engine=engine) as client:
            first = await client.post("/v1/summaries", json={"text": SYRIA})
            assert first.status_code == 200 and first.json()["meta"]["cached"] is False
            reached = hanging.connections
            warned = len(caplog.records)
            statuses = [
                (await client.post("/v1/summaries", json={"text": f"{SYRIA} Update {i}."})).status_code
                for i in range(5)
            ]
            ready = await client.get("/readyz")
            guard: RedisGuard = client.app.state.summarizer.cache.guard  # type: ignore[attr-defined]
    # every call that reached the hanging server came before the guard opened: none after
    assert 1 <= reached <= FAILURES and hanging.connections == reached
    assert guard.state == "open" and guard.skipped >= 5 * 3  # rate limit, get, failure record, ... skipped
    # the rate limit held in this process: a burst of 4, then 429s
    assert statuses == [200, 200, 200, 429, 429]
    assert engine.calls == 4  # every admitted request computed: the cache counts as a miss
    # readiness: degraded, still in service
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "degraded",
        "checks": {"cache": "degraded: CacheUnavailable", "engine": "ok"},
    }
    # warnings: a few while the guard opened, none per request after it
    assert len(caplog.records) == warned <= 4, [r.getMessage() for r in caplog.records]


async def test_the_engine_alone_makes_a_replica_not_ready(
    app_client: AppClient, hanging: HangingServer
) -> None:
    engine = FakeEngine()
    async with app_client(settings_for(hanging.redis_url), engine=engine) as client:
        engine.ready_error = RuntimeError("no upstream")
        body = assert_problem(await client.get("/readyz"), 503, "not-ready")
    assert body["checks"]["engine"].startswith("failed") and body["checks"]["cache"].startswith("degraded")


# --- the guard on a cache, with a clock the test moves -------------------------------------------------------


async def test_after_the_cool_down_one_trial_call_reaches_redis(hanging: HangingServer) -> None:
    clock = FakeClock()
    guard = RedisGuard(timeout_s=0.05, failures=2, cooldown_s=30, clock=clock)
    cache = RedisCache(hanging.redis_url, guard=guard)
    try:
        for _ in range(2):
            with pytest.raises(CacheUnavailable):
                await cache.get("k")
        assert guard.state == "open" and hanging.connections == 2
        for _ in range(10):  # skipped: no I/O at all
            with pytest.raises(CacheUnavailable, match="skipped"):
                await cache.get("k")
        assert hanging.connections == 2 and guard.skipped == 10
        clock.advance(30)
        assert guard.state == "half_open"
        with pytest.raises(CacheUnavailable, match="failed"):
            await cache.get("k")  # the trial
        assert hanging.connections == 3 and guard.state == "open"
        with pytest.raises(CacheUnavailable, match="skipped"):
            await cache.ping()
        assert hanging.connections == 3
    finally:
        await cache.aclose()


# --- the guard alone --------------------------------------------------------------------------------------------


async def _unreachable() -> None:
    raise RedisConnectionError("connection refused")


async def _answered_with_an_error() -> None:
    raise ResponseError("WRONGTYPE")


async def _ok() -> str:
    return "PONG"


async def test_an_error_redis_answers_with_proves_it_is_up() -> None:
    guard = RedisGuard(failures=2, cooldown_s=10, clock=FakeClock())
    for _ in range(5):
        with pytest.raises(CacheUnavailable):
            await guard.call("get", _unreachable)
        with pytest.raises(ResponseError):
            await guard.call("get", _answered_with_an_error)
    assert guard.state == "closed"


async def test_a_successful_trial_closes_the_guard(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    guard = RedisGuard(failures=1, cooldown_s=10, clock=clock)
    with pytest.raises(CacheUnavailable):
        await guard.call("get", _unreachable)
    assert guard.state == "open"
    clock.advance(10)
    with caplog.at_level(logging.WARNING, logger="service.cache"):
        assert await guard.call("get", _ok) == "PONG"
    assert guard.state == "closed" and "answers again" in caplog.records[-1].getMessage()


async def test_failures_are_logged_once_an_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    guard = RedisGuard(failures=1000, cooldown_s=10, warn_every_s=60, clock=clock)
    with caplog.at_level(logging.WARNING, logger="service.cache"):
        for _ in range(50):  # 50 failures in 50 s: one warning
            with pytest.raises(CacheUnavailable) as caught:
                await guard.call("get", _unreachable)
            assert caught.value.reported
            clock.advance(1)
        clock.advance(10)
        with pytest.raises(CacheUnavailable):
            await guard.call("get", _unreachable)  # 61 s after the first warning: the second, with a count
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "50 failure(s) since the last warning" in messages[1]


# --- a real Redis, paused and resumed ------------------------------------------------------------------------


@pytest.mark.redis
async def test_a_paused_redis_is_skipped_then_used_again_once_it_answers() -> None:
    clock = FakeClock()
    with throwaway_redis_server() as server:
        guard = RedisGuard(timeout_s=0.2, failures=1, cooldown_s=10, clock=clock)
        cache = RedisCache(f"redis://127.0.0.1:{server.port}/0", guard=guard)
        try:
            await cache.set("k", b"v", 60)
            server.process.send_signal(signal.SIGSTOP)
            try:
                with pytest.raises(CacheUnavailable, match="failed"):
                    await cache.get("k")
                assert guard.state == "open"
                with pytest.raises(CacheUnavailable, match="skipped"):
                    await cache.get("k")
            finally:
                server.process.send_signal(signal.SIGCONT)
            clock.advance(10)
            assert await cache.get("k") == b"v"  # the trial finds it back
            assert guard.state == "closed"
        finally:
            await cache.aclose()
