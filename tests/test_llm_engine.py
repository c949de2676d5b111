"""The `llm` engine: messages and structured-output modes, parse -> schema -> grounding -> repair turns, refusals,
usage and attempts — against a fault-injecting OpenAI-compatible server on loopback, and replayed from vcrpy
cassettes (cassettes/test_llm_engine/*.yaml; see docs/llm.md to re-record them)."""

from __future__ import annotations

import json
import logging
import os
from typing import Any, get_args

import httpx
import pytest
import yaml

from service import grounding
from service.article import Article
from service.config import Settings, StructuredMode
from service.engines.llm import LLMEngine, response_format, schema_dialect
from service.errors import DeadlineExceeded, OutputError, Refusal, UpstreamUnavailable, Usage
from service.prompts import Prompts
from service.schema import IncidentSummary, schema_text, upstream_json_schema
from tests.conftest import FakeClock, load_article, no_sleep, strict_mode_problems
from tests.fakes.cassettes import CASSETTE_DIR, VCR_CONFIG, authored_answer
from tests.fakes.openai_server import (
    Answer,
    FaultServer,
    content_filtered,
    invalid_json,
    rate_limited,
    refused,
    schema_invalid,
    server_error,
    slow,
    truncated,
    ungrounded,
    valid,
)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return VCR_CONFIG


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTE_DIR)


@pytest.fixture(scope="session")
def recording_endpoint() -> dict[str, Any]:
    """The endpoint to record from (`make record` sets OPENAI_*); read before the env is isolated per test."""
    return {
        "openai_base_url": os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8080/v1",
        "openai_api_key": os.environ.get("OPENAI_API_KEY") or None,
        "model": os.environ.get("SUMMARIZER_MODEL") or "gpt-4o-mini",
        "structured_mode": os.environ.get("SUMMARIZER_STRUCTURED_MODE") or "json_schema",
        # a small local model on CPU needs minutes per answer
        "timeout_s": float(os.environ.get("SUMMARIZER_TIMEOUT_S") or 60),
        "deadline_s": float(os.environ.get("SUMMARIZER_DEADLINE_S") or 120),
    }


# The repair and unrepairable cassettes show paths a good model does not take: they stay as they are in
# `--record-mode=rewrite` unless RECORD_PINNED=1 (see docs/llm.md).
pinned = pytest.mark.vcr(**({} if os.environ.get("RECORD_PINNED") else {"record_mode": "none"}))


@pytest.fixture
def syria() -> Article:
    return load_article("syria_checkpoint_shootout")


@pytest.fixture
def syria_summary() -> IncidentSummary:
    return authored_answer("syria_checkpoint_shootout")


def engine_for(
    server: FaultServer,
    *,
    http_client: httpx.AsyncClient | None = None,
    clock: FakeClock | None = None,
    **overrides: Any,
) -> LLMEngine:
    """The engine on the fault server, `overrides` in its settings; retry waits take no time (or move `clock`)."""
    values: dict[str, Any] = {"engine": "llm", "openai_base_url": server.base_url, "cache_url": "memory://"}
    if clock is None:
        return LLMEngine(
            Settings(**(values | overrides)), Prompts.load(), http_client=http_client, sleep=no_sleep
        )
    return LLMEngine(
        Settings(**(values | overrides)),
        Prompts.load(),
        http_client=http_client,
        sleep=clock.sleep,
        clock=clock,
    )


async def summarize(engine: LLMEngine, article: Article, **kwargs: Any) -> Any:
    try:
        return await engine.summarize(article, **kwargs)
    finally:
        await engine.aclose()


# --- requests ------------------------------------------------------------------------------------------


