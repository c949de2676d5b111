"""Prompt files from `prompts/`: loaded once, rendered with `string.Template`, versioned by content hash."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from service.article import Article
from service.errors import Violation

_FILES = ("system.md", "user.md", "repair.md", "schema_in_prompt.md")


def default_dir() -> Path:
    """`PROMPTS_DIR` when set (the container sets it), else the repository's `prompts/`."""
    configured = os.environ.get("PROMPTS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "prompts"


def _fence_safe(text: str) -> str:
    """The article cannot close its own fence, nor start a line of its own: angle brackets become look-alike
    guillemets and every run of whitespace (newlines included) one space."""
    return " ".join(text.replace("<", "‹").replace(">", "›").split())


@dataclass(frozen=True)
class Prompts:
    system: str
    user: Template
    repair: Template
    schema_in_prompt: Template
    version: str

    @classmethod
    def load(cls, directory: Path | None = None) -> Prompts:
        directory = directory or default_dir()
        texts = {name: (directory / name).read_text(encoding="utf-8") for name in _FILES}
        digest = hashlib.sha256()
        for name in _FILES:
            digest.update(name.encode() + b"\0" + texts[name].encode() + b"\0")
        return cls(
            system=texts["system.md"].strip(),
            user=Template(texts["user.md"]),
            repair=Template(texts["repair.md"]),
            schema_in_prompt=Template(texts["schema_in_prompt.md"]),
            version=digest.hexdigest()[:12],
        )

    def render_user(self, article: Article, *, schema_json: str | None = None) -> str:
        """The user turn: metadata and the article as numbered sentences inside a fence.

        `schema_json` is given in the `json_object` mode, where the model sees the schema only in the prompt.
        """
        sentences = "\n".join(f"[{s.id}] {_fence_safe(s.text)}" for s in article.sentences)
        schema_part = self.schema_in_prompt.substitute(schema=schema_json) if schema_json else ""
        return self.user.substitute(
            title=_fence_safe(article.title or "(none)"),
            published_at=article.published_at.isoformat() if article.published_at else "(unknown)",
            source_url=_fence_safe((article.source_url or "(unknown)")[:2048]),
            schema_instructions=schema_part,
            sentences=sentences,
        ).strip()

    def render_repair(self, violations: Iterable[Violation | str]) -> str:
        listed = "\n".join(f"- {v}" for v in violations)
        return self.repair.substitute(violations=listed).strip()
