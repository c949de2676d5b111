"""Grounding's shortcuts give the answers of the slow ways they replace."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

from service import grounding
from service.article import ArticleIn, prepare

DATA = Path(__file__).resolve().parent / "data"
_AWKWARD = [
    "U.S.-led forces", "…killed 5.", "6 others", "İSLAMİC", "Straße", "ﬁre", "e\u0301te\u0301", "\u0301start",
    "a.m.", "—", "", "¿Qué?", "1.5 km", "Al-Ḥasakah",
]  # fmt: skip


def _articles() -> list:
    texts = []
    for name in ("gold_articles.jsonl", "gold_heldout.jsonl", "gold_rules.jsonl"):
        texts += [json.loads(line)["text"] for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    rng = random.Random(11)
    texts += [". ".join(rng.choice(_AWKWARD) + " word" for _ in range(8)) for _ in range(40)]
    return [prepare(ArticleIn(text=text), max_chars=1_000_000) for text in texts]


def test_the_fold_of_cited_sentences_is_the_fold_of_their_joined_text() -> None:
    rng = random.Random(5)
    for article in _articles():
        ids = [s.id for s in article.sentences]
        for _ in range(20):
            chosen = rng.sample(ids, rng.randint(1, min(4, len(ids)))) + rng.sample(["S0", "S999"], 1)
            expected = grounding._fold(grounding._cited_text(article, chosen))
            assert grounding._folded_sentences(article, chosen) == expected, chosen


def _slow_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace(".", "").replace("’", "'"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def test_the_ascii_fold_is_the_full_fold() -> None:
    rng = random.Random(1)
    chars = "abcXYZ .,-'’_0123456789\tÉéİıſßﬁ\u0301"
    texts = ["".join(rng.choice(chars) for _ in range(rng.randint(0, 20))) for _ in range(5000)]
    texts += ["U.S.-led Coalition", "Al-Ḥasakah", "A.M.", "  "]
    for text in texts:
        assert grounding._fold.__wrapped__(text) == _slow_fold(text), repr(text)
