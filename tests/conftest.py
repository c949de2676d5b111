"""What the tests share: an isolated environment for every test, the sample articles (tests/data/samples/),
summaries and a fake engine, a clock the test moves, problem+json assertions, an app client, and Redis.

Test modules import helpers from here (or from tests/fakes/), never from one another."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from vcr import VCR

from service.article import Article, ArticleIn, prepare
from service.config import Settings
from service.engines.base import Engine, EngineResult, Judge
from service.engines.extractive import ExtractiveEngine
from service.engines.extractive.gazetteer import Gazetteer
from service.engines.extractive.places import find_locations
from service.engines.extractive.sentences import citable, find_dateline
from service.errors import SummarizerError, Usage
from service.main import create_app
from service.result import Meta, SentenceOut, SummaryResult, UsageOut
from service.schema import (
    SCHEMA_VERSION,
    Actor,
    Casualties,
    Claim,
    DateInfo,
    Dispute,
    IncidentSummary,
    Location,
    Position,
    Range,
    Statement,
)
from tests.fakes import cassettes
from tests.fakes.openai_server import FaultServer

DATA = Path(__file__).resolve().parent / "data"
# Copies of the seed samples (../shared/samples/): the two articles and their gold records.
SAMPLES = DATA / "samples"
_ENV_PREFIXES = (
    "SUMMARIZER_",
    "OPENAI_",
    "CACHE_",
    "API_KEYS",
    "SLACK_",
    "RATE_LIMIT",
    "MAX_",
    "LOG_LEVEL",
    "WEB_CONCURRENCY",
    "PROMPTS_DIR",
    "PUBLIC_BASE_URL",
    "VIEW_LINK_",
    "RESULT_SCOPE",
    "URL_",
)

# asgi-lifespan's default (5 s) is less than loading the extractive engine's data takes on a loaded 2-core
# machine; the start-up itself is what the tests wait for, not what they measure.
STARTUP_TIMEOUT_S = 60


def pytest_recording_configure(config: pytest.Config, vcr: VCR) -> None:
    """Cassette replay matches the JSON request body, and a recording gets its label (tests/fakes/cassettes.py)."""
    cassettes.configure(vcr)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's keys, endpoints or cache; each runs in its own directory (no `.env`)."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield


# --- the sample articles ---------------------------------------------------------------------------------


def sample_text(name: str) -> str:
    """The text of a sample article: `syria_checkpoint_shootout` or `derik_vehicle_collision`."""
    return (SAMPLES / f"{name}.txt").read_text(encoding="utf-8")


def load_article(name: str) -> Article:
    """A sample article, prepared as the service prepares it."""
    return prepare(ArticleIn(text=sample_text(name)), max_chars=200_000)


def gold_records() -> list[dict[str, Any]]:
    """The samples' gold records (tests/data/samples/expected.jsonl)."""
    text = (SAMPLES / "expected.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# The characters re.IGNORECASE equates with ASCII letters: where `str.lower` and a naive fold go wrong.
_ODD_LETTERS = {"s": "\u017f", "k": "\u212a", "i": "\u0131", "I": "\u0130", "S": "\u017f"}


def oddified(text: str, rate: float, rng: random.Random) -> str:
    """`text` with some letters swapped for their odd case-fold twins and some swapped in case."""
    out = []
    for ch in text:
        r = rng.random()
        out.append(_ODD_LETTERS.get(ch, ch) if r < rate else ch.swapcase() if r < 2 * rate else ch)
    return "".join(out)


@cache
def gold_sentences_and_variants() -> tuple[str, ...]:
    """The gold articles' sentences, and variants of them in other cases and with odd letters: the texts a fast
    path is checked on against the slow way it replaces."""
    texts = []
    for name in ("gold_articles.jsonl", "gold_heldout.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                article = prepare(ArticleIn(text=json.loads(line)["text"]), max_chars=1_000_000)
                texts += [s.text for s in article.sentences]
    rng = random.Random(7)
    variants = [t.upper() for t in texts[::3]] + [oddified(t, 0.05, rng) for t in texts[1::3]]
    made_up = [
        "An air raid hit the town; KILLED, wounded: killings and a gun battle near al-Bab, \u0131dlib.",
        "\u017feveral soldiers were \u212a\u0131lled on 5 \u0130anuary; the TOLL rose to \u017fix on Monday, August 25.",
        "They fled to the city of Aleppo – 20 km north of Homs – after the AIRSTRIKES on Idlib Province.",
    ]
    return (*texts, *variants, *made_up)


def match_spans(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], ...]]:
    """Every match with the spans of all its groups: equal spans mean equal matches on the same text."""
    return [tuple(m.span(g) for g in range(pattern.groups + 1)) for m in pattern.finditer(text)]


