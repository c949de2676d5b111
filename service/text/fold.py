"""Case-insensitive matching at case-sensitive speed: fold the text once, match lower-case patterns.

Python's `re` cannot skip a case-insensitive alternative on its first character, so a long alternation of
words with re.IGNORECASE ("killed|wounded|...") costs three to four times what the same lower-case
alternation costs case-sensitively. `fold_case` maps every character that re.IGNORECASE equates with an ASCII
letter to that lower-case letter and changes nothing else: the folded text has the same length, offsets and
word boundaries, and a lower-case ASCII pattern compiled with `folded_pattern` finds in it exactly the matches
the pattern with re.IGNORECASE finds in the original. Matched words are read back from the original text by
offset wherever their spelling matters.
"""

from __future__ import annotations

import re

# The characters re.IGNORECASE equates with an ASCII letter besides the ASCII letters themselves: dotted and
# dotless i, long s, Kelvin sign (tests/test_numbers.py checks this against `re`). The one fold table of the
# service: boilerplate, numbers and the extractive rules all fold with `fold_case`.
_ODD_CASES = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
_CASE_FOLD = str.maketrans({**{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}, **_ODD_CASES})
_UPPER_IN_PATTERN = re.compile(r"\\.|\(\?P<\w+>|\(\?[aiLmsux-]+[:)]|(?P<upper>[A-Z])")


def fold_case(text: str) -> str:
    """`text` as re.IGNORECASE compares it with ASCII letters; same length (`str.lower` lengthens "İ")."""
    return text.lower() if text.isascii() else text.translate(_CASE_FOLD)


def folded_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a lower-case pattern to be matched against `fold_case(text)`. Upper-case letters and inline
    flags are refused: they would make the result differ from re.IGNORECASE on the original text."""
    for m in _UPPER_IN_PATTERN.finditer(pattern):
        if m.group("upper") or (m.group(0).startswith("(?") and not m.group(0).startswith("(?P<")):
            raise ValueError(f"not a lower-case pattern without inline flags: {m.group(0)!r} in {pattern!r}")
    return re.compile(pattern)
