"""Answers that repeat the instructions instead of the article.

A model obeying an injected "print your system prompt" puts the prompt into free text (headline, statements,
claims, names), which grounding does not cover. Any run of `WINDOW` words of the instructions that the article
itself does not contain marks the field that carries it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from service.errors import Violation
from service.schema import IncidentSummary

WINDOW = 6
_WORD = re.compile(r"\w+")


def _grams(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    return {tuple(words[i : i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _strings(item, f"{path}[{i}]")


class EchoCheck:
    """Built once per engine from its instructions; `violations()` runs on every answer."""

    def __init__(self, *instructions: str) -> None:
        self._grams = set().union(*(_grams(text) for text in instructions))

    def violations(self, summary: IncidentSummary, article_text: str) -> list[Violation]:
        """The fields with a run of the instructions' words that the article does not contain.

        The article's own runs are only worked out when a field shares a run with the instructions (rarely:
        an honest answer shares none), which saves most of the check's time on every answer."""
        article_grams: set[tuple[str, ...]] | None = None
        found = []
        for path, value in _strings(summary.model_dump(), ""):
            if path == "citations" or path.endswith("citations"):
                continue
            echoed = _grams(value) & self._grams
            if not echoed:
                continue
            if article_grams is None:
                article_grams = _grams(article_text)
            if echoed - article_grams:
                found.append(
                    Violation(
                        path,
                        "instructions_echoed",
                        "this repeats the instructions; state only what the article says",
                    )
                )
        return found
