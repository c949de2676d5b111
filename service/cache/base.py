"""What every cache backend provides. Values are opaque bytes: the summarizer stores validated results only."""

from __future__ import annotations

from typing import Protocol


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
