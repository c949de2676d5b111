"""Answers with status 200 that are not quite chat completions, through the HTTP path: never a 500, never a
repair turn for the endpoint's own failure (issue 12, part 1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.config import Settings
from tests.conftest import AppClient, assert_problem, summary_data
from tests.fakes.openai_server import Answer, FaultServer, Raw, completion_body

TEXT = "Two soldiers were killed near Idlib on Monday, officials said."


def settings(server: FaultServer) -> Settings:
    return Settings(
        engine="llm", openai_base_url=server.base_url, cache_url="memory://", rate_limit_per_minute=0
    )


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"total_tokens": 15}, (0, 0)),
        (None, (0, 0)),
        ({"prompt_tokens": 7, "completion_tokens": None}, (7, 0)),
    ],
)
async def test_a_usage_block_with_fields_missing_counts_them_as_zero(
    server: FaultServer, app_client: AppClient, usage: dict[str, object] | None, expected: tuple[int, int]
) -> None:
    server.script(Raw(body=completion_body(json.dumps(summary_data()), usage)))
    async with app_client(settings(server)) as client:
        response = await client.post("/v1/summaries", json={"text": TEXT})
    assert response.status_code == 200
    meta = response.json()["meta"]
    assert (meta["usage"]["prompt_tokens"], meta["usage"]["completion_tokens"]) == expected
    assert meta["attempts"] == 1


@pytest.mark.parametrize(
    ("raw", "status", "slug"),
    [
        (Raw(body="<html><body>Open WebUI</body></html>", content_type="text/html"), 502, "upstream-error"),
        (Raw(body='{"object": "list", "data": []}'), 502, "upstream-error"),
        (
            Raw(body='{"error": {"message": "model not found", "type": "invalid_request_error"}}'),
            502,
            "upstream-rejected",
        ),
        (
            Raw(body='{"error": {"message": "slow down", "type": "rate_limit_exceeded"}}'),
            503,
            "upstream-rate-limited",
        ),
        (
            Raw(body='{"error": {"message": "overloaded", "type": "server_error"}}'),
            503,
            "upstream-unavailable",
        ),
    ],
    ids=["web-page", "no-choices", "error-in-200", "rate-limit-in-200", "server-error-in-200"],
)
async def test_a_200_that_is_not_a_chat_completion_is_the_endpoints_failure(
    server: FaultServer, app_client: AppClient, raw: Raw, status: int, slug: str
) -> None:
    server.script(raw)  # once: a second call would get the fault server's default 400
    async with app_client(settings(server)) as client:
        response = await client.post("/v1/summaries", json={"text": TEXT})
    body = assert_problem(response, status, slug)
    assert body["attempts"] == 1 and len(server.requests) == 1  # no retry, no repair turn
    assert body["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0}


@pytest.mark.parametrize(
    "wrap",
    [
        lambda answer: f"<think>The article reports a shooting {{not json}}.</think>\n{answer}",
        lambda answer: f"Here is the summary:\n```json\n{answer}\n```\nLet me know if you need more.",
        lambda answer: f"Sure! {answer} I hope this helps.",
    ],
    ids=["think-block", "fence-inside-prose", "prose-around"],
)
async def test_the_json_object_is_taken_out_of_what_surrounds_it(
    server: FaultServer, app_client: AppClient, wrap: Any
) -> None:
    server.script(Answer(wrap(json.dumps(summary_data()))))
    async with app_client(settings(server)) as client:
        response = await client.post("/v1/summaries", json={"text": TEXT})
    assert response.status_code == 200 and response.json()["meta"]["attempts"] == 1


async def test_a_context_length_rejection_names_the_real_cause(
    server: FaultServer, app_client: AppClient
) -> None:
    too_long = {"error": {"message": "This model's maximum context length is 4096 tokens.",
                          "type": "invalid_request_error", "code": "context_length_exceeded"}}  # fmt: skip
    server.script(Raw(status=400, body=json.dumps(too_long)))
    async with app_client(settings(server)) as client:
        response = await client.post("/v1/summaries", json={"text": TEXT})
    body = assert_problem(response, 502, "upstream-rejected")
    assert "context window" in body["detail"] and "SUMMARIZER_MAX_TOKENS" not in body["detail"]
    assert body["attempts"] == 1 and len(server.requests) == 1 and body["usage"]["prompt_tokens"] == 0


async def test_an_error_body_says_what_the_failed_request_cost(
    server: FaultServer, app_client: AppClient
) -> None:
    """attempts and usage (tokens of every answer, failed ones included) in the problem, as in `meta`."""
    bad = Answer('{"headline": "cut', usage=(100, 5))
    server.script(bad, bad, bad)
    async with app_client(settings(server)) as client:
        response = await client.post("/v1/summaries", json={"text": TEXT})
    body = assert_problem(response, 502, "unrepairable-output")
    assert body["attempts"] == 3
    assert body["usage"] == {"prompt_tokens": 300, "completion_tokens": 15, "cached_tokens": 0}


async def test_a_deterministic_failure_is_remembered_for_a_while(
    server: FaultServer, app_client: AppClient
) -> None:
    """A client retrying on 502 does not make the same calls again; `Cache-Control: no-cache` tries anew."""
    bad = Answer('{"headline": "cut')
    server.script(bad, bad, bad)
    async with app_client(settings(server)) as client:
        first = await client.post("/v1/summaries", json={"text": TEXT})
        again = await client.post("/v1/summaries", json={"text": TEXT})
        assert_problem(first, 502, "unrepairable-output")
        body = assert_problem(again, 502, "unrepairable-output")
        assert len(server.requests) == 3 and body["attempts"] == 0 and "no-cache" in body["detail"]
        server.script(Answer(json.dumps(summary_data())))
        fresh = await client.post("/v1/summaries", json={"text": TEXT}, headers={"cache-control": "no-cache"})
        assert fresh.status_code == 200 and len(server.requests) == 4


async def test_a_refusal_is_remembered_too(server: FaultServer, app_client: AppClient) -> None:
    server.script(Answer(None, refusal="I can't help with that."))
    async with app_client(settings(server)) as client:
        await client.post("/v1/summaries", json={"text": TEXT})
        again = await client.post("/v1/summaries", json={"text": TEXT})
    assert_problem(again, 502, "model-refused")
    assert len(server.requests) == 1


async def test_prices_give_the_cost_of_a_summary(server: FaultServer, app_client: AppClient) -> None:
    server.script(Answer(json.dumps(summary_data()), usage=(2000, 500)))
    priced = settings(server).model_copy(update={"prices": {"gpt-4o-mini": (0.15, 0.60)}})
    async with app_client(priced) as client:
        meta = (await client.post("/v1/summaries", json={"text": TEXT})).json()["meta"]
    assert meta["cost_usd"] == pytest.approx((2000 * 0.15 + 500 * 0.60) / 1_000_000)


def test_prices_are_read_from_the_environment_and_checked() -> None:
    assert Settings(prices="gpt-4o-mini=0.15/0.6, qwen2.5=0/0").prices == {
        "gpt-4o-mini": (0.15, 0.6),
        "qwen2.5": (0.0, 0.0),
    }
    with pytest.raises(ValueError, match="SUMMARIZER_PRICES"):
        Settings(prices="gpt-4o-mini=cheap")
