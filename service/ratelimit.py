"""Per-client rate limits: token buckets, in memory (one process) or in Redis (shared by every replica).

Every client — an API key, or a client address when the API is open — has a bucket that holds at most
`RATE_LIMIT_BURST` tokens and refills at `RATE_LIMIT_PER_MINUTE` tokens a minute. A request takes one token;
with none left it gets `ClientRateLimited` carrying the seconds until the next token (429 and Retry-After).

Buckets are named by a SHA-256 digest of the client, so no API key is kept as a dictionary key or written to
Redis. In Redis (`<prefix>:ratelimit:<digest>`, the prefix of `CACHE_URL`, as the cache uses) one Lua script
reads, refills, takes and writes a bucket atomically, by the Redis server's clock unless a clock is injected.
Calls to Redis go through the process's `RedisGuard` (short, skipped while Redis misbehaves): when Redis cannot
answer, each replica limits on its own in memory until it can: an outage loosens the limit by the number of
replicas, never lifts it, and costs a request no wait once the guard is open.

The same limiter serves other buckets (`Cache-Control: no-cache` refreshes: `RATE_LIMIT_REFRESH_PER_MINUTE`):
one with a `BucketSpec` of its own and client names of their own.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.config import Settings
from service.errors import ClientRateLimited

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from service.cache.redis_guard import RedisGuard

log = logging.getLogger("service.ratelimit")

Clock = Callable[[], float]

_REDIS_POOL_SIZE = 50


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """`capacity` tokens at most, refilled at `per_minute` tokens a minute."""

    capacity: int
    per_minute: int

    @property
    def refill_per_s(self) -> float:
        return self.per_minute / 60.0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: float  # tokens left after this request
    retry_after_s: float  # 0 when allowed; else the wait until one token is back


def client_digest(client: str) -> str:
    """The name of a client's bucket: never the client (an API key) itself."""
    return hashlib.sha256(client.encode()).hexdigest()[:32]


class RateLimiter(ABC):
    def __init__(self, spec: BucketSpec) -> None:
        self.spec = spec

    @abstractmethod
    async def take(self, client: str) -> Decision:
        """Take one token from the client's bucket, if it has one."""

    async def acquire(self, client: str) -> None:
        """Take one token or raise `ClientRateLimited` with the seconds until the next one."""
        decision = await self.take(client)
        if not decision.allowed:
            raise ClientRateLimited(
                f"more than {self.spec.per_minute} requests a minute (bursts of {self.spec.capacity}); "
                f"retry in {math.ceil(decision.retry_after_s)} s",
                retry_after=decision.retry_after_s,
            )

    async def aclose(self) -> None:
        return None


class MemoryRateLimiter(RateLimiter):
    """Buckets of this process, at most `max_clients` of them (the least recently seen are forgotten)."""

    def __init__(
        self, spec: BucketSpec, *, clock: Clock = time.monotonic, max_clients: int = 100_000
    ) -> None:
        super().__init__(spec)
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # name -> (tokens, updated)

    async def take(self, client: str) -> Decision:
        return self._take(client_digest(client), self._clock())

    def _take(self, name: str, now: float) -> Decision:
        """The same arithmetic as the Redis script, synchronously (no await: atomic in the event loop)."""
        spec = self.spec
        tokens, updated = self._buckets.pop(name, (float(spec.capacity), now))
        if now > updated:  # a clock that went back refills nothing
            tokens = min(float(spec.capacity), tokens + (now - updated) * spec.refill_per_s)
        if tokens >= 1:
            decision = Decision(True, tokens - 1, 0.0)
            tokens -= 1
        else:
            decision = Decision(False, tokens, (1 - tokens) / spec.refill_per_s)
        self._buckets[name] = (tokens, max(now, updated))
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        return decision


# KEYS[1]: the bucket. ARGV: capacity, refill per second, now in seconds ("" = the Redis server's clock).
# Returns {allowed (0/1), remaining tokens, seconds to wait} as strings (Lua numbers would be truncated).
_TAKE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = capacity
  updated = now
