"""`POST /v1/summaries/{id}/deliveries`: a tool asks for a summary to be posted into a Slack channel; the bot
posts it (to the loopback Slack API fake) and the answer carries the message's `ts`; Slack's refusals are
problems."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from service.config import Settings
from service.render.slack_blocks import render
from service.result import SummaryResult
from tests.conftest import AppClient, FakeEngine, assert_problem, sample_text
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_bot import TOKEN, bot_settings

ARTICLE = sample_text("derik_vehicle_collision")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(token=TOKEN) as api:
        yield api


async def summarized(client: httpx.AsyncClient) -> SummaryResult:
    response = await client.post("/v1/summaries", json={"text": ARTICLE})
    assert response.status_code == 200, response.text
    return SummaryResult.model_validate(response.json())


async def test_a_summary_is_posted_as_the_bot_and_its_ts_returned(
    slack: FakeSlackApi, app_client: AppClient
) -> None:
    async with app_client(bot_settings(slack), FakeEngine()) as client:
        result = await summarized(client)
        response = await client.post(
            f"/v1/summaries/{result.id}/deliveries", json={"slack_channel": "C0NEWS"}
        )

    assert response.status_code == 201, response.text
    [post] = slack.received("chat.postMessage")
    assert response.json() == {"summary_id": result.id, "slack_channel": "C0NEWS", "ts": "1700000000.000001"}
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.body["channel"] == "C0NEWS"
    cached = result.model_copy(update={"meta": result.meta.model_copy(update={"cached": True})})
    assert post.body["blocks"] == render(cached)["blocks"]


async def test_without_a_bot_token_delivery_is_a_clear_problem(app_client: AppClient) -> None:
    async with app_client(Settings(engine="extractive", cache_url="memory://"), FakeEngine()) as client:
        result = await summarized(client)
        response = await client.post(
            f"/v1/summaries/{result.id}/deliveries", json={"slack_channel": "C0NEWS"}
        )

    body = assert_problem(response, 422, "delivery-not-configured")
    assert "SLACK_BOT_TOKEN" in body["detail"]


@pytest.mark.parametrize(
    ("slack_error", "status", "slug"),
    [
        ("channel_not_found", 422, "delivery-refused"),
        ("not_in_channel", 422, "delivery-refused"),
        ("is_archived", 422, "delivery-refused"),
        ("invalid_auth", 502, "delivery-failed"),
    ],
)
async def test_slack_errors_are_problems(
    slack: FakeSlackApi, app_client: AppClient, slack_error: str, status: int, slug: str
) -> None:
    slack.fail("chat.postMessage", slack_error)
    async with app_client(bot_settings(slack), FakeEngine()) as client:
        result = await summarized(client)
        response = await client.post(
            f"/v1/summaries/{result.id}/deliveries", json={"slack_channel": "C0NEWS"}
        )

    assert assert_problem(response, status, slug)["slack_error"] == slack_error


async def test_a_rate_limit_outlasting_the_retries_is_a_503(
    slack: FakeSlackApi, app_client: AppClient
) -> None:
    slack.rate_limit("chat.postMessage", times=5)
    async with app_client(bot_settings(slack), FakeEngine()) as client:
        result = await summarized(client)
        response = await client.post(
            f"/v1/summaries/{result.id}/deliveries", json={"slack_channel": "C0NEWS"}
        )

    assert_problem(response, 503, "delivery-rate-limited")
    assert response.headers["Retry-After"]
    assert len(slack.received("chat.postMessage")) == 3


async def test_an_unknown_summary_or_a_bad_channel_is_refused(
    slack: FakeSlackApi, app_client: AppClient
) -> None:
    async with app_client(bot_settings(slack), FakeEngine()) as client:
        unknown = await client.post(f"/v1/summaries/{'0' * 32}/deliveries", json={"slack_channel": "C0NEWS"})
        result = await summarized(client)
        bad = await client.post(f"/v1/summaries/{result.id}/deliveries", json={"slack_channel": "#general"})

    assert_problem(unknown, 404, "not-found")
    assert_problem(bad, 422, "invalid-request")
    assert slack.received("chat.postMessage") == []
