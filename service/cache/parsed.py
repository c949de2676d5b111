"""Results this process has parsed, kept so that a cache hit is not validated and serialized all over again.

The configured cache (memory, SQLite, Redis) stays the only source of truth: every request still asks it, so
TTLs, `Cache-Control: no-cache` and results written by other replicas behave exactly as before. What is kept
here, per result id, is the bytes last read from (or written to) the cache and the `SummaryResult` they
validate into. When the cache answers with the same bytes again, that result is reused instead of validating
~8 KB of JSON (about 70 µs for a sample article); other bytes (a refresh, another replica's result) are
validated and replace the entry.

Each entry also keeps the JSON of the result up to its `meta`, which is the last field: a response is that
prefix, the request's own `meta` (`cached`, `latency_ms`) and a closing brace — the bytes `model_dump_json()`
gives, without serializing the summary and the sentences again (about 30 µs).

The entries hold at most `max_bytes` of JSON (the parsed objects take a few times more); the least recently
used go first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from service.result import SummaryResult

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_META = b',"meta":'


@dataclass(frozen=True, slots=True)
class _Entry:
    stored: bytes  # what the cache holds
    result: SummaryResult  # `stored`, validated
    head: bytes  # the JSON of `result` up to the value of `meta`

    @property
    def size(self) -> int:
        return len(self.stored) + len(self.head)


def _head(result: SummaryResult) -> bytes:
    """`{"id":…,"summary":…,"sentences":…,"meta":` — `model_dump_json()` up to `meta`, its last field."""
    return result.model_dump_json(exclude={"meta"}).encode()[:-1] + _META


class ParsedResults:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0

    def parse(self, key: str, stored: bytes) -> SummaryResult:
        """`SummaryResult.model_validate_json(stored)` of the cache entry `key` (the result's id), reusing the
        result when these are the bytes kept for it."""
        entry = self._entries.get(key)
        if entry is not None and entry.stored == stored:
            self._entries.move_to_end(key)
            return entry.result
        result = SummaryResult.model_validate_json(stored)
        self._keep(_Entry(stored, result, _head(result)))
        return result

    def serialize(self, result: SummaryResult) -> bytes:
        """The bytes to store for a result just computed (`model_dump_json()`); it is kept as parsed."""
        head = _head(result)
        stored = head + result.meta.model_dump_json().encode() + b"}"
        self._keep(_Entry(stored, result, head))
        return stored

    def dump_json(self, result: SummaryResult) -> bytes:
        """`result.model_dump_json()`, from the kept prefix when `result` is a kept result with its own `meta`
        (the summarizer stamps each answer with a shallow copy: same summary and sentences, new `meta`)."""
        entry = self._entries.get(result.id)
        if (
            entry is not None
            and result.summary is entry.result.summary
            and result.sentences is entry.result.sentences
        ):
            return entry.head + result.meta.model_dump_json().encode() + b"}"
        return result.model_dump_json().encode()

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """The bytes of JSON the entries hold."""
        return self._bytes

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def _keep(self, entry: _Entry) -> None:
        old = self._entries.pop(entry.result.id, None)
        if old is not None:
            self._bytes -= old.size
        if entry.size > self._max_bytes:
            return
        self._entries[entry.result.id] = entry
        self._bytes += entry.size
        while self._bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size
