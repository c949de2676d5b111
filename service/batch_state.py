"""The state of a `batch --upstream-batch` job, kept beside OUT (`OUT.batch-state.json`), so that a killed run
resumes polling the batches it created instead of creating (and paying for) them again.

It holds what cannot be rebuilt from IN and OUT: the input file (its path, the path of the local JSONL it was
written to) and the upstream file and batch ids of each part of the current round, the round number, and what
each article carried into this round has cost in earlier rounds. Every change is written at once, atomically
(a temporary file renamed over the old one): a crash leaves the old state or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from service.errors import Usage
from service.text.html_extract import Page

_VERSION = 1


@dataclass
class Part:
    """One Batch API input file of a round: the local copy, then its upstream file id, then its batch id."""

    path: str
    requests: int
    file_id: str | None = None
    batch_id: str | None = None


@dataclass
class Spent:
    """What one article's earlier rounds cost: upstream calls and tokens."""

    attempts: int = 0
    usage: list[int] = field(default_factory=lambda: [0, 0, 0])  # prompt, completion, cached tokens

    @property
    def tokens(self) -> Usage:
        return Usage(*self.usage)


@dataclass
class BatchState:
    in_path: str
    model: str
    round: int = 1  # 1: the first answers; each later round is one repair turn
    parts: list[Part] = field(default_factory=list)
    spent: dict[str, Spent] = field(
        default_factory=dict
    )  # by article id: the articles carried into the round
    # by article id: each `url` line's page (its text and publication date) as fetched when the job started,
    # so that a resumed job judges the answers against what they were written for (and fetches nothing again)
    pages: dict[str, Page] = field(default_factory=dict)

    @staticmethod
    def source_of(in_path: Path) -> str:
        """How the state names its input file: the absolute path."""
        return str(in_path.resolve())

    @staticmethod
    def path_for(out_path: Path) -> Path:
        return out_path.with_name(out_path.name + ".batch-state.json")

    @staticmethod
    def inputs_dir(out_path: Path) -> Path:
        """Where the round's Batch API input files are written (kept until the job is done)."""
        return out_path.with_name(out_path.name + ".batch-inputs")

    @classmethod
    def load(cls, out_path: Path) -> BatchState | None:
        path = cls.path_for(out_path)
        if not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != _VERSION:
            raise ValueError(f"{path}: unknown state version {data.get('version')!r}")
        return cls(
            in_path=data["in_path"],
            model=data["model"],
            round=data["round"],
            parts=[Part(**part) for part in data["parts"]],
            spent={key: Spent(**value) for key, value in data["spent"].items()},
            pages={key: _page(value) for key, value in data.get("pages", {}).items()},
        )

    def save(self, out_path: Path) -> None:
        path = self.path_for(out_path)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps({"version": _VERSION, **asdict(self)}, default=str), encoding="utf-8")
        os.replace(temporary, path)

    @classmethod
    def remove(cls, out_path: Path) -> None:
        """The job is done: its state and its input files go."""
        cls.path_for(out_path).unlink(missing_ok=True)
        shutil.rmtree(cls.inputs_dir(out_path), ignore_errors=True)


def _page(saved: str | dict[str, Any]) -> Page:
    """A page as the state saved it (`{"text", "published"}`; a state from before publication dates: the text)."""
    if isinstance(saved, str):
        return Page(saved)
    published = saved.get("published")
    return Page(saved["text"], date.fromisoformat(published) if published else None)
