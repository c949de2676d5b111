"""Paragraphs that syntok's segmenter provably leaves whole: the sentence split answers for them without it.

Running syntok's segmenter costs several µs a token, and most news paragraphs are one sentence. Which ones it
leaves whole can be read off its source (syntok 1.4, `_segmentation_states.py`):

- Only `_move_and_maybe_extract_terminal` and a sentence that opens with a bracket (`FirstToken`) can end a
  sentence, and they run only when the next token is a terminal (".", "!", "?", ";", "..." and their
  full-width and other forms) or an opening bracket. A token's value is a piece of the text (the tokenizer
  never changes it when `replace_not_contraction` is off), so a paragraph without any of those characters is
  one sentence: every token in it.
- Otherwise, one terminal character at the very end, right after a letter or digit, maybe followed by closing
  brackets and one closing quote ("said.", "said.”", not "(HTS).", which has a bracket), is the only terminal
  token. The tokenizer makes it and each character after it a token of its own (the tail after the last letter
  or digit of the last chunk). `_move_and_maybe_extract_terminal` moves the terminal, then
  `__move_to_next_relevant_word_and_return_token_after_terminal` moves closing brackets, one closing quote
  without spacing before it, closing brackets again: that is all there is, so whatever it then decides, no
  token is left to start another sentence.

Such a paragraph's one sentence starts at the first token (the first run of characters that are not syntok's
whitespace) and ends with the last token, at the paragraph's end (trailing whitespace is a token too, with an
empty value, placed at the end). A paragraph that is only whitespace has no sentence. The rule is narrower
than what syntok leaves whole (other punctuation after the terminal, for one): a paragraph it does not take
costs a run of syntok, never a wrong split. `tests/test_prepare_speedups.py` checks the rule's premises and
compares the split with syntok's on every test article and on generated text made of these characters.
"""

from __future__ import annotations

import re

from syntok._segmentation_states import State

_TERMINALS = "".join(sorted(c for c in State.terminals if len(c) == 1))  # "..." is three of "."
_CAN_SPLIT = re.escape(_TERMINALS + "".join(sorted(State.opening_brackets)))
_CLOSING_BRACKETS = re.escape("".join(sorted(State.closing_brackets)))
_CLOSING_QUOTES = re.escape("".join(sorted(State.closing_quotes)))

# No character that can make syntok split; or that, then a letter or digit (`[^\W_]`: `\w` is `str.isalnum`
# and the underscore), one terminal, closing brackets, one closing quote, closing brackets, at the end.
_ONE_SENTENCE = re.compile(
    rf"[^{_CAN_SPLIT}]*"
    rf"(?:[^\W_][{re.escape(_TERMINALS)}][{_CLOSING_BRACKETS}]*[{_CLOSING_QUOTES}]?[{_CLOSING_BRACKETS}]*)?"
)


def is_one_sentence(paragraph: str) -> bool:
    """True when syntok makes one sentence of all of `paragraph`'s tokens (none if it is blank)."""
    return _ONE_SENTENCE.fullmatch(paragraph) is not None