async def test_json_schema_mode_sends_the_strict_schema_and_the_article(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    server.script(valid(syria_summary))
    result = await summarize(engine_for(server, max_output_tokens=3000, model="m-1"), syria)
    body = server.bodies[0]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "incident_summary" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == upstream_json_schema()
    assert strict_mode_problems(fmt["json_schema"]["schema"]) == []
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("m-1", 0, 3000)
    prompts = Prompts.load()
    assert body["messages"] == [
        {"role": "system", "content": prompts.system},
        {"role": "user", "content": prompts.render_user(syria)},
    ]
    assert "[S13] Syrian state news agency SANA" in body["messages"][1]["content"]
    assert result.summary == syria_summary
    assert result.attempts == 1 and result.warnings == ()


async def test_json_object_schema_mode_sends_the_schema_as_llama_cpp_takes_it(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    server.script(valid(syria_summary))
    await summarize(engine_for(server, structured_mode="json_object_schema"), syria)
    body = server.bodies[0]
    assert body["response_format"] == {"type": "json_object", "schema": upstream_json_schema("full")}
    assert '"additionalProperties"' not in body["messages"][1]["content"]


async def test_json_schema_full_mode_sends_string_lengths_too(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    """vLLM and other grammar-constrained servers enforce maxLength; OpenAI strict mode does not take it."""
    server.script(valid(syria_summary))
    await summarize(engine_for(server, structured_mode="json_schema_full"), syria)
    fmt = server.bodies[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == upstream_json_schema("full")
    assert fmt["json_schema"]["schema"]["properties"]["headline"]["maxLength"] == 120


async def test_json_object_mode_puts_the_schema_in_the_prompt(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    server.script(valid(syria_summary))
    await summarize(engine_for(server, structured_mode="json_object"), syria)
    body = server.bodies[0]
    assert body["response_format"] == {"type": "json_object"}
    user = body["messages"][1]["content"]
    assert schema_text(upstream_json_schema("full")) in user
    assert user == Prompts.load().render_user(syria, schema_json=schema_text(upstream_json_schema("full")))


# --- repairs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "rule"),
    [
        (invalid_json(), "invalid_json"),
        (schema_invalid(), "literal_error"),
        (Answer("", usage=(100, 10)), "empty_answer"),
    ],
    ids=["invalid-json", "schema-invalid", "empty"],
)
async def test_an_unusable_answer_is_repaired(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary, first: Answer, rule: str
) -> None:
    server.script(Answer(first.content, usage=(100, 10)), valid(syria_summary, usage=(250, 40)))
    result = await summarize(engine_for(server), syria)
    assert result.summary == syria_summary
    assert result.attempts == 2 and server.calls == 2
    assert result.usage == Usage(350, 50)
    assert result.warnings == ("the model's answer needed 1 repair turn(s)",)
    repair_turn = server.bodies[1]["messages"]
    assert [m["role"] for m in repair_turn] == ["system", "user", "assistant", "user"]
    assert repair_turn[2]["content"] == first.content
    assert f": {rule}: " in repair_turn[3]["content"]
    assert repair_turn[3]["content"].startswith("Your previous answer cannot be used.")


async def test_an_ungrounded_answer_is_repaired_with_its_violations(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    server.script(ungrounded(syria_summary), valid(syria_summary))
    result = await summarize(engine_for(server), syria)
    assert result.summary == syria_summary and result.attempts == 2
    repair = server.bodies[1]["messages"][3]["content"]
    assert "- summary[0].citations[0]: unknown_citation: S999 is not a sentence; use S1..S15" in repair


async def test_a_cut_off_answer_is_asked_again_shorter_within_the_same_budget(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    """SUMMARIZER_MAX_TOKENS is a hard cap (an endpoint may allow no more), and the cut answer is not sent
    back: the repair turn asks for the whole object again, shorter."""
    server.script(truncated(syria_summary), valid(syria_summary))
    result = await summarize(engine_for(server, max_output_tokens=1000), syria)
    assert result.attempts == 2
    assert [b["max_tokens"] for b in server.bodies] == [1000, 1000]
    roles = [m["role"] for m in server.bodies[1]["messages"]]
    assert roles == ["system", "user", "user"]
    repair = server.bodies[1]["messages"][2]["content"]
    assert "truncated" in repair and "shorter" in repair


async def test_a_fenced_answer_is_accepted(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    server.script(Answer(f"```json\n{syria_summary.model_dump_json()}\n```"))
    result = await summarize(engine_for(server), syria)
    assert result.summary == syria_summary and server.calls == 1


async def test_an_answer_that_is_never_valid_raises_output_error_after_max_repairs(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    server.script(
        Answer(invalid_json().content, usage=(10, 1)),
        Answer(schema_invalid().content, usage=(20, 2)),
        Answer(ungrounded(syria_summary).content, usage=(30, 3)),
        valid(syria_summary),
    )
    with pytest.raises(OutputError) as caught:
        await summarize(engine_for(server, max_repairs=2), syria)
    error = caught.value
    assert not isinstance(error, Refusal)
    assert error.attempts == 3 and server.calls == 3  # 1 + max_repairs
    assert error.usage == Usage(60, 6)
    assert [v.rule for v in error.violations] == ["unknown_citation"]  # the last answer's failures
    assert server.pending == 1


async def test_no_repairs_allowed_means_one_call(server: FaultServer, syria: Article) -> None:
    server.script(invalid_json())
    with pytest.raises(OutputError) as caught:
        await summarize(engine_for(server, max_repairs=0), syria)
    assert caught.value.attempts == 1 and server.calls == 1


@pytest.mark.parametrize("answer", [refused(), content_filtered()], ids=["refusal", "content-filter"])
async def test_a_refusal_is_not_repaired(server: FaultServer, syria: Article, answer: Answer) -> None:
    server.script(answer, invalid_json())
    with pytest.raises(Refusal) as caught:
        await summarize(engine_for(server), syria)
    assert server.calls == 1 and caught.value.attempts == 1
    assert caught.value.refusal == (answer.refusal or "content_filter")
    assert caught.value.usage.completion_tokens > 0


# --- attempts, usage and the deadline across turns -------------------------------------------------------


async def test_attempts_count_transport_retries_and_repair_turns(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    server.script(
        rate_limited(retry_after="0"), Answer("nope", usage=(5, 1)), server_error(502), valid(syria_summary)
    )
    result = await summarize(engine_for(server), syria)
    assert result.attempts == 4 and server.calls == 4
    assert result.usage.prompt_tokens > 5


async def test_an_upstream_failure_after_a_repair_carries_everything_counted(
    server: FaultServer, syria: Article
) -> None:
    server.script(Answer("nope", usage=(100, 10)), *[server_error(503)] * 4)
    with pytest.raises(UpstreamUnavailable) as caught:
        await summarize(engine_for(server, max_retries=3, breaker_failures=100), syria)
    assert caught.value.attempts == 5 and server.calls == 5
    assert caught.value.usage == Usage(100, 10)


async def test_the_deadline_covers_every_turn(server: FaultServer, syria: Article) -> None:
    """Each call takes 0.4 s of the engine's clock and is given what is left of the 1 s deadline: after two
    turns 0.2 s is left, too little for a call, so the third turn never starts."""
    clock = FakeClock()
    timeouts: list[float] = []

    async def sent(request: httpx.Request) -> None:
        timeouts.append(request.extensions["timeout"]["read"])

    async def took_0_4_s(response: httpx.Response) -> None:
        clock.advance(0.4)

    server.script(invalid_json(), invalid_json(), invalid_json())
    async with httpx.AsyncClient(event_hooks={"request": [sent], "response": [took_0_4_s]}) as http:
        with pytest.raises(DeadlineExceeded) as caught:
            await summarize(
                engine_for(server, http_client=http, clock=clock, max_repairs=2), syria, deadline_s=1.0
            )
    assert server.calls == 2 and caught.value.attempts == 2
    assert timeouts == pytest.approx([1.0, 0.6])
    assert clock.now == pytest.approx(0.8) and clock.sleeps == []


async def test_a_slow_upstream_cannot_outlive_the_deadline(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary
) -> None:
    """The call's timeout is what is left of the request's 0.5 s deadline, not the 30 s call timeout; when it
    runs out, the request fails with DeadlineExceeded and no retry."""
    timeouts: list[float] = []

    async def sent(request: httpx.Request) -> None:
        timeouts.append(request.extensions["timeout"]["read"])

    server.script(slow(5, valid(syria_summary)))
    async with httpx.AsyncClient(event_hooks={"request": [sent]}) as http:
        engine = engine_for(server, http_client=http, timeout_s=30, deadline_s=60)
        with pytest.raises(DeadlineExceeded):
            await summarize(engine, syria, deadline_s=0.5)
    assert server.calls == 1 and len(timeouts) == 1
    assert 0 < timeouts[0] <= 0.5


# --- logs, readiness, lifecycle ----------------------------------------------------------------------------


async def test_repairs_are_logged_by_rule_without_article_text(
    server: FaultServer, syria: Article, syria_summary: IncidentSummary, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(ungrounded(syria_summary), valid(syria_summary))
    with caplog.at_level(logging.INFO, logger="service.upstream"):
        await summarize(engine_for(server), syria)
    assert "repair turn 1/2 because of unknown_citation x1" in caplog.text
    assert "Kamyshly" not in caplog.text and "SANA" not in caplog.text


async def test_check_ready_needs_a_configured_endpoint() -> None:
    engine = LLMEngine(Settings(engine="extractive", cache_url="memory://"), Prompts.load())
    try:
        with pytest.raises(UpstreamUnavailable, match="OPENAI_API_KEY or OPENAI_BASE_URL"):
            await engine.check_ready()
    finally:
        await engine.aclose()
    configured = LLMEngine(
        Settings(openai_base_url="http://127.0.0.1:9/v1", cache_url="memory://"), Prompts.load()
    )
    try:
        await configured.check_ready()  # no network call: nothing listens on port 9
    finally:
        await configured.aclose()
    assert configured.name == "llm" and configured.model == "gpt-4o-mini"


# --- cassettes -------------------------------------------------------------------------------------------


def recorded_with(cassette: Any) -> dict[str, Any]:
    """The settings a cassette's first request was made with (model, structured-output mode, token budget), so
    that it replays as it was recorded whatever the recording endpoint's settings were; nothing when recording.
    Replay still compares the whole request body: a changed prompt or schema does not match."""
    if not cassette.requests:
        return {}
    sent = json.loads(cassette.requests[0].body)
    found: dict[str, Any] = {"model": sent["model"], "max_output_tokens": sent["max_tokens"]}
    for mode in get_args(StructuredMode):
        if response_format(mode, upstream_json_schema(schema_dialect(mode))) == sent["response_format"]:
            found["structured_mode"] = mode
    return found


def cassette_settings(cassette: Any, endpoint: dict[str, Any], **overrides: Any) -> Settings:
    values = {"engine": "llm", "cache_url": "memory://"} | endpoint | recorded_with(cassette)
    return Settings(**(values | overrides))


def recorded_usage(cassette: Any) -> Usage:
    total = Usage()
    for response in cassette.responses:
        usage = json.loads(response["body"]["string"]).get("usage") or {}
        total += Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
    return total


@pytest.mark.vcr
@pytest.mark.parametrize("sample", ["syria_checkpoint_shootout", "derik_vehicle_collision"])
async def test_cassette_valid_summary(sample: str, vcr: Any, recording_endpoint: dict[str, Any]) -> None:
    article = load_article(sample)
    engine = LLMEngine(cassette_settings(vcr, recording_endpoint), Prompts.load())
    result = await summarize(engine, article)
    assert grounding.check(result.summary, article) == []
    assert result.attempts == len(vcr.requests)
    assert result.usage == recorded_usage(vcr)
    sent = json.loads(vcr.requests[0].body)
    user = sent["messages"][1]["content"]  # the cassette is of this article, every sentence numbered
    assert all(f"[{s.id}] " in user for s in article.sentences)
    if sent["response_format"]["type"] == "json_schema":
        assert strict_mode_problems(sent["response_format"]["json_schema"]["schema"]) == []


@pinned
async def test_cassette_repair(vcr: Any, recording_endpoint: dict[str, Any]) -> None:
    """The first answer cites a sentence the article lacks; the repair turn gets it right."""
    article = load_article("syria_checkpoint_shootout")
    result = await summarize(LLMEngine(cassette_settings(vcr, recording_endpoint), Prompts.load()), article)
    assert result.attempts == 2 == len(vcr.requests)
    assert result.usage == recorded_usage(vcr)
    assert result.warnings == ("the model's answer needed 1 repair turn(s)",)
    assert grounding.check(result.summary, article) == []
    repair_request = json.loads(vcr.requests[1].body)["messages"]
    assert [m["role"] for m in repair_request] == ["system", "user", "assistant", "user"]
    assert "unknown_citation" in repair_request[3]["content"]


@pinned
async def test_cassette_unrepairable(vcr: Any, recording_endpoint: dict[str, Any]) -> None:
    """A small model (SmolLM2-135M on llama.cpp) never writes a valid summary: OutputError after the repairs."""
    article = load_article("derik_vehicle_collision")
    settings = cassette_settings(
        vcr,
        recording_endpoint,
        model="smollm2-135m-instruct",
        structured_mode="json_object_schema",
        max_repairs=2,
        max_output_tokens=512,
    )
    with pytest.raises(OutputError) as caught:
        await summarize(LLMEngine(settings, Prompts.load()), article)
    assert caught.value.attempts == 3 == len(vcr.requests)
    assert caught.value.violations
    assert caught.value.usage == recorded_usage(vcr)
    assert json.loads(vcr.requests[0].body)["response_format"]["type"] == "json_object"


def test_cassettes_exist_for_every_cassette_test() -> None:
    names = {p.stem for p in CASSETTE_DIR.glob("*.yaml")}
    assert {
        "test_cassette_valid_summary[syria_checkpoint_shootout]",
        "test_cassette_valid_summary[derik_vehicle_collision]",
        "test_cassette_repair",
        "test_cassette_unrepairable",
    } <= names
    for path in CASSETTE_DIR.glob("*.yaml"):
        assert yaml.safe_load(path.read_text())["interactions"]
