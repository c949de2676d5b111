"""Result caches: `build_cache(url)` picks the backend from `CACHE_URL`."""

from __future__ import annotations

from service.cache.base import Cache
from service.cache.memory import MemoryCache, NullCache
from service.cache.sqlite import SQLiteCache


def build_cache(url: str) -> Cache:
    if url == "none":
        return NullCache()
    if url.startswith("memory://"):
        return MemoryCache()
    if url.startswith("sqlite:///"):
        return SQLiteCache(url.removeprefix("sqlite:///"))
    if url.startswith(("redis://", "rediss://")):
        from service.cache.redis import RedisCache  # imported only when configured

        return RedisCache(url)
    raise ValueError(f"unsupported CACHE_URL: {url}")


__all__ = ["Cache", "MemoryCache", "NullCache", "SQLiteCache", "build_cache"]
