"""Redis cache (`CACHE_URL=redis://HOST:PORT/N`): shared by every replica, with short locks for single-flight.

Keys are namespaced: `<prefix>:result:<id>` holds a validated result (SET EX: Redis expires it) and
`<prefix>:lock:<id>` the lock of a computation in progress (SET NX PX with a random token; renewed and released
only by its holder, with redis-py's Lua compare-and-set scripts). The prefix is `incident-summarizer` unless
the URL says otherwise (`redis://host:6379/0?prefix=staging`), so deployments can share one Redis.

Every call goes through the process's `RedisGuard` (`service/cache/redis_guard.py`): short, skipped while Redis
misbehaves. Redis failures are translated into `CacheUnavailable`; the summarizer treats a cache failure as a
miss.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as redis
from redis.exceptions import LockError, RedisError

from service.cache.redis_guard import RedisGuard
from service.errors import CacheUnavailable

DEFAULT_PREFIX = "incident-summarizer"
_POOL_SIZE = 64
_HEALTH_CHECK_INTERVAL_S = 30


def split_url(url: str) -> tuple[str, str]:
    """The URL redis-py understands and the key prefix (`?prefix=`), taken out of the query."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for name, value in query if name == "prefix"), "") or DEFAULT_PREFIX
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


class RedisLock:
    """`SharedLock` on redis-py's `Lock` (token per acquisition, Lua compare-and-delete on release)."""

    def __init__(self, client: redis.Redis, name: str, ttl_s: float, guard: RedisGuard) -> None:
        self._lock = client.lock(name, timeout=ttl_s, blocking=False, thread_local=False)
        self._guard = guard

    async def acquire(self) -> bool:
        try:
            return bool(await self._guard.call("lock", lambda: self._lock.acquire(blocking=False)))
        except RedisError as e:
            raise CacheUnavailable(f"redis lock acquire failed: {type(e).__name__}") from e

    async def renew(self) -> bool:
        try:
            await self._guard.call("lock renewal", self._lock.reacquire)
        except LockError:  # LockNotOwnedError too: it expired and may be someone else's now
            return False
        except RedisError as e:
            raise CacheUnavailable(f"redis lock renewal failed: {type(e).__name__}") from e
        return True

    async def release(self) -> None:
        try:
            await self._guard.call("lock release", self._lock.release)
        except LockError:
            return None  # expired already: nothing of ours to release
        except RedisError as e:
            raise CacheUnavailable(f"redis lock release failed: {type(e).__name__}") from e

    async def held(self) -> bool:
        try:
            return bool(await self._guard.call("lock check", self._lock.locked))
        except RedisError as e:
            raise CacheUnavailable(f"redis lock check failed: {type(e).__name__}") from e


class RedisCache:
    name = "redis"

    def __init__(self, url: str, *, prefix: str | None = None, guard: RedisGuard | None = None) -> None:
        connection_url, url_prefix = split_url(url)
        self.prefix = prefix or url_prefix
        self.guard = guard or RedisGuard()
        timeout_s = self.guard.timeout_s
        # A blocking pool: past `_POOL_SIZE` calls in flight a call waits for a connection (up to the
        # timeout) instead of failing, which would turn a burst of traffic into cache misses.
        pool = redis.BlockingConnectionPool.from_url(
            connection_url,
            max_connections=_POOL_SIZE,
            timeout=timeout_s,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            health_check_interval=_HEALTH_CHECK_INTERVAL_S,
        )
        self._client: redis.Redis = redis.Redis.from_pool(pool)

    def result_key(self, key: str) -> str:
        return f"{self.prefix}:result:{key}"

    def lock_key(self, key: str) -> str:
        return f"{self.prefix}:lock:{key}"

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self.guard.call("get", lambda: self._client.get(self.result_key(key)))
        except RedisError as e:
            raise CacheUnavailable(f"redis get failed: {type(e).__name__}") from e
        if value is None:
            return None
        return value if isinstance(value, bytes) else value.encode()

    async def set(self, key: str, value: bytes, ttl_s: int) -> None:
        try:
            await self.guard.call("set", lambda: self._client.set(self.result_key(key), value, ex=ttl_s))
        except RedisError as e:
            raise CacheUnavailable(f"redis set failed: {type(e).__name__}") from e

    def lock(self, key: str, ttl_s: float) -> RedisLock:
        return RedisLock(self._client, self.lock_key(key), ttl_s, self.guard)

    async def ping(self) -> None:
        try:
            await self.guard.call("ping", self._client.ping)
        except RedisError as e:
            raise CacheUnavailable(f"redis ping failed: {type(e).__name__}") from e

    async def aclose(self) -> None:
        await self._client.aclose()
