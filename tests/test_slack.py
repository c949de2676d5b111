"""The Slack bot, end to end over ASGI: requests signed as Slack signs them go to the real bolt app behind
`POST /slack/events`, and what the bot sends back to Slack lands in a loopback fake of Slack's Web API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.article import ArticleIn
from service.config import Settings
from service.errors import (
    DeadlineExceeded,
    EmptyInput,
    OutputError,
    Refusal,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from service.render.slack_blocks import escape, render, with_requester
from service.slack import messages
from service.slack.app import COMMAND, SHORTCUT_CALLBACK_ID, LazyTasks, plain_text
from tests.conftest import CHECKPOINT_HEADLINE, AppClient, checkpoint_result, sample_text
from tests.fakes import slack_api
from tests.fakes.slack_api import MESSAGE_TS, RESPONSE_URL, FakeSlackApi, command_body
from tests.fakes.slack_bot import TOKEN, FakeSummarizer, bot_client, bot_settings, cited_ids, send

ARTICLE = sample_text("syria_checkpoint_shootout").strip()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(token=TOKEN) as api:
        yield api


def shortcut_body(text: str, response_url: str) -> str:
    return slack_api.shortcut_body({"text": escape(text)}, response_url)


# --- the slash command -----------------------------------------------------------------------------


async def test_slash_command_is_acked_at_once_and_the_summary_follows_in_channel(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings, gated=True)
    async with bot_client(settings, summarizer) as client:
        async with asyncio.timeout(3):  # Slack's deadline for the acknowledgement
            ack = await send(client, command_body(ARTICLE, slack.response_url()))
        await asyncio.wait_for(summarizer.started.wait(), 5)
        posted_before_release = list(slack.received(RESPONSE_URL))
        summarizer.release.set()
        [reply] = await slack.wait_for(RESPONSE_URL)

    assert ack.status_code == 200
    assert ack.json() == {
        "text": f"Summarizing the article ({len(ARTICLE):,} characters)…",
        "response_type": "ephemeral",
    }
    assert posted_before_release == []  # the ack did not wait for the summary
    assert summarizer.articles == [ArticleIn(text=ARTICLE)]  # Slack's escaping undone
    assert reply.body["response_type"] == "in_channel"
    assert reply.body["blocks"][0]["text"]["text"] == CHECKPOINT_HEADLINE
    assert cited_ids(reply.body) == ["S2", "S3", "S5", "S6", "S7", "S13", "S12", "S9", "S10"]
    assert reply.body == {
        **with_requester(render(checkpoint_result()), "U0ANALYST"),
        "response_type": "in_channel",
    }
    assert reply.body["blocks"][-1]["elements"][0]["text"] == "Requested by <@U0ANALYST>"
    [auth] = slack.received("auth.test")  # bolt authorizes the bot token once, against the fake
    assert auth.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_incident_without_text_replies_with_usage_and_summarizes_nothing(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    async with bot_client(settings, summarizer) as client:
        ack = await send(client, command_body("   ", slack.response_url()))

    assert ack.status_code == 200
    assert ack.json() == {"text": messages.USAGE, "response_type": "ephemeral"}
    assert "/incident &lt;article text&gt;" in messages.USAGE  # escaped: Slack would read <…> as a link
    assert "<" not in messages.USAGE and ">" not in messages.USAGE
    assert summarizer.articles == []
    assert slack.received(RESPONSE_URL) == []


@pytest.mark.parametrize(
    ("error", "notice"),
    [
        (EmptyInput("the article is empty"), "The article is empty."),
        (UpstreamRateLimited("429", retry_after=12.2), "The summarizer is busy, try again in 13 s."),
        (
            UpstreamUnavailable("breaker open", retry_after=None),
            "The summarizer is unavailable, try again in a minute.",
        ),
        (DeadlineExceeded("120 s"), "The summarizer took too long; try again later."),
        (
            OutputError("3 violations"),
            "The model's summary failed validation, so nothing was posted; try again later.",
        ),
        (Refusal("refused", refusal="I can't help"), "The model declined to summarize this article."),
    ],
)
async def test_summarizer_errors_reach_the_user_as_ephemeral_messages(
    slack: FakeSlackApi, error: Exception, notice: str
) -> None:
    settings = bot_settings(slack)
    async with bot_client(settings, FakeSummarizer(settings, error=error)) as client:
        await send(client, command_body(ARTICLE, slack.response_url()))
        [reply] = await slack.wait_for(RESPONSE_URL)

    assert reply.body == {"text": notice, "response_type": "ephemeral"}


async def test_an_article_over_the_limit_is_refused_with_the_limit(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack, max_article_chars=1_000)
    async with bot_client(settings, FakeSummarizer(settings)) as client:
        await send(client, command_body(ARTICLE, slack.response_url()))
        [reply] = await slack.wait_for(RESPONSE_URL)

    assert reply.body == {
        "text": "The article is too long (limit 1,000 characters).",
        "response_type": "ephemeral",
    }


async def test_an_unexpected_failure_is_logged_and_apologised_for(
    slack: FakeSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    settings = bot_settings(slack)
    with caplog.at_level(logging.ERROR, logger="service.slack"):
        async with bot_client(settings, FakeSummarizer(settings, error=KeyError("boom"))) as client:
            await send(client, command_body(ARTICLE, slack.response_url()))
            [reply] = await slack.wait_for(RESPONSE_URL)

    assert reply.body == {"text": messages.APOLOGY, "response_type": "ephemeral"}
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.exc_info is not None and isinstance(record.exc_info[1], KeyError)


# --- the message shortcut --------------------------------------------------------------------------


async def test_shortcut_is_acked_at_once_and_the_summary_is_posted_in_the_thread(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings, gated=True)
    async with bot_client(settings, summarizer) as client:
        async with asyncio.timeout(3):  # Slack's deadline for the acknowledgement
            ack = await send(client, shortcut_body(ARTICLE, slack.response_url()))
        await asyncio.wait_for(summarizer.started.wait(), 5)
        posted_before_release = list(slack.received("chat.postMessage"))
        summarizer.release.set()
        [post] = await slack.wait_for("chat.postMessage")

    assert ack.status_code == 200
    assert posted_before_release == []
    assert summarizer.articles == [ArticleIn(text=ARTICLE)]
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.body["channel"] == "C0INCIDENTS" and post.body["thread_ts"] == MESSAGE_TS
    assert post.body["blocks"][0]["text"]["text"] == CHECKPOINT_HEADLINE
    assert "S13" in cited_ids(post.body)
    assert post.body["text"] == render(checkpoint_result())["text"]
    assert post.body["blocks"][-1]["elements"][0]["text"] == "Requested by <@U0ANALYST>"
    [feedback] = slack.received(RESPONSE_URL)  # no error notice, only the feedback
    assert feedback.body == {"text": messages.SUMMARIZING_IN_THREAD, "response_type": "ephemeral"}


async def test_shortcut_errors_reach_the_user_privately(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    error = UpstreamRateLimited("429", retry_after=4)
    async with bot_client(settings, FakeSummarizer(settings, error=error)) as client:
        await send(client, shortcut_body(ARTICLE, slack.response_url()))
        [feedback, reply] = await slack.wait_for(RESPONSE_URL, count=2)

    assert feedback.body["text"] == messages.SUMMARIZING_IN_THREAD
    assert reply.body == {"text": "The summarizer is busy, try again in 4 s.", "response_type": "ephemeral"}
    assert slack.received("chat.postMessage") == []


async def test_shortcut_on_a_message_without_text_says_so(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    async with bot_client(settings, summarizer) as client:
        await send(client, shortcut_body("", slack.response_url()))
        [reply] = await slack.wait_for(RESPONSE_URL)

    assert reply.body == {"text": messages.NO_MESSAGE_TEXT, "response_type": "ephemeral"}
    assert summarizer.articles == []


async def test_a_channel_the_bot_cannot_post_in_gets_an_invitation_hint(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    slack.fail("chat.postMessage", "not_in_channel")
    async with bot_client(settings, FakeSummarizer(settings)) as client:
        await send(client, shortcut_body(ARTICLE, slack.response_url()))
        [_, reply] = await slack.wait_for(RESPONSE_URL, count=2)

    assert reply.body["response_type"] == "ephemeral"
    assert "/invite @Incident Summarizer" in reply.body["text"]
    assert len(slack.received("chat.postMessage")) == 1


def test_the_bot_needs_its_token_as_well_as_the_signing_secret() -> None:
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN"):
        Settings(slack_signing_secret="0f1e2d3c4b5a69788796a5b4c3d2e1f0", cache_url="memory://")


# --- request verification --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signing", "why"),
    [
        ({"secret": "not-the-signing-secret"}, "forged signature"),
        ({"age_s": 6 * 60}, "timestamp 6 minutes old"),
    ],
)
async def test_unverifiable_requests_get_401_and_do_nothing(
    slack: FakeSlackApi, signing: dict[str, Any], why: str
) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    async with bot_client(settings, summarizer) as client:
        for body in (
            command_body(ARTICLE, slack.response_url()),
            shortcut_body(ARTICLE, slack.response_url()),
        ):
            response = await send(client, body, **signing)
            assert response.status_code == 401, why

    assert summarizer.articles == []
    assert slack.requests == []


# --- background work and shutdown ------------------------------------------------------------------


async def test_shutdown_waits_for_summaries_still_being_written(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings, gated=True)
    async with bot_client(settings, summarizer, drain_timeout_s=5.0) as client:
        await send(client, command_body(ARTICLE, slack.response_url()))
        await asyncio.wait_for(summarizer.started.wait(), 5)
        asyncio.get_running_loop().call_later(0.05, summarizer.release.set)
    # leaving the lifespan waited for the summary: it is already posted

    [reply] = slack.received(RESPONSE_URL)
    assert reply.body["response_type"] == "in_channel"


async def test_shutdown_cancels_what_does_not_finish_in_time(
    slack: FakeSlackApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A summary that never finishes (its gate stays shut) is cancelled once the drain timeout is over. With a
    timeout of 0 the drain waits for nothing: what it was given and what it did are asserted, not a duration."""
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings, gated=True)
    drains: list[float] = []
    real_drain = LazyTasks.drain

    async def drain(tasks: LazyTasks, timeout_s: float) -> None:
        drains.append(timeout_s)
        await real_drain(tasks, timeout_s)

    monkeypatch.setattr(LazyTasks, "drain", drain)
    async with bot_client(settings, summarizer, drain_timeout_s=0) as client:
        await send(client, command_body(ARTICLE, slack.response_url()))
        await asyncio.wait_for(summarizer.started.wait(), 5)

    assert drains == [0]
    assert summarizer.cancelled and not summarizer.release.is_set()
    assert slack.received(RESPONSE_URL) == []


