"""The Redis cache on a real Redis: semantics, shared locks, and single-flight across two app instances."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as redis

from service.article import ArticleIn
from service.cache import build_cache
from service.cache.redis import CacheUnavailable, RedisCache, split_url
from service.config import Settings
from service.errors import UpstreamUnavailable
from tests.conftest import AppClient, FakeEngine, sample_text, throwaway_redis_server
from tests.fakes.openai_server import FaultServer, answer_from_request

pytestmark = pytest.mark.redis

SYRIA = sample_text("syria_checkpoint_shootout")
OTHER = "Two soldiers were killed on Monday when gunmen attacked a checkpoint near Idlib, officials said."


def settings_for(cache_url: str, **overrides: Any) -> Settings:
    """LLM settings whose upstream is never reached (tests swap in a FakeEngine) unless a base URL is given.

    No rate limit: its buckets in the shared Redis are not namespaced per test.
    """
    values: dict[str, Any] = {
        "rate_limit_per_minute": 0,
        "engine": "llm",
        "openai_base_url": "http://127.0.0.1:9/v1",
        "cache_url": cache_url,
    }
    return Settings(**(values | overrides))


def key_of(client: Any, text: str) -> str:
    summarizer = client.app.state.summarizer
    return str(summarizer.key_for(ArticleIn(text=text)))


def samples(metrics_text: str, name: str) -> dict[str, float]:
    """{label string: value} of one metric family in Prometheus text format."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(metrics_text)
        for s in family.samples
        if s.name == name
    }


async def test_set_get_ttl_overwrite_and_namespaced_keys(redis_url: str, redis_server: str) -> None:
    cache = build_cache(redis_url)
    assert isinstance(cache, RedisCache) and cache.prefix.startswith("test-")
    raw = redis.Redis.from_url(redis_server)
    try:
        assert await cache.get("abc") is None
        await cache.set("abc", b"v1", ttl_s=120)
        await cache.set("abc", b"v2", ttl_s=60)  # a refresh overwrites value and lifetime
        assert await cache.get("abc") == b"v2"
        assert await raw.get(f"{cache.prefix}:result:abc") == b"v2"
        assert 55 <= await raw.ttl(f"{cache.prefix}:result:abc") <= 60
        await cache.set("short", b"x", ttl_s=1)
        await asyncio.sleep(1.1)
        assert await cache.get("short") is None  # Redis expired it
        await cache.ping()
    finally:
        await raw.aclose()
        await cache.aclose()


def test_url_prefix_is_taken_out_of_the_connection_url() -> None:
    assert split_url("redis://h:6379/2?prefix=staging&socket_keepalive=true") == (
        "redis://h:6379/2?socket_keepalive=true",
        "staging",
    )
    assert split_url("redis://h:6379/0") == ("redis://h:6379/0", "incident-summarizer")


async def test_a_dead_redis_raises_cache_unavailable() -> None:
    cache = RedisCache("redis://127.0.0.1:9/0")  # nothing listens on port 9
    try:
        with pytest.raises(CacheUnavailable):
            await cache.ping()
        with pytest.raises(CacheUnavailable):
            await cache.get("k")
        with pytest.raises(CacheUnavailable):
            await cache.lock("k", 1.0).acquire()
    finally:
        await cache.aclose()


async def test_lock_is_exclusive_released_only_by_its_holder_and_expires(redis_url: str) -> None:
    cache = RedisCache(redis_url)
    try:
        holder, rival = cache.lock("k", 5.0), cache.lock("k", 5.0)
        assert await holder.acquire() is True
        assert await rival.acquire() is False
        await rival.release()  # not its lock: compare-and-delete leaves it alone
        assert await rival.held() is True
        assert await holder.renew() is True
        await holder.release()
        assert await rival.held() is False

        short = cache.lock("k", 0.2)
        assert await short.acquire() is True
        await asyncio.sleep(0.35)
        assert await short.held() is False  # its holder "died": Redis expired it
        assert await short.renew() is False
        assert await rival.acquire() is True
        await rival.release()
    finally:
        await cache.aclose()


