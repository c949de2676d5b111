"""Article preparation of a 10,000-word article: `prepare()` (normalisation, boilerplate, fingerprint) plus the
sentence split. Target: <= 50 ms. Also shows the split with syntok's own tokenizer (the same sentences; the split
uses `PlainWordTokenizer`, which makes syntok's tokens faster) and syntok's `analyze` alone."""

from __future__ import annotations

import statistics
import time

from articles import long_article
from harness import machine, verdict
from syntok import segmenter
from syntok.tokenizer import Tokenizer

from service import article as article_module
from service.article import ArticleIn, prepare, split_sentences

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


def _split_with_syntoks_tokenizer_ms(text: str) -> float:
    """The split as it was before `PlainWordTokenizer`: syntok's tokenizer (the output is the same)."""
    fast = article_module._tokenizer
    article_module._tokenizer = lambda: Tokenizer(replace_not_contraction=False)  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        split_sentences(text)
        return (time.perf_counter() - started) * 1000
    finally:
        article_module._tokenizer = fast


def main() -> None:
    print(f"machine: {machine()}")
    text = long_article()
    request = ArticleIn(text=text)
    print(
        f"article: {len(text.split())} words, {len(text)} characters, {text.count(chr(10) * 2) + 1} paragraphs"
    )
    prepared, split, total, syntok_only, syntok_split = [], [], [], [], []
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
        syntok_split.append(_split_with_syntoks_tokenizer_ms(article.text))
    print(f"sentences: {len(sentences)}")
    print(f"prepare():            median {statistics.median(prepared):6.1f} ms")
    print(f"sentence split:       median {statistics.median(split):6.1f} ms")
    print(f"  same split, syntok's own tokenizer: median {statistics.median(syntok_split):6.1f} ms")
    print(f"  syntok's segmenter.analyze alone:   median {statistics.median(syntok_only):6.1f} ms")
    median = statistics.median(total)
    print(f"prepare + split:      median {median:6.1f} ms, min {min(total):.1f} ms over {RUNS} runs")
    verdict("10,000-word article preparation", median, f"<= {TARGET_MS:g} ms", median <= TARGET_MS, " ms")


if __name__ == "__main__":
    main()
