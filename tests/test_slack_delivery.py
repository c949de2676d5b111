"""Delivery in a real workspace: a failing `response_url` still delivers, a replayed request posts once, Slack's
rate limit is waited out, DMs and archived channels are worded right, and a forged request is counted, not
logged. Requests are signed as Slack signs them; Slack is the loopback fake."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from service.cache import build_cache
from service.cache.shared_flight import SharedLocks
from service.errors import UpstreamRateLimited
from service.metrics import Metrics
from service.render.slack_blocks import escape
from service.slack import messages
from service.slack.app import LOGGED_CHARS
from service.slack.dedupe import SeenInteractions, interaction_id
from tests.conftest import AppClient, FakeClock, sample_text
from tests.fakes.slack_api import RESPONSE_URL, FakeSlackApi, command_body, shortcut_body
from tests.fakes.slack_bot import TOKEN, FakeSummarizer, bot_client, bot_settings, send, signed

ARTICLE = sample_text("syria_checkpoint_shootout").strip()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(token=TOKEN) as api:
        yield api


def article_shortcut(slack: FakeSlackApi, *, channel: str = "C0INCIDENTS") -> str:
    return shortcut_body({"text": escape(ARTICLE)}, slack.response_url(), channel=channel)


# --- response_url failures -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 500])
async def test_a_failing_response_url_still_delivers_the_summary(slack: FakeSlackApi, status: int) -> None:
    settings = bot_settings(slack)
    slack.fail(RESPONSE_URL, "expired_url" if status == 404 else "internal_error", status=status)
    async with bot_client(settings, FakeSummarizer(settings)) as client:
        await send(client, command_body(ARTICLE, slack.response_url()))
        [post] = await slack.wait_for("chat.postMessage")

    [failed] = slack.received(RESPONSE_URL)
    assert failed.body["response_type"] == "in_channel"
    assert post.body["channel"] == "C0INCIDENTS" and "thread_ts" not in post.body
    assert post.body["blocks"][-1]["elements"][0]["text"] == "Requested by <@U0ANALYST>"


async def test_a_notice_reaches_the_user_when_the_response_url_fails(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    slack.fail(RESPONSE_URL, "expired_url")
    error = UpstreamRateLimited("429", retry_after=4)
    async with bot_client(settings, FakeSummarizer(settings, error=error)) as client:
        await send(client, command_body(ARTICLE, slack.response_url()))
        [ephemeral] = await slack.wait_for("chat.postEphemeral")

    assert ephemeral.body["user"] == "U0ANALYST" and ephemeral.body["channel"] == "C0INCIDENTS"
    assert ephemeral.body["text"] == "The summarizer is busy, try again in 4 s."
    assert slack.received("chat.postMessage") == []


# --- repeats -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["command", "shortcut"])
async def test_a_replayed_request_posts_once(slack: FakeSlackApi, kind: str) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    metrics = Metrics()
    body = command_body(ARTICLE, slack.response_url()) if kind == "command" else article_shortcut(slack)
    headers = signed(body)
    async with bot_client(settings, summarizer, metrics=metrics) as client:
        first = await client.post("/slack/events", content=body, headers=headers)
        again = await client.post("/slack/events", content=body, headers=headers)  # the very same request
        retried = await client.post(
            "/slack/events", content=body, headers={**signed(body), "X-Slack-Retry-Num": "1"}
        )

    assert first.status_code == again.status_code == retried.status_code == 200
    assert len(summarizer.articles) == 1
    posts = slack.received("chat.postMessage") + [
        r for r in slack.received(RESPONSE_URL) if r.body.get("response_type") == "in_channel"
    ]
    assert len(posts) == 1
    assert metrics.registry.get_sample_value("slack_repeats_dropped_total") == 2


def test_interactions_are_known_by_their_trigger_or_event_id() -> None:
    assert interaction_id({"trigger_id": "13345.224"}) == "trigger_id:13345.224"
    assert interaction_id({"event_id": "Ev0PV52K25", "event": {}}) == "event_id:Ev0PV52K25"
    assert interaction_id({"type": "url_verification"}) is None


async def test_a_repeat_is_forgotten_after_its_ttl() -> None:
    clock = FakeClock()
    seen = SeenInteractions(ttl_s=600, clock=clock)
    assert await seen.first_time("trigger_id:1") and not await seen.first_time("trigger_id:1")
    clock.advance(601)
    assert await seen.first_time("trigger_id:1")


async def test_a_failed_first_delivery_leaves_its_retry_to_be_handled() -> None:
    seen = SeenInteractions()
    assert await seen.first_time("event_id:1")
    await seen.done("event_id:1", handled=False)  # the first delivery failed
    assert await seen.first_time("event_id:1")  # Slack's retry is handled
    await seen.done("event_id:1", handled=True)
    assert not await seen.first_time("event_id:1")  # and then dropped


@pytest.mark.redis
async def test_across_replicas_a_repeat_waits_for_the_first_handling_and_survives_its_failure(
    redis_url: str,
) -> None:
    """Replica A takes an interaction; B drops its repeat while A handles it. A fails: B handles the next
    retry. A replica that dies while handling (never says done) holds the interaction only for the short
    handling lock, not for the ten minutes of a handled one."""
    cache = build_cache(redis_url)
    assert isinstance(cache, SharedLocks)
    try:
        a, b = SeenInteractions(shared=cache), SeenInteractions(shared=cache)
        key = f"event_id:{uuid.uuid4().hex}"
        assert await a.first_time(key)
        assert not await b.first_time(key)  # being handled by A
        await a.done(key, handled=False)
        b = SeenInteractions(shared=cache)  # a fresh replica: B's own memory of the drop aside
        assert await b.first_time(key)
        await b.done(key, handled=True)
        assert not await SeenInteractions(shared=cache).first_time(key)  # handled: dropped everywhere

        died = f"event_id:{uuid.uuid4().hex}"
        assert await SeenInteractions(shared=cache, handling_ttl_s=0.2).first_time(died)  # then it dies
        await asyncio.sleep(0.4)  # the handling lock's lifetime passes (Redis expires it)
        assert await SeenInteractions(shared=cache).first_time(died)
    finally:
        await cache.aclose()


@pytest.mark.redis
async def test_a_repeat_reaching_another_replica_posts_once(slack: FakeSlackApi, redis_url: str) -> None:
    """Two replicas sharing Redis: the same signed request sent to each is summarized and posted once."""
    settings = bot_settings(slack)
    cache = build_cache(redis_url)
    assert isinstance(cache, SharedLocks)
    replicas = [FakeSummarizer(settings), FakeSummarizer(settings)]
    body = command_body(ARTICLE, slack.response_url())
    headers = signed(body)
    try:
        for summarizer in replicas:
            async with bot_client(settings, summarizer, shared=cache) as client:
                assert (await client.post("/slack/events", content=body, headers=headers)).status_code == 200
    finally:
        await cache.aclose()

    assert [len(s.articles) for s in replicas] == [1, 0]
    assert len(slack.received(RESPONSE_URL)) == 1


# --- Slack's answers -----------------------------------------------------------------------------------


async def test_a_rate_limited_post_is_retried_as_slack_asks(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    slack.rate_limit("chat.postMessage", times=1)  # HTTP 429, Retry-After: 0
    async with bot_client(settings, FakeSummarizer(settings)) as client:
        await send(client, article_shortcut(slack))
        posts = await slack.wait_for("chat.postMessage", count=2)

    assert posts[0].body == posts[1].body
    assert [r.body["text"] for r in slack.received(RESPONSE_URL)] == [messages.SUMMARIZING_IN_THREAD]


async def test_a_post_still_rate_limited_after_the_retries_is_explained(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    slack.rate_limit("chat.postMessage", times=5)
    async with bot_client(settings, FakeSummarizer(settings)) as client:
        await send(client, article_shortcut(slack))
        [_, reply] = await slack.wait_for(RESPONSE_URL, count=2, timeout_s=10)

    assert len(slack.received("chat.postMessage")) == 3  # the post and two retries
    assert reply.body["text"] == "Slack is rate-limiting me; try again in a minute."


@pytest.mark.parametrize(
    ("channel", "error", "says", "never"),
    [
        ("D0DIRECT", "channel_not_found", "direct message I am not part of", "/invite"),
        ("C0INCIDENTS", "not_in_channel", "/invite @Incident Summarizer", "direct message"),
        ("C0INCIDENTS", "is_archived", "This channel is archived", "try again"),
    ],
)
async def test_refusals_are_worded_for_the_conversation(
    slack: FakeSlackApi, channel: str, error: str, says: str, never: str
) -> None:
    settings = bot_settings(slack)
    slack.fail("chat.postMessage", error)
    async with bot_client(settings, FakeSummarizer(settings)) as client:
        await send(client, article_shortcut(slack, channel=channel))
        [_, reply] = await slack.wait_for(RESPONSE_URL, count=2)

    assert says in reply.body["text"] and never not in reply.body["text"]


# --- what is logged ------------------------------------------------------------------------------------


async def test_a_forged_request_is_counted_not_logged(
    slack: FakeSlackApi, app_client: AppClient, extractive_engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    forged = command_body("FORGED-" + "x" * 1_000_000, slack.response_url())
    with caplog.at_level(logging.DEBUG):
        async with app_client(bot_settings(slack)) as client:
            response = await client.post(
                "/slack/events", content=forged, headers=signed(forged, secret="not-the-signing-secret")
            )
            metrics = (await client.get("/metrics")).text

    assert response.status_code == 401
    assert "slack_signature_failures_total 1.0" in metrics
    assert not any("FORGED" in record.getMessage() for record in caplog.records)
    assert slack.requests == []


async def test_bolt_never_logs_a_whole_body(slack: FakeSlackApi, caplog: pytest.LogCaptureFixture) -> None:
    """A signed request bolt has no listener for: bolt logs it as unhandled, with its body, cut short."""
    settings = bot_settings(slack)
    payload = {"type": "block_actions", "trigger_id": "9.9.9", "actions": [], "junk": "y" * 200_000}
    body = urlencode({"payload": json.dumps(payload)})
    with caplog.at_level(logging.DEBUG, logger="service.slack"):
        async with bot_client(settings, FakeSummarizer(settings)) as client:
            await send(client, body)

    bolt_records = [r for r in caplog.records if r.name.startswith("service.slack")]
    assert bolt_records, "bolt logged the unhandled request"
    assert max(len(r.getMessage()) for r in bolt_records) <= LOGGED_CHARS + 40
