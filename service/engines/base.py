"""What every engine provides, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from service.article import Article
from service.errors import Usage
from service.schema import IncidentSummary


@dataclass(frozen=True, slots=True)
class DerivedFact:
    """A field the service filled from its own reference data, not from the article (`service.derived`)."""

    path: str
    value: str
    basis: str


@dataclass(frozen=True, slots=True)
class EngineResult:
    summary: IncidentSummary
    attempts: int = 1
    usage: Usage = field(default_factory=Usage)
    warnings: tuple[str, ...] = ()
    derived: tuple[DerivedFact, ...] = ()


class Engine(Protocol):
    """An engine is named, knows its model, and summarizes one article.

    `summarize` raises the typed errors of `service.errors` (never a third-party exception) and returns a
    summary that already passed `grounding.check`; the summarizer checks it again all the same.
    """

    name: str
    model: str

    async def summarize(self, article: Article, *, deadline_s: float | None = None) -> EngineResult: ...

    async def check_ready(self) -> None:
        """Raise when the engine cannot serve (e.g. no upstream configured)."""
        ...

    async def aclose(self) -> None: ...
