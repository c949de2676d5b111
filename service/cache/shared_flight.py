"""Single-flight across replicas: one computation per key among every process that shares a cache.

A cache that can also hold short locks visible to every replica (Redis) offers `lock(key, ttl_s)`. The first
replica to take a key's lock computes; the others poll the cache until the result appears. The lock is short
and kept alive by its holder, so when a holder dies it expires within `LOCK_TTL_S` and a waiter takes over;
when the holder fails (releases the lock without a result) a waiter computes itself. Waiting counts against
the request's own deadline. The in-process single-flight of the summarizer stays in front of this, so one
replica takes at most one lock per key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar, runtime_checkable

from service.cache.base import Cache, failure_log_level
from service.errors import DeadlineExceeded

log = logging.getLogger("service.cache")

T = TypeVar("T")

# The lock lives this long unless its holder renews it (every third of it): a dead holder blocks others this
# long at most.
LOCK_TTL_S = 10.0
# A waiter looks for the result first after this long, then backs off to at most `_POLL_MAX_S` between looks.
_POLL_FIRST_S = 0.02
_POLL_MAX_S = 0.25

Role = Literal["leader", "follower", "took_over", "unshared"]


class SharedLock(Protocol):
    """A lock on one key, visible to every replica, that expires unless its holder renews it."""

    async def acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        ...

    async def renew(self) -> bool:
        """Reset the lock's lifetime; False when it is no longer ours (it expired)."""
        ...

    async def release(self) -> None:
        """Let the lock go if it is still ours (compare-and-delete)."""
        ...

    async def held(self) -> bool:
        """True while anyone holds the lock."""
        ...


@runtime_checkable
class SharedLocks(Protocol):
    """The optional capability of a cache shared by replicas."""

    def lock(self, key: str, ttl_s: float) -> SharedLock: ...


class LockingCache(Cache, SharedLocks, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class Flight(Generic[T]):
    """What one caller got: its own computation, or the bytes another replica cached."""

    role: Role
    computed: T | None = None
    cached: bytes | None = None


async def shared_flight(
    cache: LockingCache,
    key: str,
    compute: Callable[[float], Awaitable[T]],
    *,
    budget_s: float,
    lock_ttl_s: float = LOCK_TTL_S,
    clock: Callable[[], float] = time.monotonic,
) -> Flight[T]:
    """Compute `key` here, or wait for the replica that holds its lock to cache the result.

    `compute(remaining_s)` runs with what is left of `budget_s`; raises `DeadlineExceeded` when the budget runs
    out while another replica still holds the lock.
    """
    give_up_at = clock() + budget_s
    waited = False
    while True:
        lock = cache.lock(key, lock_ttl_s)
        try:
            acquired = await lock.acquire()
        except Exception as e:  # the lock is an optimisation: without it this replica computes alone
            log.log(
                failure_log_level(e), "shared lock unavailable (%s); computing without it", type(e).__name__
            )
            return Flight("unshared", computed=await compute(max(0.0, give_up_at - clock())))
        if acquired:
            try:
                hit = await _get(cache, key)  # the holder before us may have cached it and let go
                if hit is not None:
                    return Flight("follower", cached=hit)
                async with _kept_alive(lock, lock_ttl_s):
                    value = await compute(max(0.0, give_up_at - clock()))
                return Flight("took_over" if waited else "leader", computed=value)
            finally:
                await _release(lock)
        waited = True
        hit = await _wait_for_result(cache, lock, key, give_up_at, clock)
        if hit is not None:
            return Flight("follower", cached=hit)
        if clock() >= give_up_at:
            raise DeadlineExceeded("another replica is still computing this summary; retry shortly")


async def _wait_for_result(
    cache: Cache, lock: SharedLock, key: str, give_up_at: float, clock: Callable[[], float]
) -> bytes | None:
    """The result once another replica caches it; None when the lock is free again or time runs out."""
    pause = _POLL_FIRST_S
    while (remaining := give_up_at - clock()) > 0:
        await asyncio.sleep(min(pause, remaining))
        pause = min(pause * 2, _POLL_MAX_S)
        hit = await _get(cache, key)
        if hit is not None:
            return hit
        try:
            if not await lock.held():
                return None
        except Exception as e:
            log.log(failure_log_level(e), "shared lock unavailable while waiting (%s)", type(e).__name__)
            return None
    return None


async def _get(cache: Cache, key: str) -> bytes | None:
    try:
        return await cache.get(key)
    except Exception as e:
        log.log(failure_log_level(e), "cache %s get failed: %s", cache.name, type(e).__name__)
        return None


async def _release(lock: SharedLock) -> None:
    try:
        await lock.release()
    except Exception as e:  # it expires on its own
        log.log(failure_log_level(e), "shared lock release failed: %s", type(e).__name__)


@contextlib.asynccontextmanager
async def _kept_alive(lock: SharedLock, ttl_s: float) -> AsyncIterator[None]:
    """Renew the lock every third of its lifetime while the body runs."""

    async def renew_forever() -> None:
        while True:
            await asyncio.sleep(ttl_s / 3)
            try:
                if not await lock.renew():
                    log.warning("lost the shared lock while computing; another replica may compute too")
                    return
            except Exception as e:
                log.log(failure_log_level(e), "shared lock renewal failed: %s", type(e).__name__)
                return

    renewer = asyncio.create_task(renew_forever(), name="shared-lock-renewer")
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