end
if now > updated then
  tokens = math.min(capacity, tokens + (now - updated) * rate)
  updated = now
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'updated', string.format('%.6f', updated))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return {tostring(allowed), string.format('%.6f', tokens), string.format('%.6f', wait)}
"""


class RedisRateLimiter(RateLimiter):
    """Buckets in Redis, shared by every replica; `clock=None` uses the Redis server's clock."""

    def __init__(
        self,
        spec: BucketSpec,
        client: Redis,
        *,
        prefix: str,
        guard: RedisGuard,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(spec)
        self._redis = client
        self._guard = guard
        self.key_prefix = f"{prefix}:ratelimit:"
        self._script = client.register_script(_TAKE_SCRIPT)
        self._clock = clock
        self._local = MemoryRateLimiter(spec, clock=clock or time.monotonic)
        self._degraded = False

    @classmethod
    def from_url(
        cls, spec: BucketSpec, url: str, *, clock: Clock | None = None, guard: RedisGuard | None = None
    ) -> RedisRateLimiter:
        """A limiter with its own client (no I/O until the first request); `aclose()` closes it.

        Its pool blocks: beyond `_REDIS_POOL_SIZE` requests in flight, a request waits (up to the guard's
        timeout) for a connection instead of failing over to local limits at once.
        """
        from redis.asyncio import BlockingConnectionPool, Redis

        from service.cache.redis import split_url  # the cache's `?prefix=`, so both share one namespace
        from service.cache.redis_guard import RedisGuard

        guard = guard or RedisGuard()
        timeout_s = guard.timeout_s
        connection_url, prefix = split_url(url)
        pool = BlockingConnectionPool.from_url(
            connection_url,
            max_connections=_REDIS_POOL_SIZE,
            timeout=timeout_s,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
        )
        return cls(spec, Redis.from_pool(pool), prefix=prefix, guard=guard, clock=clock)

    async def take(self, client: str) -> Decision:
        from redis.exceptions import RedisError

        from service.errors import CacheUnavailable

        name = self.key_prefix + client_digest(client)
        now = "" if self._clock is None else repr(self._clock())
        try:
            allowed, remaining, wait = await self._guard.call(
                "rate limit",
                lambda: self._script(
                    keys=[name], args=[self.spec.capacity, repr(self.spec.refill_per_s), now]
                ),
            )
        except (CacheUnavailable, RedisError, OSError) as e:
            if not self._degraded:
                log.warning("rate limiter: Redis failed (%s); limiting in this process", type(e).__name__)
                self._degraded = True
            return await self._local.take(client)
        if self._degraded:
            log.warning("rate limiter: Redis answers again")
            self._degraded = False
        return Decision(int(allowed) == 1, float(remaining), float(wait))

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(
    settings: Settings,
    *,
    clock: Clock | None = None,
    spec: BucketSpec | None = None,
    redis_guard: RedisGuard | None = None,
) -> RateLimiter | None:
    """None when the limit is 0; in Redis when `CACHE_URL` is Redis (through `redis_guard`); else in this
    process. `spec`: the buckets (default: `RATE_LIMIT_PER_MINUTE` and `RATE_LIMIT_BURST`)."""
    if spec is None:
        spec = BucketSpec(capacity=settings.rate_limit_burst, per_minute=settings.rate_limit_per_minute)
    if spec.per_minute == 0:
        return None
    if settings.cache_url.startswith(("redis://", "rediss://")):
        return RedisRateLimiter.from_url(spec, settings.cache_url, clock=clock, guard=redis_guard)
    return MemoryRateLimiter(spec, clock=clock or time.monotonic)


def refresh_spec(settings: Settings) -> BucketSpec:
    """`Cache-Control: no-cache` refreshes a client may make: `RATE_LIMIT_REFRESH_PER_MINUTE`, a minute's worth
    at once."""
    per_minute = settings.refresh_per_minute
    return BucketSpec(capacity=max(1, per_minute), per_minute=per_minute)
