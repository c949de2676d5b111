"""Validated results in the configured cache: stored as their JSON, read back validated.

The one place the summarizer meets the cache. A cache outage costs a recomputation, never the request: a read
that fails answers None, a write that fails is dropped; both are logged.
"""

from __future__ import annotations

import logging

from service.cache.base import Cache
from service.result import SummaryResult

log = logging.getLogger("service.summarizer")


class ResultStore:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def get(self, key: str) -> SummaryResult | None:
        try:
            stored = await self.cache.get(key)
        except Exception as e:
            log.warning("cache %s get failed: %s", self.cache.name, type(e).__name__)
            return None
        return self.parse(stored) if stored is not None else None

    async def put(self, key: str, result: SummaryResult, ttl_s: int) -> None:
        try:
            await self.cache.set(key, result.model_dump_json().encode(), ttl_s)
        except Exception as e:
            log.warning("cache %s set failed: %s", self.cache.name, type(e).__name__)

    @staticmethod
    def parse(stored: bytes) -> SummaryResult:
        return SummaryResult.model_validate_json(stored)
