"""Validated results in the configured cache: stored as their JSON, read back validated, each parsed once.

The one place the summarizer meets the cache. The cache stays the only source of truth (TTL, refresh, another
replica's write): every read asks it. What this keeps, for the results read or written most recently, is the
bytes and the result they validate into, so a hit on the same bytes is not validated again (a full result is
~8 KB of JSON and costs ~120 µs to validate, most of a hit's own work). Other bytes are validated anew.

A cache outage costs a recomputation, never the request: a read that fails answers None, a write that fails is
dropped; both are logged.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from service.cache.base import Cache
from service.result import SummaryResult

log = logging.getLogger("service.summarizer")

_KEPT = 512


class ResultStore:
    def __init__(self, cache: Cache, *, kept: int = _KEPT) -> None:
        self.cache = cache
        self._parsed: OrderedDict[str, tuple[bytes, SummaryResult]] = OrderedDict()
        self._kept = kept

    async def get(self, key: str) -> SummaryResult | None:
        try:
            stored = await self.cache.get(key)
        except Exception as e:
            log.warning("cache %s get failed: %s", self.cache.name, type(e).__name__)
            return None
        return self.parse(key, stored) if stored is not None else None

    async def put(self, key: str, result: SummaryResult, ttl_s: int) -> None:
        stored = result.model_dump_json().encode()
        self._keep(key, stored, result)
        try:
            await self.cache.set(key, stored, ttl_s)
        except Exception as e:
            log.warning("cache %s set failed: %s", self.cache.name, type(e).__name__)

    def parse(self, key: str, stored: bytes) -> SummaryResult:
        """The result `stored` holds, validated once for the same bytes under `key`."""
        kept = self._parsed.get(key)
        if kept is not None and kept[0] == stored:
            self._parsed.move_to_end(key)
            return kept[1]
        result = SummaryResult.model_validate_json(stored)
        self._keep(key, stored, result)
        return result

    def _keep(self, key: str, stored: bytes, result: SummaryResult) -> None:
        self._parsed[key] = (stored, result)
        self._parsed.move_to_end(key)
        if len(self._parsed) > self._kept:
            self._parsed.popitem(last=False)