# --- summaries and engines ------------------------------------------------------------------------------


def summary_data(**overrides: Any) -> dict[str, Any]:
    """A minimal summary as the JSON a model would send (one statement citing S1), `overrides` replacing
    whole fields."""
    data: dict[str, Any] = {
        "headline": "Incident report",
        "summary": [{"text": "An incident was reported.", "citations": ["S1"]}],
        "event_type": "other",
        "sub_event_type": None,
        "date": None,
        "locations": [],
        "actors": [],
        "casualties": [],
        "claims": [],
        "disputes": [],
    }
    return data | overrides


def llm_settings(**overrides: Any) -> Settings:
    """Settings for the LLM engine with an upstream nothing listens on (port 9), a memory cache and no rate limit:
    for tests whose engine is faked or whose upstream is expected to fail."""
    values: dict[str, Any] = {
        "engine": "llm",
        "openai_base_url": "http://127.0.0.1:9/v1",
        "cache_url": "memory://",
        "rate_limit_per_minute": 0,
    }
    return Settings(**(values | overrides))


def minimal_summary(article: Article) -> IncidentSummary:
    """A grounded summary of any article: its first sentence, cited."""
    first = article.sentences[0]
    return IncidentSummary(
        headline=first.text[:120],
        summary=[Statement(text=first.text, citations=[first.id])],
        event_type="other",
        sub_event_type=None,
        date=None,
        locations=[],
        actors=[],
        casualties=[],
        claims=[],
        disputes=[],
    )


class FakeEngine:
    """An engine that answers from the article alone, counts its calls (and the deadline each was given), and
    can wait or fail on demand."""

    name = "fake"
    model = "fake-1"

    def __init__(
        self,
        *,
        delay_s: float = 0.0,
        error: SummarizerError | None = None,
        build: Callable[[Article], IncidentSummary] = minimal_summary,
    ) -> None:
        self.calls = 0
        self.deadlines: list[float | None] = []  # the `deadline_s` of each call
        self.delay_s = delay_s
        self.error = error
        self.build = build
        self.ready_error: Exception | None = None

    async def summarize(
        self, article: Article, *, deadline_s: float | None = None, judge: Judge | None = None
    ) -> EngineResult:
        self.calls += 1
        self.deadlines.append(deadline_s)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return EngineResult(self.build(article), attempts=1, usage=Usage(10, 5))

    async def check_ready(self) -> None:
        if self.ready_error is not None:
            raise self.ready_error

    async def aclose(self) -> None:
        return None


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


# --- a summary as the summarizer returns it (the Slack and rendering tests) ---------------------------

CHECKPOINT_HEADLINE = "US-led coalition patrol and pro-government militia exchange fire near Kamyshly"


