"""Per-client token buckets: the arithmetic on both backends (memory, real Redis), and 429s over HTTP."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from service.cache.redis import split_url
from service.cache.redis_guard import RedisGuard
from service.config import Settings
from service.errors import ClientRateLimited
from service.ratelimit import (
    BucketSpec,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    build_rate_limiter,
    client_digest,
)
from tests.conftest import AppClient, FakeEngine, assert_problem, sample_text

SYRIA = sample_text("syria_checkpoint_shootout")
KEY_A = "a" * 24
KEY_B = "b" * 24


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


Factory = Callable[[BucketSpec, Clock | None], Awaitable[RateLimiter]]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_limiter(request: pytest.FixtureRequest) -> AsyncIterator[Factory]:
    """Builds limiters of one backend (Redis: the shared `redis_url` fixture) and closes them after the test."""
    built: list[RateLimiter] = []
    url: str | None = request.getfixturevalue("redis_url") if request.param == "redis" else None

    async def factory(spec: BucketSpec, clock: Clock | None) -> RateLimiter:
        limiter: RateLimiter
        if url is None:
            limiter = MemoryRateLimiter(spec, clock=clock or time.monotonic)
        else:
            limiter = RedisRateLimiter.from_url(spec, url, clock=clock)
        built.append(limiter)
        return limiter

    yield factory
    for limiter in built:
        await limiter.aclose()


def _client() -> str:
    """A fresh client name per test: tests share the Redis server, never a bucket."""
    return f"test:{uuid.uuid4().hex}"


async def test_burst_then_refill(make_limiter: Factory) -> None:
    clock = Clock()
    limiter = await make_limiter(BucketSpec(capacity=3, per_minute=60), clock)  # one token a second
    client = _client()
    taken = [await limiter.take(client) for _ in range(4)]
    assert [d.allowed for d in taken] == [True, True, True, False]
    assert taken[2].remaining == pytest.approx(0)
    assert taken[3].retry_after_s == pytest.approx(1.0)
    clock.now += 0.25
    assert (await limiter.take(client)).retry_after_s == pytest.approx(0.75)
    clock.now += 0.75
    assert (await limiter.take(client)).allowed
    assert not (await limiter.take(client)).allowed


async def test_a_bucket_never_holds_more_than_its_capacity(make_limiter: Factory) -> None:
    clock = Clock()
    limiter = await make_limiter(BucketSpec(capacity=2, per_minute=600), clock)
    client = _client()
    await limiter.take(client)
    clock.now += 3600
    assert [(await limiter.take(client)).allowed for _ in range(3)] == [True, True, False]


async def test_clients_have_their_own_buckets(make_limiter: Factory) -> None:
    limiter = await make_limiter(BucketSpec(capacity=1, per_minute=1), Clock())
    first, second = _client(), _client()
    assert (await limiter.take(first)).allowed
    assert not (await limiter.take(first)).allowed
    assert (await limiter.take(second)).allowed


async def test_acquire_raises_with_the_wait(make_limiter: Factory) -> None:
    limiter = await make_limiter(BucketSpec(capacity=1, per_minute=30), Clock())  # a token every 2 s
    client = _client()
    await limiter.acquire(client)
    with pytest.raises(ClientRateLimited) as raised:
        await limiter.acquire(client)
    assert raised.value.retry_after == pytest.approx(2.0)


async def test_concurrent_requests_take_exactly_the_burst(make_limiter: Factory) -> None:
    """The bucket is updated atomically: 50 simultaneous requests, a burst of 10, no refill."""
    limiter = await make_limiter(BucketSpec(capacity=10, per_minute=1), Clock())
    client = _client()
    decisions = await asyncio.gather(*(limiter.take(client) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 10


async def test_a_clock_that_goes_back_refills_nothing(make_limiter: Factory) -> None:
    clock = Clock()
    limiter = await make_limiter(BucketSpec(capacity=1, per_minute=60), clock)
    client = _client()
    await limiter.take(client)
    clock.now -= 3600
    assert not (await limiter.take(client)).allowed


async def test_the_memory_backend_forgets_the_least_recently_seen_clients() -> None:
    limiter = MemoryRateLimiter(BucketSpec(capacity=1, per_minute=1), clock=Clock(), max_clients=2)
    for client in ("a", "b", "c"):
        await limiter.take(client)
    assert (await limiter.take("c")).allowed is False
    assert (await limiter.take("a")).allowed is True  # forgotten: a full bucket again


@pytest.mark.redis
async def test_redis_buckets_are_shared_by_replicas(redis_url: str) -> None:
    spec = BucketSpec(capacity=2, per_minute=1)
    replicas = [RedisRateLimiter.from_url(spec, redis_url) for _ in range(2)]
    try:
        client = _client()
        taken = [await replicas[i % 2].take(client) for i in range(3)]
        assert [d.allowed for d in taken] == [True, True, False]
    finally:
        for replica in replicas:
            await replica.aclose()


@pytest.mark.redis
async def test_a_burst_wider_than_the_connection_pool_waits_for_redis(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """400 requests at once share the pool's connections: all are decided in Redis, none fail over. (A wait
    bound of 5 s, not the production 0.5 s: what is tested is that requests wait, not how fast a loaded
    machine serves them.)"""
    spec = BucketSpec(capacity=10, per_minute=1)
    limiter = RedisRateLimiter.from_url(spec, redis_url, clock=Clock(), guard=RedisGuard(timeout_s=5.0))
    try:
        client = _client()
        with caplog.at_level(logging.WARNING, logger="service.ratelimit"):
            decisions = await asyncio.gather(*(limiter.take(client) for _ in range(400)))
    finally:
        await limiter.aclose()
    assert sum(d.allowed for d in decisions) == 10
    assert [r.getMessage() for r in caplog.records if r.name == "service.ratelimit"] == []


@pytest.mark.redis
async def test_redis_uses_its_own_clock_without_an_injected_one(redis_url: str) -> None:
    limiter = RedisRateLimiter.from_url(BucketSpec(capacity=1, per_minute=60), redis_url)
    try:
        client = _client()
        assert (await limiter.take(client)).allowed
        denied = await limiter.take(client)
        assert not denied.allowed and 0 < denied.retry_after_s <= 1.0
    finally:
        await limiter.aclose()


@pytest.mark.redis
async def test_redis_keeps_no_raw_key_and_expires_idle_buckets(redis_url: str) -> None:
    limiter = RedisRateLimiter.from_url(BucketSpec(capacity=5, per_minute=60), redis_url, clock=Clock())
    secret = f"key:{uuid.uuid4().hex}-api-key-material"
    connection_url, prefix = split_url(redis_url)
    redis = Redis.from_url(connection_url)
    try:
        await limiter.take(secret)
        name = f"{prefix}:ratelimit:{client_digest(secret)}"
        assert limiter.key_prefix == f"{prefix}:ratelimit:"
        stored = await redis.hgetall(name)
        assert set(stored) == {b"tokens", b"updated"} and float(stored[b"tokens"]) == pytest.approx(4)
        names = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        assert names == [name.encode()] and secret.encode() not in name.encode()
        ttl_ms = await redis.pttl(name)
        assert 1000 < ttl_ms <= 2000  # one token short of full: 1 s to refill, plus a second of slack
    finally:
        await redis.aclose()
        await limiter.aclose()


async def test_an_unreachable_redis_degrades_to_local_limits(caplog: pytest.LogCaptureFixture) -> None:
    spec = BucketSpec(capacity=2, per_minute=1)
    limiter = RedisRateLimiter.from_url(spec, f"redis://127.0.0.1:{_free_port()}/0", clock=Clock())
    try:
        with caplog.at_level(logging.WARNING, logger="service.ratelimit"):
            client = _client()
            assert [(await limiter.take(client)).allowed for _ in range(3)] == [True, True, False]
    finally:
        await limiter.aclose()
    warnings = [r for r in caplog.records if r.name == "service.ratelimit"]
    assert len(warnings) == 1 and "limiting in this process" in warnings[0].getMessage()


async def test_build_rate_limiter_follows_the_settings() -> None:
    assert build_rate_limiter(Settings(cache_url="memory://", rate_limit_per_minute=0)) is None
    memory = build_rate_limiter(Settings(cache_url="memory://", rate_limit_per_minute=30, rate_limit_burst=4))
    assert isinstance(memory, MemoryRateLimiter) and memory.spec == BucketSpec(capacity=4, per_minute=30)
    redis = build_rate_limiter(Settings(cache_url="redis://127.0.0.1:6379/0"))
    assert isinstance(redis, RedisRateLimiter)
    await redis.aclose()


# --- over HTTP ----------------------------------------------------------------------------------------


def _limited(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "engine": "extractive",
        "cache_url": "memory://",
        "rate_limit_per_minute": 1,
        "rate_limit_burst": 2,
    }
    return Settings(**(base | overrides))


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_rate_limited(response: httpx.Response) -> dict[str, Any]:
    body = assert_problem(response, 429, "rate-limited")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60 and body["retry_after"] == retry_after
    return body


async def test_each_api_key_has_its_own_bucket(app_client: AppClient, fake_engine: FakeEngine) -> None:
    async with app_client(_limited(api_keys=f"{KEY_A},{KEY_B}"), engine=fake_engine) as client:
        for _ in range(5):  # refused before the limiter: a wrong key costs no token
            wrong = await client.post("/v1/summaries", json={"text": SYRIA}, headers=_bearer("x" * 24))
            assert wrong.status_code == 401
        ok = [await client.post("/v1/summaries", json={"text": SYRIA}, headers=_bearer(KEY_A)) for _ in "12"]
        assert [r.status_code for r in ok] == [200, 200]
        summary_id = ok[0].json()["id"]
        assert_rate_limited(await client.get(f"/v1/summaries/{summary_id}", headers=_bearer(KEY_A)))
        assert_rate_limited(await client.post("/v1/summaries", json={"text": SYRIA}, headers=_bearer(KEY_A)))
        other = await client.get(f"/v1/summaries/{summary_id}", headers=_bearer(KEY_B))
        assert other.status_code == 200
        assert (await client.get("/healthz")).status_code == 200  # operations are never limited
    assert fake_engine.calls == 1


async def test_an_open_api_limits_by_client_address(app_client: AppClient, fake_engine: FakeEngine) -> None:
    async with app_client(_limited(rate_limit_burst=1), engine=fake_engine) as client:
        assert (await client.post("/v1/summaries", json={"text": SYRIA})).status_code == 200
        assert_rate_limited(await client.post("/v1/summaries", json={"text": SYRIA}))
        transport = httpx.ASGITransport(app=client.app, client=("203.0.113.7", 40000))  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
            assert (await elsewhere.post("/v1/summaries", json={"text": SYRIA})).status_code == 200
            assert_rate_limited(await elsewhere.post("/v1/summaries", json={"text": SYRIA}))


async def test_zero_per_minute_disables_the_limit(app_client: AppClient, fake_engine: FakeEngine) -> None:
    async with app_client(
        _limited(rate_limit_per_minute=0, rate_limit_burst=1), engine=fake_engine
    ) as client:
        assert client.app.state.rate_limiter is None  # type: ignore[attr-defined]
        statuses = {(await client.post("/v1/summaries", json={"text": SYRIA})).status_code for _ in range(30)}
    assert statuses == {200}


@pytest.mark.redis
async def test_replicas_share_a_key_s_bucket_in_redis(
    app_client: AppClient, fake_engine: FakeEngine, redis_url: str
) -> None:
    """Two app instances with CACHE_URL=redis: the key's burst spent on one is spent on the other."""
    settings = _limited(cache_url=redis_url, api_keys=f"{uuid.uuid4().hex}", rate_limit_burst=2)
    key = settings.api_key_values()[0]
    async with (
        app_client(settings, engine=fake_engine) as one,
        app_client(settings, engine=FakeEngine()) as two,
    ):
        assert isinstance(one.app.state.rate_limiter, RedisRateLimiter)  # type: ignore[attr-defined]
        assert (
            await one.post("/v1/summaries", json={"text": SYRIA}, headers=_bearer(key))
        ).status_code == 200
        assert (
            await two.post("/v1/summaries", json={"text": SYRIA}, headers=_bearer(key))
        ).status_code == 200
        assert_rate_limited(await one.post("/v1/summaries", json={"text": SYRIA}, headers=_bearer(key)))
        assert_rate_limited(await two.post("/v1/summaries", json={"text": SYRIA}, headers=_bearer(key)))
