"""Alternations of words regrouped by their first letter: the same matches at a fraction of `re`'s cost.

At every place a match may start, Python's `re` tries the alternatives of "killed|dead|kidnapped|..." one
after another. An alternative that begins with a letter other than the text's fails at its first character,
but sixty alternatives still cost sixty such checks at every word of every sentence. Grouped by first letter
("k(?:illed|idnapped)|dead|..."), they cost one check per letter, and only the alternatives that begin with
the text's letter are tried further.

Why the matches are the same: at a given position, only alternatives that begin with the character there can
match, and a group holds all of them in their original order; `re` takes the first alternative (in order)
that leads to a whole match, so it takes the same one, with the same backtracking into the rest of the
pattern. An alternative that does not begin with a plain lower-case letter ("\\bieds?", "(?:seized|...)",
"a?b") could match wherever any letter stands: it stays where it is, and only the alternatives between two
such ones are grouped, so no alternative moves past it. Capturing groups are refused (grouping would
renumber them). Used by the extractive engine's word lists and by `numbers`; those run case-sensitively,
mostly on case-folded text (`service.engines.extractive.casefold`), where one character is one letter.
"""

from __future__ import annotations

import re
from string import ascii_lowercase

_QUANTIFIERS = frozenset("?*+{")
_LETTERS = frozenset(ascii_lowercase)


def split_alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of `pattern`: split at each "|" outside groups and character classes."""
    parts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            i += 1 if pattern[i + 1 : i + 2] == "^" else 0
            i += 1 if pattern[i + 1 : i + 2] == "]" else 0  # "[]...]" and "[^]...]": the "]" is a member
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _letter_first(alternative: str) -> bool:
    """Does every match of `alternative` begin with its first character, a lower-case letter?"""
    return alternative[:1] in _LETTERS and alternative[1:2] not in _QUANTIFIERS


def by_first_letter(alternation: str) -> str:
    """`alternation` ("killed|dead|kidnapped") regrouped by first letter ("k(?:illed|idnapped)|dead")."""
    if re.compile(alternation).groups:
        raise ValueError(f"capturing groups would be renumbered: {alternation!r}")
    out: list[str] = []
    run: dict[str, list[str]] = {}  # first letter -> the rests, in order, since the last unmovable one

    def close_run() -> None:
        for letter, rests in run.items():
            out.append(letter + (f"(?:{'|'.join(rests)})" if len(rests) > 1 else rests[0]))
        run.clear()

    for alternative in split_alternatives(alternation):
        if _letter_first(alternative):
            run.setdefault(alternative[0], []).append(alternative[1:])
        else:
            close_run()
            out.append(alternative)
    close_run()
    return "|".join(out)