# --- the whole service -----------------------------------------------------------------------------


async def test_the_service_app_serves_the_bot_and_the_same_blocks_over_http(
    slack: FakeSlackApi, app_client: AppClient, extractive_engine: object
) -> None:
    """`create_app` with the built-in extractive engine: the bot posts what `?format=slack` returns."""
    settings = bot_settings(slack)
    async with app_client(settings) as client:
        ack = await send(client, command_body(ARTICLE, slack.response_url()))
        # the extractive engine loads its gazetteer on first use: seconds on a cold, busy machine
        [reply] = await slack.wait_for(RESPONSE_URL, timeout_s=60)
        api = await client.post("/v1/summaries?format=slack", json={"text": ARTICLE})
        result = (await client.post("/v1/summaries", json={"text": ARTICLE})).json()

    assert ack.status_code == 200
    assert reply.body["response_type"] == "in_channel"
    assert reply.body["blocks"][0]["text"]["text"] == escape(result["summary"]["headline"])
    assert set(cited_ids(reply.body)) <= {s["id"] for s in result["sentences"]}
    assert cited_ids(reply.body), "the summary cites the article"
    assert api.status_code == 200
    assert {**with_requester(api.json(), "U0ANALYST"), "response_type": "in_channel"} == reply.body


# --- Slack's wire format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "typed"),
    [
        ("Strike at A&amp;B &lt;depot&gt;", "Strike at A&B <depot>"),
        ("Read <https://example.com/a?b=1&amp;c=2|example.com> now", "Read example.com now"),
        ("See <https://example.com/report>", "See https://example.com/report"),
        ("cc <@U0ANALYST> in <#C0INCIDENTS|incidents>", "cc @U0ANALYST in incidents"),
        ("&amp;lt; stays literal", "&lt; stays literal"),
    ],
)
def test_slack_markup_becomes_the_text_the_user_typed(wire: str, typed: str) -> None:
    assert plain_text(wire) == typed


# --- the app manifest ------------------------------------------------------------------------------


def test_the_manifest_declares_what_the_bot_listens_to() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "slack" / "manifest.yml").read_text())

    [command] = manifest["features"]["slash_commands"]
    [shortcut] = manifest["features"]["shortcuts"]
    assert command["command"] == COMMAND
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", SHORTCUT_CALLBACK_ID)
    assert (
        command["url"]
        == manifest["settings"]["interactivity"]["request_url"]
        == manifest["settings"]["event_subscriptions"]["request_url"]
        == "https://YOUR-HOST/slack/events"
    )
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["link_shared"]
    assert manifest["features"]["unfurl_domains"] == ["YOUR-NEWS-SITE"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == [
        "chat:write",
        "chat:write.public",
        "commands",
        "files:read",
        "links:read",
        "links:write",
    ]
    docs = (Path(__file__).resolve().parent.parent / "docs" / "slack.md").read_text()
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in docs, f"docs/slack.md does not explain the scope {scope}"
    assert command["usage_hint"] == "<article text or link>"
    assert "`/incident <article text>`** or **`/incident <link>`**" in docs
