"""Replays the corpus of model answers (`tests/data/model_answers/`) through the HTTP path and prints how the
service takes what real models write: first-try acceptance, upstream calls and tokens per accepted summary,
and the share of adversarial twins rejected. The answers were written by a language model acting as the
upstream, given only the request the service sends (docs/llm.md, "The corpus of model answers").

    .venv/bin/python bench/bench_llm_answers.py
    .venv/bin/python bench/bench_llm_answers.py --answers DIR --articles FILE.jsonl   # answers kept elsewhere

Tokens: counted with the o200k tokenizer when `bpe-openai` is installed (`pip install bpe-openai`), else
estimated at 4 characters a token (said in the output). Targets (issue 11): first-try acceptance >= 90 %,
every answer accepted within one repair, 100 % of twins rejected, instructions + schema <= 1,600 tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from asgi_lifespan import LifespanManager

from service.article import ArticleIn, prepare
from service.config import Settings
from service.main import create_app
from service.prompts import Prompts
from service.schema import schema_text, upstream_json_schema
from tests.fakes.openai_server import Answer, Behaviour, FaultServer
from tests.model_answers import Entry, entries, sources, twins

# The prompt and schema before issue 11 (o200k tokens, measured on commit 4cb18d1): system 806 + schema 1,954.
BEFORE_INSTRUCTIONS_TOKENS = 806 + 1954


def tokenizer() -> tuple[Callable[[str], int], str]:
    try:
        import bpe_openai  # type: ignore[import-not-found]
    except ImportError:
        return (lambda text: max(1, len(text) // 4)), "estimated at 4 characters a token"
    encoding = bpe_openai.get_encoding("o200k_base")
    return (lambda text: len(encoding.encode(text))), "o200k_base (bpe-openai)"


class Replay:
    """Plays one entry's answers in turn (first answer, then repair answers), with token usage counted on the
    request and the answer as the upstream would."""

    def __init__(self, count: Callable[[str], int]) -> None:
        self.count = count
        self.answers: list[str] = []

    def __call__(self, body: dict[str, Any]) -> Behaviour:
        prompt = sum(self.count(m["content"]) + 4 for m in body["messages"])
        if "json_schema" in body["response_format"]:
            prompt += self.count(json.dumps(body["response_format"]["json_schema"]["schema"]))
        answer = self.answers.pop(0) if self.answers else "{}"
        return Answer(answer, usage=(prompt, self.count(answer)))


def external_entries(answers: Path, articles: Path) -> list[tuple[Entry, ArticleIn]]:
    """Answers kept outside the repository (`<prefix>_<id>.json`, the answer object) for articles of a JSONL
    file in the gold format: for measuring on data that may not enter the repository."""
    records = {}
    for line in articles.read_text("utf-8").splitlines():
        record = json.loads(line)
        records[str(record["id"])] = record
    found = []
    for path in sorted(answers.glob("*.json")):
        record = records[path.stem.split("_", 1)[1]]
        repairs = sorted(path.parent.glob(f"repairs/{path.stem}*.json"))
        entry = Entry(
            path.stem, "external", "", "", (path.read_text("utf-8"), *(r.read_text() for r in repairs)), ()
        )
        found.append((entry, ArticleIn(text=record["text"], published_at=record.get("published_at"))))
    return found


async def replay(items: list[tuple[Entry, ArticleIn]], count: Callable[[str], int]) -> dict[str, Any]:
    player = Replay(count)
    results: Counter[str] = Counter()
    calls = prompt_tokens = completion_tokens = 0
    rejected_twins: Counter[str] = Counter()
    all_twins: Counter[str] = Counter()
    async with FaultServer(default=player) as server:
        for max_repairs, phase in ((1, "answers"), (0, "twins")):
            settings = Settings(engine="llm", openai_base_url=server.base_url, cache_url="memory://",
                                rate_limit_per_minute=0, rate_limit_refresh_per_minute=0, max_retries=0,
                                max_repairs=max_repairs)  # fmt: skip
            app = create_app(settings)
            async with LifespanManager(app) as manager:
                transport = httpx.ASGITransport(app=manager.app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://bench", timeout=60
                ) as client:
                    for entry, article_in in items:
                        body = article_in.model_dump(mode="json", exclude_none=True)
                        if phase == "answers":
                            player.answers = list(entry.answers)
                            response = await client.post("/v1/summaries", json=body)
                            if response.status_code != 200:
                                results["failed"] += 1
                                print(f"  not accepted: {entry.id}: {response.json().get('violations', '')}")
                                continue
                            meta = response.json()["meta"]
                            results["first_try" if meta["attempts"] == 1 else "after_repair"] += 1
                            calls += meta["attempts"]
                            prompt_tokens += meta["usage"]["prompt_tokens"]
                            completion_tokens += meta["usage"]["completion_tokens"]
                            results["derived"] += len(meta["derived"])
                            continue
                        article = prepare(article_in, max_chars=1_000_000)
                        for twin in twins(entry, article):
                            player.answers = [twin.answer]
                            response = await client.post(
                                "/v1/summaries", json=body, headers={"cache-control": "no-cache"}
                            )
                            all_twins[twin.kind] += 1
                            if response.status_code == 502:
                                rejected_twins[twin.kind] += 1
                            else:
                                print(f"  twin let through: {entry.id} {twin.kind}")
    accepted = results["first_try"] + results["after_repair"]
    return {
        "answers": len(items),
        "first_try": results["first_try"],
        "after_one_repair": results["after_repair"],
        "not_accepted": results["failed"],
        "calls_per_accepted": calls / accepted if accepted else float("nan"),
        "prompt_tokens_per_accepted": prompt_tokens / accepted if accepted else float("nan"),
        "completion_tokens_per_accepted": completion_tokens / accepted if accepted else float("nan"),
        "derived_fields": results["derived"],
        "twins": dict(all_twins),
        "twins_rejected": dict(rejected_twins),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=Path, help="a directory of answers kept outside the repository")
    parser.add_argument("--articles", type=Path, help="the JSONL file of those answers' articles")
    args = parser.parse_args()
    count, how = tokenizer()
    prompts = Prompts.load()
    for dialect in ("openai_strict", "full"):
        instructions = count(prompts.system) + count(schema_text(upstream_json_schema(dialect)))
        print(f"instructions + schema ({dialect}): {instructions} tokens "
              f"(before: {BEFORE_INSTRUCTIONS_TOKENS}); {'PASS' if instructions <= 1600 else 'MISS'} <= 1600")  # fmt: skip
    if args.answers:
        items = external_entries(args.answers, args.articles)
    else:
        by_id = {s.id: s for s in sources()}
        items = [(entry, by_id[entry.id].article_in) for entry in entries()]
    figures = asyncio.run(replay(items, count))
    n = figures["answers"]
    first = figures["first_try"] / n
    within_one = (figures["first_try"] + figures["after_one_repair"]) / n
    twins_total = sum(figures["twins"].values())
    caught = sum(figures["twins_rejected"].values()) / twins_total if twins_total else float("nan")
    print(f"tokens: {how}")
    print(f"answers: {n}; accepted first try {figures['first_try']} ({first:.0%}), after one repair "
          f"{figures['after_one_repair']}, not accepted {figures['not_accepted']}")  # fmt: skip
    print(f"upstream calls per accepted summary: {figures['calls_per_accepted']:.2f}")
    print(f"tokens per accepted summary: {figures['prompt_tokens_per_accepted']:.0f} in, "
          f"{figures['completion_tokens_per_accepted']:.0f} out")  # fmt: skip
    print(f"fields derived by the service (meta.derived): {figures['derived_fields']}")
    print(
        f"adversarial twins rejected: {sum(figures['twins_rejected'].values())}/{twins_total} ({caught:.0%})"
    )
    for kind, total in sorted(figures["twins"].items()):
        print(f"  {kind}: {figures['twins_rejected'].get(kind, 0)}/{total}")
    targets = [("first-try acceptance >= 90%", first >= 0.9), ("accepted within one repair", within_one == 1.0),
               ("twins rejected 100%", caught == 1.0)]  # fmt: skip
    for name, ok in targets:
        print(f"{'PASS' if ok else 'MISS'} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
