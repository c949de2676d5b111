"""Text utilities shared by article preparation, grounding and the extractive engine, about strings only:

- `fold`: the one case fold (`fold_case`: what re.IGNORECASE equates with ASCII letters, same length) and
  lower-case patterns compiled to run on folded text;
- `alternation`: word alternations grouped by first letter;
- `numbers`: counts in English news text (digits, number words, qualifiers, vague quantities);
- `boilerplate`: web boilerplate lines and trailing credits;
- `html_extract`: an HTML page's main text and the publication date its markup states;
- `sentences`: normalisation and the sentence split (syntok through its public API);
- `shorten`: text cut at a word boundary with an ellipsis.
"""
