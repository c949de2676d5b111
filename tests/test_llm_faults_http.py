"""Upstream faults seen through the whole app (create_app over ASGI, the real `llm` engine, a fault-injecting
OpenAI-compatible server on loopback): the problem+json a client gets, that nothing is cached on failure, the
extractive fallback, single-flight under load, and the deadline."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from service.config import Settings
from service.engines.llm import LLMEngine
from service.prompts import Prompts
from tests.conftest import PROBLEM_TYPE, AppClient, assert_problem, sample_text, summary_data
from tests.fakes.openai_server import (
    FaultServer,
    Raw,
    answer_from_request,
    first_sentence_summary,
    invalid_json,
    rate_limited,
    server_error,
    slow,
    valid,
)


def llm_settings(server: FaultServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "engine": "llm",
        "openai_base_url": server.base_url,
        "cache_url": "memory://",
        "rate_limit_per_minute": 0,
        "max_retries": 1,
        "retry_after_cap_s": 0.05,  # honoured, but kept short so the tests stay fast
        "breaker_failures": 100,
    }
    return Settings(**(values | overrides))


ARTICLE = {"text": sample_text("syria_checkpoint_shootout")}


async def test_an_upstream_outage_is_a_503_with_retry_after_and_nothing_is_cached(
    server: FaultServer, app_client: AppClient
) -> None:
    # the server asks for 9 s, more than SUMMARIZER_RETRY_AFTER_CAP_S: no retry, its Retry-After passed on
    server.script(server_error(503, retry_after="9"))
    async with app_client(llm_settings(server)) as client:
        failed = await client.post("/v1/summaries", json=ARTICLE)
        body = assert_problem(failed, 503, "upstream-unavailable")
        assert failed.headers["retry-after"] == "9"
        assert body["attempts"] == 1 and server.calls == 1

        server.default = answer_from_request
        ok = await client.post("/v1/summaries", json=ARTICLE)
        assert ok.status_code == 200
        assert server.calls == 2  # the failure was not cached: the upstream was asked again
        assert ok.json()["meta"]["cached"] is False and ok.json()["meta"]["degraded"] is False
        again = await client.post("/v1/summaries", json=ARTICLE)
        assert again.json()["meta"]["cached"] is True and server.calls == 2


async def test_an_upstream_rate_limit_after_retries_is_a_503_with_retry_after(
    server: FaultServer, app_client: AppClient
) -> None:
    server.script(rate_limited(retry_after="20"))
    async with app_client(llm_settings(server)) as client:
        response = await client.post("/v1/summaries", json=ARTICLE)
    assert_problem(response, 503, "upstream-rate-limited")
    assert response.headers["retry-after"] == "20"
    assert server.calls == 1  # 20 s is more than the cap: failing at once beats holding the client
    assert response.json()["attempts"] == 1 and response.json()["usage"]["prompt_tokens"] == 0


async def test_a_spent_quota_is_not_retried(server: FaultServer, app_client: AppClient) -> None:
    quota = {"error": {"message": "You exceeded your current quota.", "type": "insufficient_quota",
                       "code": "insufficient_quota"}}  # fmt: skip
    server.script(Raw(status=429, body=json.dumps(quota)))
    async with app_client(llm_settings(server)) as client:
        response = await client.post("/v1/summaries", json=ARTICLE)
    body = assert_problem(response, 503, "upstream-rate-limited")
    assert body["attempts"] == 1 and server.calls == 1


async def test_an_unrepairable_answer_is_a_502_with_its_violations(
    server: FaultServer, app_client: AppClient
) -> None:
    server.script(invalid_json(), invalid_json(), invalid_json())
    async with app_client(llm_settings(server, max_repairs=2)) as client:
        response = await client.post("/v1/summaries", json=ARTICLE)
        body = assert_problem(response, 502, "unrepairable-output")
        assert body["attempts"] == 3 and server.calls == 3
        assert body["violations"][0]["rule"] == "invalid_json"
        missing = await client.get(f"/v1/summaries/{'0' * 32}")
        assert missing.status_code == 404


async def test_an_upstream_rejection_is_a_502_without_retries(
    server: FaultServer, app_client: AppClient
) -> None:
    server.script(server_error(401), server_error(401))
    async with app_client(llm_settings(server, max_retries=3)) as client:
        response = await client.post("/v1/summaries", json=ARTICLE)
    body = assert_problem(response, 502, "upstream-rejected")
    assert body["upstream_status"] == 401 and server.calls == 1


async def test_an_upstream_that_times_out_is_a_504(server: FaultServer, app_client: AppClient) -> None:
    server.script(slow(3, invalid_json()), slow(3, invalid_json()))
    async with app_client(llm_settings(server, timeout_s=0.3, deadline_s=10)) as client:
        response = await client.post("/v1/summaries", json=ARTICLE)
    assert_problem(response, 504, "upstream-timeout")
    assert server.calls == 2


async def test_a_request_never_commits_more_time_than_its_deadline(
    server: FaultServer, app_client: AppClient
) -> None:
    """An upstream that never answers: each call is given what is left of the 1.5 s deadline (capped by the 1 s
    call timeout), so the calls' timeouts and the wait between them add up to no more than the deadline."""
    settings = llm_settings(server, timeout_s=1, deadline_s=1.5)
    timeouts: list[float] = []
    sleeps: list[float] = []

    async def sent(request: httpx.Request) -> None:
        timeouts.append(request.extensions["timeout"]["read"])

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(seconds)

    server.script(slow(10, invalid_json()), slow(10, invalid_json()))
    async with httpx.AsyncClient(event_hooks={"request": [sent]}) as http:
        engine = LLMEngine(settings, Prompts.load(), http_client=http, sleep=sleep)
        async with app_client(settings, engine=engine) as client:
            response = await client.post("/v1/summaries", json=ARTICLE)
    assert response.status_code == 504
    assert response.json()["type"] in {PROBLEM_TYPE + "deadline-exceeded", PROBLEM_TYPE + "upstream-timeout"}
    assert timeouts and timeouts[0] == 1 and server.calls == len(timeouts) <= 2
    assert sum(timeouts) + sum(sleeps) <= 1.5
    assert response.json()["attempts"] == server.calls  # what the request spent, not 0