async def test_two_replicas_on_one_redis_pay_for_an_article_once(
    app_client: AppClient, redis_url: str
) -> None:
    """Acceptance: the second replica serves the first's result from Redis; asked at once, still one call."""
    async with FaultServer(latency_s=0.3, default=answer_from_request) as upstream:
        settings = settings_for(redis_url, openai_base_url=upstream.base_url)
        async with app_client(settings) as one, app_client(settings) as two:
            first = await one.post("/v1/summaries", json={"text": SYRIA})
            again = await two.post("/v1/summaries", json={"text": SYRIA})
            assert first.status_code == again.status_code == 200, (first.text, again.text)
            assert upstream.calls == 1
            assert (first.json()["meta"]["cached"], again.json()["meta"]["cached"]) == (False, True)
            assert again.json()["id"] == first.json()["id"]
            assert again.json()["summary"] == first.json()["summary"]

            both = await asyncio.gather(
                one.post("/v1/summaries", json={"text": OTHER}),
                two.post("/v1/summaries", json={"text": OTHER}),
            )
            assert [r.status_code for r in both] == [200, 200], [r.text for r in both]
            assert upstream.calls == 2  # one more call for the second article, not two
            assert sorted(r.json()["meta"]["cached"] for r in both) == [False, True]
            assert both[0].json()["summary"] == both[1].json()["summary"]
            roles: dict[str, float] = {}
            for client in (one, two):
                for role, count in samples(
                    (await client.get("/metrics")).text, "summarizer_shared_flight_total"
                ).items():
                    roles[role] = roles.get(role, 0) + count
            assert roles == {"role=leader": 2.0, "role=follower": 1.0}  # one per article, one waited


async def test_when_the_holder_fails_the_waiter_computes_itself(
    app_client: AppClient, redis_url: str
) -> None:
    failing = FakeEngine(delay_s=0.3, error=UpstreamUnavailable("down", attempts=1))
    healthy = FakeEngine()
    settings = settings_for(redis_url)
    async with app_client(settings, engine=failing) as one, app_client(settings, engine=healthy) as two:
        holder = asyncio.create_task(one.post("/v1/summaries", json={"text": OTHER}))
        await asyncio.sleep(0.1)  # the holder has the lock
        waiter = await two.post("/v1/summaries", json={"text": OTHER})
        assert (await holder).status_code == 503
        assert waiter.status_code == 200 and waiter.json()["meta"]["cached"] is False
        assert (failing.calls, healthy.calls) == (1, 1)
        assert samples((await two.get("/metrics")).text, "summarizer_shared_flight_total") == {
            "role=took_over": 1.0
        }


async def test_a_dead_holders_lock_expires_and_the_waiter_takes_over(
    app_client: AppClient, redis_url: str
) -> None:
    """The dead holder's lock was taken before the request and never renewed: the request waits, takes the
    lock over once it expires (the role says so), computes, and the dead holder's lock is no longer its own."""
    engine = FakeEngine()
    async with app_client(settings_for(redis_url), engine=engine) as client:
        dead_replica = RedisCache(redis_url)
        try:
            dead_lock = dead_replica.lock(key_of(client, OTHER), 0.4)
            assert await dead_lock.acquire()  # and never renews it
            response = await client.post("/v1/summaries", json={"text": OTHER})
            assert response.status_code == 200 and engine.calls == 1
            assert samples((await client.get("/metrics")).text, "summarizer_shared_flight_total") == {
                "role=took_over": 1.0
            }
            assert not await dead_lock.renew()
        finally:
            await dead_replica.aclose()


async def test_waiting_is_bounded_by_the_request_deadline(app_client: AppClient, redis_url: str) -> None:
    engine = FakeEngine()
    settings = settings_for(redis_url, deadline_s=0.5, timeout_s=0.5)
    async with app_client(settings, engine=engine) as client:
        live_replica = RedisCache(redis_url)
        lock = live_replica.lock(key_of(client, OTHER), 10.0)
        try:
            assert await lock.acquire()
            response = await client.post("/v1/summaries", json={"text": OTHER})
            assert response.status_code == 504, response.text
            assert response.json()["type"].endswith(":deadline-exceeded") and engine.calls == 0
            refreshed = await client.post(
                "/v1/summaries", json={"text": OTHER}, headers={"Cache-Control": "no-cache"}
            )
            assert refreshed.status_code == 200 and engine.calls == 1  # a refresh does not wait for the lock
        finally:
            await lock.release()
            await live_replica.aclose()


async def test_redis_going_away_degrades_readiness_and_costs_no_requests(app_client: AppClient) -> None:
    """A throwaway redis-server (not the shared one): once it stops, /readyz says the cache is degraded (still
    200: the replica serves by computing) and requests still work."""
    engine = FakeEngine()
    with throwaway_redis_server() as server:
        settings = settings_for(f"redis://127.0.0.1:{server.port}/0")
        async with app_client(settings, engine=engine) as client:
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.post("/v1/summaries", json={"text": OTHER})).json()["meta"][
                "cached"
            ] is False
            assert (await client.post("/v1/summaries", json={"text": OTHER})).json()["meta"]["cached"] is True
            server.stop()
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert ready.json()["checks"] == {"cache": "degraded: CacheUnavailable", "engine": "ok"}
            served = await client.post("/v1/summaries", json={"text": SYRIA})
            assert served.status_code == 200 and engine.calls == 2
