"""The corpus of model answers (`tests/data/model_answers/`): real articles, the exact request the service sends
for each, and the answers a capable language model wrote for that request alone.

Used by the tests (calibrated grounding rules, adversarial twins) and by `bench/bench_llm_answers.py`. How the
corpus was made and how to extend it: docs/llm.md, "The corpus of model answers".

    python -m tests.model_answers requests DIR   # writes DIR/<id>.json: the request body for each article
    python -m tests.model_answers repairs DIR    # the repair requests the service sends for rejected answers
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
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
# Copies of ../shared/samples (the corpus keeps saying where the text came from: `Source.origin`).
SAMPLES = DATA / "samples"
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
        Source(
            name, f"shared/samples/{name}.txt", ArticleIn(text=(SAMPLES / f"{name}.txt").read_text("utf-8"))
        )
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
class OtherIncident:
    """A sentence that reports another incident's casualties (labelled by hand, reading the article)."""

    sentence: str
    killed: tuple[int | None, int | None, int | None]


@dataclass(frozen=True)
class Entry:
    """One corpus file: the article's id and the answers, first answer then repair answers in turn order."""

    id: str
    made_by: str
    prompt_version: str
    request: str
    answers: tuple[str, ...]
    repair_requests: tuple[str, ...]
    other_incidents: tuple[OtherIncident, ...] = ()

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
            other_incidents=tuple(
                OtherIncident(o["sentence"], tuple(o["killed"])) for o in data.get("other_incidents", ())
            ),
        )


def _content(answer: Any) -> str:
    """An answer as the model's message content: stored as a JSON object when it was one, else as text."""
    return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)


def entries() -> list[Entry]:
    return [Entry.load(path) for path in sorted(CORPUS.glob("*.json"))]


# --- adversarial twins --------------------------------------------------------------------------------------
#
# Each twin is an accepted answer with one fabrication put in mechanically; the service must reject every one.
# The criteria that choose what to change are the generator's own (digits and words in the article text),
# never the validator's.

_INVENTED_ACTOR = "Liwa al-Fajr al-Jadid"
_INVENTED_PLACE = "Tell Zawiyat Karam"
_CASUALTY_WORDS = re.compile(r"kill|dead|die|death|wound|injur|casualt|martyr|shot|bod(y|ies)", re.IGNORECASE)
_ANY_FIGURE = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|several|both|a|an)\b",
    re.IGNORECASE,
)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


@dataclass(frozen=True)
class Twin:
    kind: str
    answer: str


def _absent_number(value: int, text: str) -> int:
    """A figure near `value` that the article does not write in digits (and above what words spell)."""
    candidate = max(value, 20) + 7
    while str(candidate) in text or f"{candidate:,}" in text:
        candidate += 1
    return candidate


def _absent_date(text: str) -> tuple[str, str]:
    """A day the article does not name: ("on March 3", "--03-03"), trying months in turn."""
    for i, month in enumerate(_MONTHS):
        if month not in text:
            return f"on {month} 3", f"--{i + 1:02d}-03"
    raise AssertionError("every month is named")


