"""The corpus of model answers (tests/model_answers.py, tests/data/model_answers/) judged by the real `llm` engine.

- Every entry was answered for the request the service sends today (prompt and schema): a change to either makes
  the corpus stale until it is re-answered (docs/llm.md).
- The answers are accepted: at least 90 % on the first try, and every entry within its stored answers (the
  first answer, then the repair answers in turn).
- Every adversarial twin (an accepted answer with one fabrication put in) is rejected, for its fabrication.
- Every corpus file says how it was made.

The engine runs against the fault server on loopback, which plays the stored answers.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

import pytest

from service.article import Article
from service.config import Settings
from service.engines.base import EngineResult
from service.engines.llm import LLMEngine
from service.errors import OutputError
from service.prompts import Prompts
from tests.conftest import no_sleep
from tests.fakes.openai_server import Answer, FaultServer
from tests.model_answers import Entry, Source, digest, entries, request_body, sources, twins

ENTRIES = entries()
FIRST_TRY_RATE = 0.90
# The kinds `twins()` makes, and the rule that must catch each (a twin rejected for another reason proves
# nothing about the fabrication put in it).
TWIN_RULES = {
    "number_changed": {"number_not_in_citations"},
    "invented_actor": {"name_not_in_citations"},
    "invented_place": {"name_not_in_citations"},
    "wrong_date": {"date_text_not_in_citations", "date_not_as_stated"},
    "moved_citation": {"number_not_in_citations", "name_not_in_citations"},
    "other_incident_casualty": {"casualties_of_another_incident"},
}
STALE = (
    "{id}: the corpus answers a request of another prompt or schema (stored digest {stored}, the service now "
    'sends {now}). Re-answer the corpus for the current request as docs/llm.md says ("The corpus of model '
    'answers"), then update the digests; until then these answers say nothing about the current prompt.'
)


@cache
def _sources() -> dict[str, Source]:
    return {source.id: source for source in sources()}


@cache
def article_of(entry_id: str) -> Article:
    return _sources()[entry_id].article()


def by_id(entry: Entry) -> str:
    return entry.id


@asynccontextmanager
async def engine_on(server: FaultServer, *, max_repairs: int = 0) -> AsyncIterator[LLMEngine]:
    """The real engine pointed at the fault server (one per test: building one costs tens of milliseconds)."""
    settings = Settings(
        engine="llm", openai_base_url=server.base_url, cache_url="memory://", max_repairs=max_repairs
    )
    engine = LLMEngine(settings, Prompts.load(), sleep=no_sleep)
    try:
        yield engine
    finally:
        await engine.aclose()


async def play(engine: LLMEngine, server: FaultServer, article: Article, *answers: str) -> EngineResult:
    """The engine's verdict on `article`, the server playing `answers` in turn."""
    server.script(*(Answer(answer) for answer in answers))
    return await engine.summarize(article)


# --- (a) the corpus answers today's request ----------------------------------------------------------------------


def test_the_corpus_covers_every_source_once() -> None:
    ids = [entry.id for entry in ENTRIES]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(_sources()), "every corpus article has one answers file, and every file an article"


@pytest.mark.parametrize("entry", ENTRIES, ids=by_id)
def test_the_stored_request_is_the_one_the_service_sends_now(entry: Entry) -> None:
    now = digest(request_body(article_of(entry.id)))
    assert entry.request == now, STALE.format(id=entry.id, stored=entry.request, now=now)


# --- (b) the answers are accepted ------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=by_id)
async def test_every_entry_is_accepted_within_its_stored_answers(server: FaultServer, entry: Entry) -> None:
    article = article_of(entry.id)
    try:
        async with engine_on(server, max_repairs=len(entry.answers) - 1) as engine:
            result = await play(engine, server, article, *entry.answers)
    except OutputError as e:
        rules = sorted({f"{v.path}: {v.rule}" for v in e.violations})
        pytest.fail(f"{entry.id}: rejected after all {len(entry.answers)} stored answer(s): {rules}")
    # the engine sent the request the corpus was answered for, then the repair requests it was answered for
    assert digest(server.bodies[0]) == digest(request_body(article)), (
        "request_body() is not what the engine sends"
    )
    for turn, stored in enumerate(entry.repair_requests[: result.attempts - 1], start=1):
        assert digest(server.bodies[turn]) == stored, STALE.format(
            id=f"{entry.id} (repair turn {turn})", stored=stored, now=digest(server.bodies[turn])
        )
    assert result.attempts == server.calls <= len(entry.answers)


async def test_at_least_90_percent_of_first_answers_are_accepted(server: FaultServer) -> None:
    rejected: dict[str, list[str]] = {}
    async with engine_on(server) as engine:
        for entry in ENTRIES:
            try:
                await play(engine, server, article_of(entry.id), entry.answers[0])
            except OutputError as e:
                rejected[entry.id] = sorted({v.rule for v in e.violations})
    rate = 1 - len(rejected) / len(ENTRIES)
    assert rate >= FIRST_TRY_RATE, (
        f"first-try acceptance {rate:.0%} < {FIRST_TRY_RATE:.0%}; rejected: {rejected}"
    )


# --- (c) adversarial twins are rejected --------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=by_id)
async def test_every_twin_is_rejected_for_its_fabrication(server: FaultServer, entry: Entry) -> None:
    article = article_of(entry.id)
    made = twins(entry, article)
    assert made, f"{entry.id}: no twin applies"
    async with engine_on(server) as engine:
        for twin in made:
            with pytest.raises(OutputError) as caught:
                await play(engine, server, article, twin.answer)
            rules = {v.rule for v in caught.value.violations}
            assert rules & TWIN_RULES[twin.kind], f"{entry.id}: {twin.kind} twin rejected only for {rules}"


def test_every_twin_kind_is_made_for_some_entry() -> None:
    made = {twin.kind for entry in ENTRIES for twin in twins(entry, article_of(entry.id))}
    assert made == set(TWIN_RULES)


# --- (d) provenance -------------------------------------------------------------------------------------------------

_LANGUAGE_MODEL = re.compile(r"\blanguage model\b", re.IGNORECASE)
_AS_UPSTREAM = re.compile(r"\bacting as the upstream\b", re.IGNORECASE)


@pytest.mark.parametrize("entry", ENTRIES, ids=by_id)
def test_every_corpus_file_says_how_it_was_made(entry: Entry) -> None:
    assert _LANGUAGE_MODEL.search(entry.made_by) and _AS_UPSTREAM.search(entry.made_by), (
        f"{entry.id}: `made_by` must say that a language model wrote the answers acting as the upstream model"
    )