@pytest.mark.usefixtures("extractive_engine")  # the fallback's data, loaded once for the session
async def test_the_extractive_fallback_answers_degraded_when_the_llm_fails(
    server: FaultServer, app_client: AppClient
) -> None:
    server.script(server_error(502), server_error(502))
    async with app_client(llm_settings(server, fallback="extractive")) as client:
        response = await client.post("/v1/summaries", json=ARTICLE)
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert meta["degraded"] is True and meta["engine"] == "extractive"
    assert meta["attempts"] >= 2 and server.calls == 2
    assert any("UpstreamUnavailable" in w for w in meta["warnings"])


async def test_concurrent_identical_requests_share_one_upstream_call(
    server: FaultServer, app_client: AppClient
) -> None:
    """The upstream takes a second to answer; all 20 requests arrive meanwhile and wait for the one call: none
    is a cache hit (which a request served after the first finished would be)."""
    server.latency_s = 1.0
    server.default = answer_from_request
    async with app_client(llm_settings(server)) as client:
        responses = await asyncio.gather(*[client.post("/v1/summaries", json=ARTICLE) for _ in range(20)])
    assert [r.status_code for r in responses] == [200] * 20
    assert server.calls == 1
    assert len({r.json()["id"] for r in responses}) == 1
    assert [r.json()["meta"]["cached"] for r in responses] == [False] * 20


async def test_a_valid_answer_through_the_app_reports_attempts_and_usage(
    server: FaultServer, app_client: AppClient
) -> None:
    def summary_for(body: dict[str, Any]) -> Any:
        return valid(first_sentence_summary(body), usage=(300, 40))

    server.script(rate_limited(retry_after="0"))
    server.default = summary_for
    async with app_client(llm_settings(server)) as client:
        response = await client.post("/v1/summaries", json=ARTICLE)
    meta = response.json()["meta"]
    assert response.status_code == 200
    assert meta["engine"] == "llm" and meta["attempts"] == 2
    assert meta["usage"] == {"prompt_tokens": 300, "completion_tokens": 40, "cached_tokens": 0}


async def test_meta_names_the_model_that_answered_its_fingerprint_and_cached_tokens(
    server: FaultServer, app_client: AppClient
) -> None:
    """The endpoint may serve another model than the one asked for (a gateway, a local server)."""
    completion = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "smollm2-135m-instruct",
        "system_fingerprint": "fp_local",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": json.dumps(summary_data())}}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 80, "total_tokens": 980,
                  "prompt_tokens_details": {"cached_tokens": 768}},
    }  # fmt: skip
    server.script(Raw(body=json.dumps(completion)))
    async with app_client(llm_settings(server)) as client:
        meta = (await client.post("/v1/summaries", json=ARTICLE)).json()["meta"]
    assert meta["model"] == "smollm2-135m-instruct" and meta["system_fingerprint"] == "fp_local"
    assert meta["usage"] == {"prompt_tokens": 900, "completion_tokens": 80, "cached_tokens": 768}
