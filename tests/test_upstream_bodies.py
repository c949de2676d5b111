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
    assert body["attempts"] == 1 and len(server.requests) == 1
