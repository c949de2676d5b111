"""Cue patterns anchored at the end of a window ("... the town of $"), tried only where they can match.

Many rules ask whether the words right before a name or a number are a cue: "near", "the village of",
"killing at least". Their patterns end in `\\s*$` and Python's `re` finds such a match by trying every position
of the window, which costs far more than the answer, usually no. Every match of such a pattern ends with one
of a few words (then only spaces): the window's last word must be one of them. `EndingCue` looks at that word
first (a set look-up) and runs the pattern only when it is one. The words are listed by hand next to each
pattern; tests generate matches of each pattern and check that each ends with a listed word.
"""

from __future__ import annotations

import re


def last_word(window: str) -> str:
    """The letters at the end of `window`, trailing spaces aside ("fled to the  " -> "the")."""
    tokens = window.rsplit(None, 1)
    token = tokens[-1] if tokens else ""
    if token.isalpha():
        return token  # (most windows)
    i = len(token)
    while i and token[i - 1].isalpha():
        i -= 1
    return token[i:]


class EndingCue:
    """A pattern ending in `$` whose every match ends with one of `last_words` (then only whitespace)."""

    __slots__ = ("last_words", "pattern")

    def __init__(self, pattern: re.Pattern[str], last_words: str) -> None:
        self.pattern = pattern
        self.last_words = frozenset(last_words.split())

    def search(self, window: str, last: str | None = None) -> re.Match[str] | None:
        """`pattern.search(window)`; `last` is `last_word(window)` where the caller has it already."""
        if (last_word(window) if last is None else last) not in self.last_words:
            return None
        return self.pattern.search(window)
