"""What every engine provides, and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from service.article import Article
from service.errors import Usage, Violation
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
    served_by: str | None = None  # the model that answered, as the endpoint names it
    system_fingerprint: str | None = None


# The summarizer's gate: the violations of a candidate summary of the article at hand (none: it is grounded).
Judge = Callable[[IncidentSummary], list[Violation]]


class Engine(Protocol):
    """An engine is named, knows its model, and summarizes one article.

    `summarize` raises the typed errors of `service.errors` (never a third-party exception). It hands each
    candidate summary it would return to `judge` (the summarizer's one gate) and uses the verdict to repair or
    prune; the summarizer accepts the returned summary on that verdict and judges a candidate only if it was
    not judged (`judge` is None when the engine runs on its own: it then judges with `grounding.check`).
    """

    name: str
    model: str

    async def summarize(
        self, article: Article, *, deadline_s: float | None = None, judge: Judge | None = None
    ) -> EngineResult: ...

    async def check_ready(self) -> None:
        """Raise when the engine cannot serve (e.g. no upstream configured)."""
        ...

    async def aclose(self) -> None: ...
