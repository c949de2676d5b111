"""Throughput of the extractive engine: prepare + sentence split + summarize + grounding, one core.

    .venv/bin/python bench/bench_extractive.py [--rounds 3] [--samples ../shared/samples]

Prints articles/s for the shipped samples, for ~600-word articles and for one 10,000-word article, with the
time split between preparation (normalising), sentence splitting (syntok), the engine's rules and the
grounding check. The 600-word and 10,000-word articles are built from the gold articles in
tests/data/gold_articles.jsonl, so they read like news; per-text caches are cleared before each article, so
repeated paragraphs are not served from them. The gazetteer loads before timing starts; the first article of a
country also builds that country's transliteration index, a one-off cost paid in an untimed first pass.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from service import grounding, numbers
from service.article import ArticleIn, prepare
from service.engines.extractive import ExtractiveEngine, cues, gazetteer

_CACHED_MODULES = (numbers, cues, gazetteer)


def _cold() -> None:
    """Forget per-text caches, so that articles built from the same paragraphs are not served from them."""
    for module in _CACHED_MODULES:
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "data" / "gold_articles.jsonl"
MAX_CHARS = 5_000_000


def _articles_of(words: int, count: int, texts: list[str]) -> list[str]:
    """`count` articles of about `words` words, each starting with a different gold article."""
    built = []
    for start in range(count):
        parts: list[str] = []
        i = start
        while sum(len(p.split()) for p in parts) < words:
            parts.append(texts[i % len(texts)])
            i += 1
        built.append("\n\n".join(parts))
    return built


def _measure(engine: ExtractiveEngine, texts: list[str], rounds: int) -> dict[str, float]:
    timings = {"prepare": 0.0, "split": 0.0, "engine": 0.0, "grounding": 0.0}

    def timed(key: str, step: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = step()
        timings[key] += time.perf_counter() - started
        return result

    for text in texts:  # one untimed pass: builds the countries' transliteration indexes (one-off costs)
        engine.summarize_sync(prepare(ArticleIn(text=text), max_chars=MAX_CHARS))
    n = 0
    for _ in range(rounds):
        for text in texts:
            _cold()
            article = timed("prepare", lambda t=text: prepare(ArticleIn(text=t), max_chars=MAX_CHARS))
            timed("split", lambda a=article: a.sentences)  # type: ignore[attr-defined]
            summary = timed("engine", lambda a=article: engine.summarize_sync(a))  # type: ignore[arg-type]
            violations = timed("grounding", lambda a=article, s=summary: grounding.check(s, a))  # type: ignore[arg-type]
            assert violations == [], violations
            n += 1
    total = sum(timings.values())
    words = sum(len(t.split()) for t in texts) / len(texts)
    result = {"articles": n, "words_per_article": round(words), "articles_per_s": round(n / total, 1)}
    result.update({f"ms_{key}": round(1000 * value / n, 2) for key, value in timings.items()})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=Path, default=ROOT.parent / "shared" / "samples")
    args = parser.parse_args()
    gold = [
        json.loads(line)["text"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    samples = [p.read_text(encoding="utf-8") for p in sorted(args.samples.glob("*.txt"))]
    engine = ExtractiveEngine()
    started = time.perf_counter()
    engine.summarize_sync(prepare(ArticleIn(text=gold[0]), max_chars=MAX_CHARS))
    print(json.dumps({"gazetteer_load_s": round(time.perf_counter() - started, 2)}))
    suites = {
        "samples": samples,
        "typical_600_words": _articles_of(600, 10, gold),
        "long_10000_words": _articles_of(10_000, 1, gold),
    }
    for name, texts in suites.items():
        if texts:
            rounds = 1 if name.startswith("long") else args.rounds
            print(json.dumps({"suite": name, **_measure(engine, texts, rounds)}))


if __name__ == "__main__":
    main()