def checkpoint_summary() -> IncidentSummary:
    """What a good model writes for the `syria_checkpoint_shootout` sample (citations are its sentence ids)."""
    return IncidentSummary(
        headline=CHECKPOINT_HEADLINE,
        summary=[
            Statement(
                text="A US-led coalition patrol exchanged fire with National Defense Forces at their checkpoint "
                "near Kamyshly.",
                citations=["S2", "S3", "S5"],
            ),
            Statement(
                text="The coalition says its patrol came under fire and returned it in self-defense.",
                citations=["S6", "S7"],
            ),
            Statement(
                text="SANA reports one civilian killed and another wounded; US aircraft struck afterwards.",
                citations=["S13", "S12", "S13"],
            ),
        ],
        event_type="battles",
        sub_event_type="armed_clash",
        date=DateInfo(
            start="--02-12", end="--02-12", precision="day", text="today February 12th", citations=["S2"]
        ),
        locations=[
            Location(name="Khirbat-Amo", admin1=None, country="Syria", role="nearby", citations=["S3"]),
            Location(
                name="Kamyshly", admin1="Al-Hasakah", country="Syria", role="incident_site", citations=["S2"]
            ),
        ],
        actors=[
            Actor(
                name="US-led coalition",
                kind="external_forces",
                role="target",
                affiliation=None,
                citations=["S5"],
            ),
            Actor(
                name="National Defense Forces",
                kind="political_militia",
                role="initiator",
                affiliation="Syrian government",
                citations=["S3"],
            ),
            Actor(
                name="Russian military police",
                kind="external_forces",
                role="mediator",
                affiliation=None,
                citations=["S9"],
            ),
        ],
        casualties=[
            Casualties(
                group="civilians",
                killed=Range(low=1, best=1, high=1),
                injured=Range(low=1, best=1, high=1),
                reported_by="SANA",
                citations=["S13"],
            ),
            Casualties(
                group="Syrian army",
                killed=None,
                injured=Range(low=1, best=None, high=None),
                reported_by="eyewitnesses",
                citations=["S10"],
            ),
        ],
        claims=[Claim(source="SANA", statement="US forces opened fire first.", citations=["S13"])],
        disputes=[
            Dispute(
                topic="Who opened fire first",
                positions=[
                    Position(
                        source="US-led coalition", position="The patrol came under fire.", citations=["S6"]
                    ),
                    Position(source="SANA", position="US forces opened fire.", citations=["S13"]),
                ],
            )
        ],
    )


def result_of(
    summary: IncidentSummary, sentences: list[SentenceOut], *, degraded: bool = False
) -> SummaryResult:
    meta = Meta(
        engine="llm",
        model="gpt-4o-mini",
        prompt_version="p-1a2b3c",
        schema_version=SCHEMA_VERSION,
        cached=False,
        attempts=1,
        usage=UsageOut(prompt_tokens=900, completion_tokens=350),
        latency_ms=1234.5,
        warnings=["fallback: the LLM failed"] if degraded else [],
        degraded=degraded,
    )
    return SummaryResult(id="sum_0123456789abcdef", summary=summary, sentences=sentences, meta=meta)


def sentences_of(article: Article) -> list[SentenceOut]:
    return [SentenceOut(id=s.id, text=s.text, start=s.start, end=s.end) for s in article.sentences]


def checkpoint_result(article: Article | None = None) -> SummaryResult:
    """The checkpoint summary of `article` (by default the sample itself), as the summarizer returns it."""
    article = article or load_article("syria_checkpoint_shootout")
    return result_of(checkpoint_summary(), sentences_of(article))


# --- clocks ---------------------------------------------------------------------------------------------


async def no_sleep(seconds: float) -> None:
    """A `sleep` for the engine and upstream: retry waits take no time."""
    return None


class FakeClock:
    """A monotonic clock the test moves: `clock()` reads it, `advance(s)` moves it, and `await clock.sleep(s)`
    records the wait in `sleeps` and moves the clock by it at once. Pass it as the `clock` (and `sleep`) the
    engine, upstream, breaker and caches take."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# --- problem details and the upstream schema --------------------------------------------------------------

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE = "urn:incident-summarizer:problem:"


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """`response` is an RFC 9457 problem of this status and type slug; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_TYPE + slug
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# Keywords OpenAI Structured Outputs (strict) rejects.
_STRICT_FORBIDDEN = {
    "default",
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "oneOf",
    "patternProperties",
    "dependentRequired",
}


