"""Result caches: `build_cache(url)` picks the backend from `CACHE_URL`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.cache.base import Cache
from service.cache.memory import MemoryCache, NullCache
from service.cache.sqlite import SQLiteCache

if TYPE_CHECKING:
    from service.cache.redis_guard import RedisGuard


def build_cache(url: str, *, redis_guard: RedisGuard | None = None) -> Cache:
    """The backend `url` names; a Redis one calls through `redis_guard` (one per process, shared with the
    rate limiters), or a guard of its own with the default timeout and breaker."""
    if url == "none":
        return NullCache()
    if url.startswith("memory://"):
        return MemoryCache()
    if url.startswith("sqlite:///"):
        return SQLiteCache(url.removeprefix("sqlite:///"))
    if url.startswith(("redis://", "rediss://")):
        from service.cache.redis import RedisCache  # imported only when configured

        return RedisCache(url, guard=redis_guard)
    raise ValueError(f"unsupported CACHE_URL: {url}")


__all__ = ["Cache", "MemoryCache", "NullCache", "SQLiteCache", "build_cache"]
