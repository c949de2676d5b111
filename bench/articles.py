"""Articles for the benchmarks, built from the two sample articles so they read like news: sentences shuffled
into paragraphs, numbers varied, so that no two paragraphs (and no two generated articles) are the same."""

from __future__ import annotations

import random
import re

from harness import sample

from service.article import ArticleIn, prepare

_NUMBER = re.compile(r"\b\d+\b")


def _sentences() -> list[str]:
    sentences: list[str] = []
    for name in ("syria_checkpoint_shootout", "derik_vehicle_collision"):
        article = prepare(ArticleIn(text=sample(name)), max_chars=1_000_000)
        sentences += [s.text for s in article.sentences if len(s.text.split()) >= 6]
    return sentences


def long_article(words: int = 10_000, seed: int = 7) -> str:
    """About `words` words of news prose in paragraphs of three to six sentences, no paragraph repeated."""
    rng = random.Random(seed)
    pool = _sentences()
    paragraphs: list[str] = []
    count = 0
    while count < words:
        picked = [
            _NUMBER.sub(lambda m: str(rng.randint(2, 400)), rng.choice(pool))
            for _ in range(rng.randint(3, 6))
        ]
        paragraph = " ".join(picked)
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    return "\n\n".join(paragraphs)


def distinct_articles(n: int, seed: int = 11) -> list[str]:
    """`n` short articles (the size of the samples), each different from the others."""
    rng = random.Random(seed)
    pool = _sentences()
    articles = []
    for i in range(n):
        chosen = rng.sample(pool, k=min(12, len(pool)))
        articles.append(f"Report {i}: " + "\n\n".join(chosen))
    return articles
