"""Validated results in the configured cache: stored as their JSON, read back validated, each parsed once.

The one place the summarizer meets the cache. The cache stays the only source of truth (TTL, refresh, another
replica's write): every read asks it. What this keeps, for the results read or written most recently, is the
bytes and the result they validate into, so a hit on the same bytes is not validated again (a full result is
~8 KB of JSON and costs ~120 µs to validate, most of a hit's own work). Other bytes are validated anew.

Deterministic failures (an answer that stayed unrepairable, a refusal) are recorded for a few minutes
(`CACHE_FAILURE_TTL_S`) under their own key, so that a client retrying on 502 does not pay for the same calls
again; `Cache-Control: no-cache` tries anew.

A cache outage costs a recomputation, never the request: a read that fails answers None, a write that fails is
dropped; both are logged (at DEBUG when the backend reported it already: `CacheUnavailable.reported`).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict

from service.cache.base import Cache, failure_log_level
from service.errors import OutputError, Refusal, Violation
from service.result import SummaryResult

log = logging.getLogger("service.summarizer")

_KEPT = 512
_FAILED = "failed:"  # the key of a recorded failure: never a result id (those are hex)


class ResultStore:
    def __init__(self, cache: Cache, *, kept: int = _KEPT) -> None:
        self.cache = cache
        self._parsed: OrderedDict[str, tuple[bytes, SummaryResult]] = OrderedDict()
        self._kept = kept

    async def get(self, key: str) -> SummaryResult | None:
        stored = await self._read(key)
        return self.parse(key, stored) if stored is not None else None

    async def put(self, key: str, result: SummaryResult, ttl_s: int) -> None:
        stored = result.model_dump_json().encode()
        self._keep(key, stored, result)
        await self._write(key, stored, ttl_s)

    async def get_failure(self, key: str) -> OutputError | None:
        """The deterministic failure (unrepairable answer, refusal) recorded for `key`, if one is recent."""
        stored = await self._read(_FAILED + key)
        if stored is None:
            return None
        data = json.loads(stored)
        message = f"{data['message']} (a recent identical request failed the same way; send "
        message += "Cache-Control: no-cache to try again)"
        if data.get("refusal") is not None:
            return Refusal(message, refusal=data["refusal"])
        return OutputError(message, violations=tuple(Violation(*v) for v in data["violations"]))

    async def put_failure(self, key: str, error: OutputError, ttl_s: int) -> None:
        """Record a deterministic failure for `ttl_s` seconds, so that retrying clients do not pay again."""
        data = {
            "message": error.message,
            "violations": [[v.path, v.rule, v.detail] for v in error.violations],
            "refusal": error.refusal if isinstance(error, Refusal) else None,
        }
        await self._write(_FAILED + key, json.dumps(data).encode(), ttl_s)

    async def _read(self, key: str) -> bytes | None:
        try:
            return await self.cache.get(key)
        except Exception as e:
            log.log(failure_log_level(e), "cache %s get failed: %s", self.cache.name, type(e).__name__)
            return None

    async def _write(self, key: str, value: bytes, ttl_s: int) -> None:
        try:
            await self.cache.set(key, value, ttl_s)
        except Exception as e:
            log.log(failure_log_level(e), "cache %s set failed: %s", self.cache.name, type(e).__name__)

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
