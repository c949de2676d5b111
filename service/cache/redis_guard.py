"""Redis as an optional dependency: every call to it short, skipped while it misbehaves, its failures logged
at most once an interval.

One `RedisGuard` per process is shared by everything that talks to Redis (the result cache, its single-flight
locks, the rate limiters). Each call gets `CACHE_REDIS_TIMEOUT_S` at most (the sockets' timeout and a bound on
the whole call). After `CACHE_REDIS_BREAKER_FAILURES` consecutive calls that failed to reach Redis (timeout,
connection refused or reset), the guard opens: for `CACHE_REDIS_BREAKER_COOLDOWN_S` every call fails at once
with `CacheUnavailable` without any I/O; the cache treats that as a miss (the replica computes) and the rate
limiters limit in this process. Then one call is let through as a trial: its success closes the guard, its
failure opens it again.

The guard alone logs Redis failures, at most one WARNING every `warn_every_s` seconds (counting the failures in
between), and raises `CacheUnavailable(reported=True)`, which callers log at DEBUG only. An error Redis itself
answered (a wrong type, a lock no longer held) proves it is up: it counts as a success and is passed on as is.

Used from one event loop and never awaits between a check and its update, so it needs no lock. The clock is
injected so tests can move time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, TypeVar

from service.breaker import Breaker, BreakerState
from service.errors import CacheUnavailable

if TYPE_CHECKING:
    from service.config import Settings

log = logging.getLogger("service.cache")

T = TypeVar("T")
State = Literal["closed", "open", "half_open"]


def _unreachable(error: BaseException) -> bool:
    """A failure to reach Redis (as opposed to an error Redis answered with)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(error, RedisConnectionError | RedisTimeoutError | OSError | TimeoutError)


class RedisGuard:
    def __init__(
        self,
        *,
        timeout_s: float = 0.5,
        failures: int = 3,
        cooldown_s: float = 15.0,
        warn_every_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout_s <= 0 or failures < 1 or cooldown_s <= 0:
            raise ValueError("a Redis guard needs timeout_s > 0, failures >= 1 and cooldown_s > 0")
        self.timeout_s = timeout_s
        self._breaker = Breaker(failures=failures, cooldown_s=cooldown_s, clock=clock)
        self._warn_every_s = warn_every_s
        self._clock = clock
        self._last_warning: float | None = None
        self._unlogged = 0  # failures since the last warning
        self.skipped = 0  # calls refused without I/O while open (for tests and figures)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> RedisGuard:
        return cls(
            timeout_s=settings.redis_timeout_s,
            failures=settings.redis_breaker_failures,
            cooldown_s=settings.redis_breaker_cooldown_s,
            clock=clock,
        )

    @property
    def state(self) -> State:
        return self._breaker.state.value

    async def call(self, what: str, make: Callable[[], Awaitable[T]]) -> T:
        """`await make()` within the timeout, or `CacheUnavailable` at once while the guard is open."""
        trial = self._admit(what)
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await make()
        except Exception as e:
            if not _unreachable(e):
                self._succeeded(trial)  # Redis answered, with an error of its own
                raise
            self._failed(what, e, trial)
            raise CacheUnavailable(f"redis {what} failed: {type(e).__name__}", reported=True) from e
        except BaseException:  # cancelled: no verdict; another call may make the trial
            self._breaker.release(trial)
            raise
        self._succeeded(trial)
        return result

    def _admit(self, what: str) -> bool:
        """True when this call is the half-open trial; raises while open (or while a trial is in flight)."""
        state = self._breaker.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.OPEN or not self._breaker.take_trial():
            self.skipped += 1
            raise CacheUnavailable(f"redis {what} skipped: Redis is failing", reported=True)
        return True

    def _succeeded(self, trial: bool) -> None:
        if self._breaker.succeeded(trial):
            log.warning("Redis answers again; using it")
            self._last_warning, self._unlogged = None, 0

    def _failed(self, what: str, error: BaseException, trial: bool) -> None:
        first_open = self._breaker.failed(trial) and not trial
        self._unlogged += 1
        now = self._clock()
        recent = self._last_warning is not None and now - self._last_warning < self._warn_every_s
        if recent and not first_open:  # one warning an interval, and always the one that opens the guard
            return
        log.warning(
            "Redis %s failed (%s); %d failure(s) since the last warning; %s",
            what,
            type(error).__name__,
            self._unlogged,
            f"skipping Redis for {self._breaker.cooldown_s:g} s (cache misses, rate limits in this process)"
            if self._breaker.opened
            else "the cache counts it as a miss",
        )
        self._last_warning, self._unlogged = now, 0
