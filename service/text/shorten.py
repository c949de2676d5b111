"""Text cut to a length at a word boundary, with an ellipsis: headlines and quoted statements."""

from __future__ import annotations


def shorten(text: str, limit: int) -> str:
    """`text` itself when it fits in `limit` characters; else its words up to `limit - 3` characters and "…"."""
    return text if len(text) <= limit else text[: limit - 3].rsplit(" ", 1)[0] + "…"
