"""Article preparation of a 10,000-word article: `prepare()` (normalisation, boilerplate, fingerprint) plus the
sentence split (syntok through its public API). Target: <= 50 ms. Also shows syntok's `analyze` alone: the
floor of a split that uses syntok."""

from __future__ import annotations

import statistics
import time

from articles import long_article
from harness import machine, verdict
from syntok import segmenter

from service.article import ArticleIn, prepare

RUNS = 9
TARGET_MS = 50.0


def _syntok_ms(paragraphs: list[str]) -> float:
    """syntok alone over the same paragraphs, as the split runs it."""
    started = time.perf_counter()
    for paragraph in paragraphs:
        for sentences in segmenter.analyze(paragraph):
            for sentence in sentences:
                list(sentence)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    print(f"machine: {machine()}")
    text = long_article()
    request = ArticleIn(text=text)
    print(
        f"article: {len(text.split())} words, {len(text)} characters, {text.count(chr(10) * 2) + 1} paragraphs"
    )
    prepared, split, total, syntok_only = [], [], [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        article = prepare(request, max_chars=1_000_000, max_sentences=100_000)
        middle = time.perf_counter()
        sentences = article.sentences
        ended = time.perf_counter()
        prepared.append((middle - started) * 1000)
        split.append((ended - middle) * 1000)
        total.append((ended - started) * 1000)
        syntok_only.append(_syntok_ms(article.text.split("\n")))
    print(f"sentences: {len(sentences)}")
    print(f"prepare():            median {statistics.median(prepared):6.1f} ms")
    print(f"sentence split:       median {statistics.median(split):6.1f} ms")
    print(f"  syntok's segmenter.analyze alone:   median {statistics.median(syntok_only):6.1f} ms")
    median = statistics.median(total)
    print(f"prepare + split:      median {median:6.1f} ms, min {min(total):.1f} ms over {RUNS} runs")
    verdict("10,000-word article preparation", median, f"<= {TARGET_MS:g} ms", median <= TARGET_MS, " ms")


if __name__ == "__main__":
    main()