def twins(entry: Entry, article: Article) -> list[Twin]:
    """The adversarial twins of the entry's first answer (those that apply to it)."""
    answer = json.loads(entry.answers[0])
    text = article.text
    found: list[Twin] = []

    def twin(kind: str, change: Any) -> None:
        data = json.loads(json.dumps(answer))
        if change(data) is not False:
            found.append(Twin(kind, json.dumps(data, ensure_ascii=False)))

    def number_changed(data: dict[str, Any]) -> bool:
        for entry_ in data["casualties"]:
            for kind in ("killed", "injured"):
                figure = entry_[kind]
                if figure and any(v for v in figure.values() if v):
                    for part, value in figure.items():
                        if value is not None:
                            figure[part] = _absent_number(value, text)
                    return True
        return False

    def invented_actor(data: dict[str, Any]) -> None:
        cites = data["summary"][0]["citations"]
        if data["actors"]:
            data["actors"][0]["name"] = _INVENTED_ACTOR
        else:
            data["actors"].append({"name": _INVENTED_ACTOR, "kind": "rebel_group", "role": "initiator",
                                   "affiliation": None, "citations": cites})  # fmt: skip

    def invented_place(data: dict[str, Any]) -> None:
        cites = data["summary"][0]["citations"]
        if data["locations"]:
            data["locations"][0]["name"] = _INVENTED_PLACE
        else:
            data["locations"].append({"name": _INVENTED_PLACE, "admin1": None, "country": None,
                                      "role": "incident_site", "citations": cites})  # fmt: skip

    def wrong_date(data: dict[str, Any]) -> None:
        phrase, iso = _absent_date(text)
        cites = data["date"]["citations"] if data["date"] else data["summary"][0]["citations"]
        data["date"] = {"start": iso, "end": iso, "precision": "day", "text": phrase, "citations": cites}

    def moved_citation(data: dict[str, Any]) -> bool:
        """The first casualty figure cited to a sentence that states no figure and no casualty."""
        quiet = [s.id for s in article.sentences if not _ANY_FIGURE.search(s.text)
                 and not _CASUALTY_WORDS.search(s.text)]  # fmt: skip
        figures = [
            e for e in data["casualties"] if any(e[k] and e[k].get("best") for k in ("killed", "injured"))
        ]
        if figures and quiet:
            figures[0]["citations"] = [quiet[0]]
            return True
        for loc in data["locations"]:
            words = re.findall(r"\w{4,}", loc["name"])
            elsewhere = [
                s.id for s in article.sentences if not any(w.lower() in s.text.lower() for w in words)
            ]
            if words and elsewhere:
                loc["citations"] = [elsewhere[0]]
                return True
        return False

    twin("number_changed", number_changed)
    twin("invented_actor", invented_actor)
    twin("invented_place", invented_place)
    twin("wrong_date", wrong_date)
    twin("moved_citation", moved_citation)
    for other in entry.other_incidents:

        def other_incident(data: dict[str, Any], other: OtherIncident = other) -> None:
            low, best, high = other.killed
            data["casualties"].append({"group": "people", "killed": {"low": low, "best": best, "high": high},
                                       "injured": None, "reported_by": None,
                                       "citations": [other.sentence]})  # fmt: skip

        twin("other_incident_casualty", other_incident)
    return found


def _write_requests(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for source in sources():
        body = request_body(source.article())
        (directory / f"{source.id}.json").write_text(json.dumps(body, indent=1, ensure_ascii=False), "utf-8")
        print(source.id, digest(body))


async def _write_repairs(directory: Path) -> None:
    """For every entry whose stored answers the service still rejects: the next request it sends (the repair
    turn), to be answered and stored as the entry's next turn."""
    from service.config import Settings
    from service.engines.llm import LLMEngine
    from service.errors import OutputError
    from tests.fakes.openai_server import Answer, Fail, FaultServer

    by_id = {s.id: s for s in sources()}
    for entry in entries():
        async with FaultServer() as server:
            settings = Settings(engine="llm", openai_base_url=server.base_url, max_repairs=len(entry.answers))
            engine = LLMEngine(settings, Prompts.load())
            server.script(*(Answer(a) for a in entry.answers), Fail(400))
            try:
                await engine.summarize(by_id[entry.id].article())
            except OutputError:
                pass  # the last stored answer was rejected too
            except Exception:
                body = server.requests[-1].body  # the repair request nobody has answered yet
                path = directory / f"{entry.id}.json"
                path.write_text(json.dumps(body, indent=1, ensure_ascii=False))
                print(entry.id, "needs a repair answer")
            finally:
                await engine.aclose()


if __name__ == "__main__":
    command, target = sys.argv[1], Path(sys.argv[2])
    if command == "requests":
        _write_requests(target)
    elif command == "repairs":
        target.mkdir(parents=True, exist_ok=True)
        asyncio.run(_write_repairs(target))
    else:
        raise SystemExit(f"unknown command {command!r}")
