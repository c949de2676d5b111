"""The corpus of model answers (`tests/data/model_answers/`): real articles, the exact request the service sends
for each, and the answers a capable language model wrote for that request alone.

Used by the tests (calibrated grounding rules, adversarial twins) and by `bench/bench_llm_answers.py`. How the
corpus was made and how to extend it: docs/llm.md, "The corpus of model answers".

    python -m tests.model_answers requests DIR   # writes DIR/<id>.json: the request body for each article
    python -m tests.model_answers repairs DIR    # the repair requests the service sends for rejected answers
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.article import Article, ArticleIn, prepare
from service.engines.llm import response_format, schema_dialect
from service.prompts import Prompts
from service.schema import schema_text, upstream_json_schema

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPUS = DATA / "model_answers"
SAMPLES = ROOT.parent / "shared" / "samples"
MODEL = "gpt-4o-mini"
MAX_TOKENS = 2048

# Records of the rule gold set that read as whole news reports with an ambiguity the prompt settles (several
# incidents, background tallies, a dateline): the others are one-line checks of a single reading rule.
_RULE_RECORDS = (
    "rule_date_line_is_the_publication_stamp",
    "rule_figures_of_another_day_are_not_this_incidents",
    "rule_period_tallies_are_background",
    "rule_an_earlier_incident_in_the_same_sentence",
    "rule_war_tallies_are_background",
    "rule_a_killing_three_days_earlier_is_another_incident",
    "rule_deaths_days_later_raise_this_incidents_toll",
    "rule_a_look_back_at_an_earlier_report_is_background",
)
_HTML_PAGES = {
    "broadcaster_air_strike": "2024-03-06",
    "chrome_inside_article": None,
    "regional_paper_roadside_bomb": None,
    "wordpress_checkpoint_clash": None,
}


@dataclass(frozen=True)
class Source:
    """One corpus article and where it comes from."""

    id: str
    origin: str
    article_in: ArticleIn

    def article(self) -> Article:
        return prepare(self.article_in, max_chars=1_000_000)


def sources() -> list[Source]:
    """Every article of the corpus, in a fixed order."""
    found = [
        Source(name, f"shared/samples/{name}.txt", ArticleIn(text=(SAMPLES / f"{name}.txt").read_text("utf-8")))
        for name in ("syria_checkpoint_shootout", "derik_vehicle_collision")
    ]
    for file in ("gold_articles.jsonl", "gold_heldout.jsonl", "gold_rules.jsonl"):
        for line in (DATA / file).read_text("utf-8").splitlines():
            record = json.loads(line)
            if file == "gold_rules.jsonl" and record["id"] not in _RULE_RECORDS:
                continue
            fields = {k: record[k] for k in ("text", "html", "title", "published_at") if record.get(k)}
            found.append(Source(record["id"], f"tests/data/{file}#{record['id']}", ArticleIn(**fields)))
    for name, published in _HTML_PAGES.items():
        html = (DATA / "html" / f"{name}.html").read_text("utf-8")
        found.append(
            Source(name, f"tests/data/html/{name}.html", ArticleIn(html=html, published_at=published))
        )
    return found


def request_body(article: Article, mode: str = "json_schema") -> dict[str, Any]:
    """The body of the first chat-completions request the service sends for `article` (defaults settings)."""
    schema = upstream_json_schema(schema_dialect(mode))  # type: ignore[arg-type]
    prompts = Prompts.load()
    user = prompts.render_user(article, schema_json=schema_text(schema) if mode == "json_object" else None)
    return {
        "model": MODEL,
        "messages": [{"role": "system", "content": prompts.system}, {"role": "user", "content": user}],
        "temperature": 0,
        "max_tokens": MAX_TOKENS,
        "response_format": response_format(mode, schema),  # type: ignore[arg-type]
    }


def digest(body: dict[str, Any]) -> str:
    """What identifies a request: its messages and response format, as JSON with sorted keys."""
    material = json.dumps([body["messages"], body["response_format"]], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Entry:
    """One corpus file: the article's id and the answers, first answer then repair answers in turn order."""

    id: str
    made_by: str
    prompt_version: str
    request: str
    answers: tuple[str, ...]
    repair_requests: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> Entry:
        data = json.loads(path.read_text("utf-8"))
        turns = data["turns"]
        return cls(
            id=data["id"],
            made_by=data["made_by"],
            prompt_version=data["prompt_version"],
            request=turns[0]["request"],
            answers=tuple(_content(t["answer"]) for t in turns),
            repair_requests=tuple(t["request"] for t in turns[1:]),
        )


def _content(answer: Any) -> str:
    """An answer as the model's message content: stored as a JSON object when it was one, else as text."""
    return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)


def entries() -> list[Entry]:
    return [Entry.load(path) for path in sorted(CORPUS.glob("*.json"))]


def _write_requests(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for source in sources():
        body = request_body(source.article())
        (directory / f"{source.id}.json").write_text(json.dumps(body, indent=1, ensure_ascii=False), "utf-8")
        print(source.id, digest(body))


if __name__ == "__main__":
    command, target = sys.argv[1], Path(sys.argv[2])
    if command == "requests":
        _write_requests(target)
    else:
        raise SystemExit(f"unknown command {command!r}")
