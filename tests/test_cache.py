"""Cache backends: TTL, persistence, and SQLite shared between processes."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

from service.cache import MemoryCache, NullCache, SQLiteCache, build_cache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_cache_expires_entries() -> None:
    clock = Clock()
    cache = MemoryCache(clock=clock)
    await cache.set("k", b"v", ttl_s=10)
    assert await cache.get("k") == b"v"
    clock.now += 11
    assert await cache.get("k") is None


async def test_memory_cache_is_bounded() -> None:
    cache = MemoryCache(max_entries=2)
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), ttl_s=60)
    assert [await cache.get(k) for k in ("a", "b", "c")] == [None, b"b", b"c"]


async def test_null_cache_stores_nothing() -> None:
    cache = NullCache()
    await cache.set("k", b"v", ttl_s=10)
    assert await cache.get("k") is None


async def test_sqlite_cache_persists_expires_and_uses_wal(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "sub" / "cache.sqlite3"
    cache = SQLiteCache(str(path), clock=clock)
    await cache.set("k", b"v1", ttl_s=10)
    await cache.set("k", b"v2", ttl_s=10)
    await cache.aclose()
    reopened = SQLiteCache(str(path), clock=clock)
    assert await reopened.get("k") == b"v2"
    clock.now += 11
    assert await reopened.get("k") is None
    await reopened.aclose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_sqlite_cache_is_shared_between_processes(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    writer = (
        "import asyncio, sys\n"
        "from service.cache import SQLiteCache\n"
        "async def main():\n"
        "    c = SQLiteCache(sys.argv[1])\n"
        "    for i in range(50):\n"
        "        await c.set(f'{sys.argv[2]}{i}', b'x' * 100, 60)\n"
        "    await c.aclose()\n"
        "asyncio.run(main())\n"
    )
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", writer, str(path), p) for p in "ab"]
    local = SQLiteCache(str(path))
    await asyncio.gather(*(local.set(f"c{i}", b"y", 60) for i in range(50)))
    assert [await p.wait() for p in procs] == [0, 0]
    values = [await local.get(f"{p}{i}") for p in "abc" for i in range(50)]
    assert all(v is not None for v in values)
    await local.aclose()


def test_build_cache_picks_the_backend() -> None:
    assert isinstance(build_cache("memory://"), MemoryCache)
    assert isinstance(build_cache("none"), NullCache)
    assert isinstance(build_cache("sqlite:///x.db"), SQLiteCache)