def strict_mode_problems(schema: dict[str, Any]) -> list[str]:
    """What OpenAI Structured Outputs (strict) would reject, checked by walking the whole schema."""
    problems: list[str] = []
    defs = schema.get("$defs", {})

    def depth_of(node: Any, seen: tuple[str, ...] = ()) -> int:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                name = ref.rsplit("/", 1)[-1]
                return 0 if name in seen else depth_of(defs[name], (*seen, name))
            own = 1 if node.get("type") == "object" else 0
            children = [depth_of(v, seen) for k, v in node.items() if k != "$defs"]
            return own + max(children, default=0)
        if isinstance(node, list):
            return max((depth_of(v, seen) for v in node), default=0)
        return 0

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key in _STRICT_FORBIDDEN & set(node):
                if not (path.endswith(".properties") or path.endswith("$defs")):
                    problems.append(f"{path}: forbidden keyword {key}")
            if node.get("type") == "object" or "properties" in node:
                props = node.get("properties", {})
                if node.get("additionalProperties") is not False:
                    problems.append(f"{path}: additionalProperties must be false")
                if sorted(node.get("required", [])) != sorted(props):
                    problems.append(f"{path}: every property must be required")
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(schema, "$")
    if schema.get("type") != "object":
        problems.append("$: the root must be an object")
    if depth_of(schema) > 10:
        problems.append(f"nesting depth {depth_of(schema)} > 10")
    return problems


# --- the app --------------------------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[FaultServer]:
    """A fault-injecting OpenAI-compatible server on loopback (tests/fakes/openai_server.py), closed after."""
    async with FaultServer() as fault_server:
        yield fault_server


@pytest.fixture(scope="session")
def extractive_engine() -> ExtractiveEngine:
    """The extractive engine with its gazetteer loaded, once for the session (seconds): the data is kept for
    the process, so every app built with `engine="extractive"` after this starts in milliseconds."""
    engine = ExtractiveEngine()
    asyncio.run(engine.check_ready())
    return engine


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    return Gazetteer()


def locations_in(gazetteer: Gazetteer, text: str) -> list[Location]:
    """The extractive engine's places of a made-up article (its citable sentences, dateline and all)."""
    sentences = citable(prepare(ArticleIn(text=text), max_chars=100_000))
    return find_locations(sentences, gazetteer, find_dateline(sentences), gazetteer.not_places)


def build_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """`create_app(settings)`, with `engine` (when given) instead of the one the settings choose."""
    return create_app(settings, engine=engine)


AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_client() -> AppClient:
    """`async with app_client(settings, engine=None) as client:` — the real app, lifespan run, over ASGI.

    `engine` replaces the engine the settings choose (e.g. a FakeEngine; see `build_app`); the app is
    reachable as `client.app`. `raise_app_exceptions=False` shows what a real server would send after an
    unhandled exception.
    """

    @asynccontextmanager
    async def open_client(
        settings: Settings | None = None, engine: Engine | None = None, *, raise_app_exceptions: bool = True
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = build_app(settings or Settings(engine="extractive", cache_url="memory://"), engine)
        async with LifespanManager(app, startup_timeout=STARTUP_TIMEOUT_S) as manager:
            transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=raise_app_exceptions)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return open_client


@pytest.fixture
async def extractive_client(
    app_client: AppClient, extractive_engine: ExtractiveEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the extractive engine (its data loaded once for the session) and the memory cache."""
    async with app_client(Settings(engine="extractive", cache_url="memory://")) as client:
        yield client


# --- Redis: 127.0.0.1:6379 when it answers, else a throwaway redis-server; neither is a failure, not a skip ---


def redis_answers(port: int, host: str = "127.0.0.1") -> bool:
    """True when a Redis server answers PING on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    """A `redis-server` this test session started: its port, and a way to stop it early."""

    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.process = process

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def throwaway_redis_server() -> Iterator[RedisProcess]:
    """A `redis-server` on a free loopback port that keeps nothing on disk."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("no Redis at 127.0.0.1:6379 and no redis-server to start (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    args = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = RedisProcess(port, subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        for _ in range(100):
            if redis_answers(port):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"redis-server did not answer on port {port} within 5 s")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a real Redis for this test session."""
    if redis_answers(6379):
        yield "redis://127.0.0.1:6379/0"
        return
    with throwaway_redis_server() as server:
        yield f"redis://127.0.0.1:{server.port}/0"


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """`CACHE_URL` for one test: a real Redis with a key prefix of its own, whose keys are deleted after."""
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    yield f"{redis_server}?prefix={prefix}"
    client = redis.Redis.from_url(redis_server)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
