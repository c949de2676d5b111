"""What every cache backend provides. Values are opaque bytes: the summarizer stores validated results only."""

from __future__ import annotations

import logging
from typing import Protocol

from service.errors import CacheUnavailable


class Cache(Protocol):
    name: str

    async def get(self, key: str) -> bytes | None:
        """The value stored under `key`, or None when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl_s: int) -> None: ...

    async def ping(self) -> None:
        """Raise when the backend cannot serve (used by /readyz)."""
        ...

    async def aclose(self) -> None: ...


def failure_log_level(error: Exception) -> int:
    """How to log a failed cache call: WARNING, or DEBUG for a failure the backend logged already
    (`CacheUnavailable.reported`: the Redis guard logs once an interval)."""
    return logging.DEBUG if isinstance(error, CacheUnavailable) and error.reported else logging.WARNING
