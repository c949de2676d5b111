"""The phrase that names a source, found next to a reporting verb in one sentence.

Before the verb ("Syrian state news agency SANA reports", "..., Lieutenant Colonel Guillaume Ndjike, said"),
or after it where the verb follows a quote ("..." said Colonel Miles Cuggins) or is "according to". A source
phrase is a run of capitalised words and source words ("officials", "state media", "the ministry"); the
sentence's attributions are then resolved and cited by `sources`.
"""

from __future__ import annotations

import re

from service.article import Sentence
from service.engines.extractive import cues
from service.text.alternation import by_first_letter

# Words a source phrase is made of besides capitalised ones ("local officials", "the defence ministry").
_NP_WORDS = frozenset([
    "official", "officials", "source", "sources", "spokesman", "spokeswoman", "spokesperson", "spokesmen",
    "ministry", "agency", "news", "state", "media", "police", "army", "military", "local", "knowledgeable",
    "senior", "security", "government", "defense", "defence", "foreign", "interior", "health", "witnesses",
    "witness", "eyewitnesses", "eyewitness", "residents", "resident", "activists", "activist", "medics",
    "medic", "doctors", "observers", "monitor", "group", "officer", "officers", "commander", "commanders",
    "governor", "chief", "minister", "deputy", "representative", "authorities", "authority", "portal",
    "website", "newspaper", "outlet", "channel", "television", "radio", "office", "statement", "of", "for",
    "the", "a", "an", "two", "three", "several", "some", "other", "provincial", "district", "regional",
    "military-run", "state-run", "rights", "humanitarian", "aid", "workers", "organization", "organisation",
    "council", "committee", "members", "member", "leader", "leaders", "correspondent", "reporter",
    "reporters", "journalist", "journalists", "analysts", "experts", "monitors", "hospital", "sources'",
    "internationally", "recognised", "recognized", "run", "backed-run", "war", "rescue", "human"
])  # fmt: skip
# The last word of a lower-case phrase that makes it a source ("security sources", "the ministry").
SOURCE_HEADS = frozenset([
    "officials", "official", "sources", "source", "spokesman", "spokeswoman", "spokesperson", "ministry",
    "agency", "police", "army", "military", "witnesses", "eyewitnesses", "residents", "activists", "medics",
    "doctors", "observers", "monitor", "group", "officer", "officers", "commander", "governor", "chief",
    "minister", "representative", "authorities", "portal", "website", "newspaper", "outlet", "channel",
    "television", "radio", "office", "council", "committee", "leader", "correspondent", "reporter",
    "journalist", "hospital", "government", "observatory"
])  # fmt: skip
_LEADING_TRIM = frozenset(["a", "an", "two", "three", "four", "five", "several", "some", "of", "for"])
GENERIC = frozenset({"reports", "report", "media reports", "other reports", "statement", "reports say"})
PRONOUNS = frozenset({"he", "she", "him", "her"})
_SKIP_BEFORE_VERB = frozenset([
    "has", "have", "had", "also", "previously", "later", "then", "further", "earlier", "separately",
    "officially"
])  # fmt: skip
# Lower case: "United States" is no verb. The first-letter class is a cheap test the verbs would make anyway.
_VERB_LETTERS = "".join(sorted({verb[0] for verb in cues.REPORTING_VERBS.split("|")} | {"A", "a"}))
_VERB = re.compile(
    rf"\b(?=[{_VERB_LETTERS}])(?P<verb>{by_first_letter(cues.REPORTING_VERBS)}|[Aa]ccording to)\b"
)  # (the verbs grouped by first letter: `service.alternation`)
_PARENTHETICAL = re.compile(r",\s+(?:[a-z][\w'’\-]*\s+){0,8}[a-z][\w'’\-]*\s*,\s*$")
_PARTICLE_NAME = re.compile(r"^(?:al|el|ad|ar|as|ash|az|bin|ibn|abu|de|van|von|da|di|du)-?[A-Z]")
_AFTER_QUOTE = re.compile(r"[,”\"]\s*$")


def _clean(words: list[str]) -> str:
    while words and words[0].lower().strip('“"') in _LEADING_TRIM:
        words = words[1:]
    if len(words) > 1 and words[0].lower() == "the" and words[1][0].isupper():
        words = words[1:]
    while words and words[-1].lower() in ("of", "for", "the"):
        words = words[:-1]
    return " ".join(words).strip(" ,.;:“”\"'")


def _is_np_word(word: str) -> bool:
    bare = word.strip("“”\"'()")
    if not bare:
        return False
    return (
        bare[0].isupper()
        or bare.lower() in _NP_WORDS
        or bare.lower() in PRONOUNS
        or bool(_PARTICLE_NAME.match(bare))
    )


def _np_before(prefix: str) -> str:
    prefix = _PARENTHETICAL.sub("", prefix.rstrip())
    tokens = prefix.split()
    while tokens and tokens[-1].lower().strip(",") in _SKIP_BEFORE_VERB:
        tokens.pop()
    taken: list[str] = []
    appositive = bool(tokens) and tokens[-1].endswith(",") and tokens[-1][:1].isupper()
    for i, token in enumerate(reversed(tokens)):
        if i == 0 and appositive:  # "..., Lieutenant Colonel Guillaume Ndjike, said"
            token = token[:-1]
        if token[-1] in ',;:–—-”"(' or not _is_np_word(token) or len(taken) >= 10:
            break
        taken.append(token)
    return _clean(list(reversed(taken)))


def _np_after(suffix: str) -> str:
    taken: list[str] = []
    for token in suffix.split():
        bare = token.rstrip(',.;:”"')
        if not bare or not _is_np_word(bare) or len(taken) >= 8:
            break
        taken.append(bare)
        if bare != token:
            break
    return _clean(taken)


def _acceptable(np: str) -> bool:
    if not np or np.lower() in GENERIC:
        return False
    words = np.split()
    return any(w[0].isupper() for w in words) or words[-1].lower() in SOURCE_HEADS or np.lower() in PRONOUNS


def raw_attributions(sentence: Sentence) -> list[tuple[str, int, int]]:
    """(source phrase, start, end) of each attribution in one sentence, unresolved; the span covers the
    phrase and its verb."""
    text = sentence.text
    found: list[tuple[str, int, int]] = []
    for m in _VERB.finditer(text):
        inverted = m.group("verb").lower() == "according to"
        np = "" if inverted else _np_before(text[: m.start()])
        if np:
            start, end = text.rfind(np, 0, m.start()), m.end()
        elif inverted or _AFTER_QUOTE.search(text[: m.start()]):
            np = _np_after(text[m.end() :])
            start, end = m.start(), text.find(np, m.end()) + len(np)
        if _acceptable(np) and start >= 0:
            found.append((np, start, max(end, m.end())))
    return found
