"""The Slack bot, end to end over ASGI: requests signed as Slack signs them go to the real bolt app behind
`POST /slack/events`, and what the bot sends back to Slack lands in a loopback fake of Slack's Web API."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import yaml
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from service.article import ArticleIn, prepare
from service.config import Settings
from service.errors import (
    DeadlineExceeded,
    EmptyInput,
    OutputError,
    Refusal,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from service.render.slack_blocks import escape, render
from service.result import SummaryResult
from service.slack import messages
from service.slack.app import COMMAND, SHORTCUT_CALLBACK_ID, LazyTasks, plain_text
from service.slack.routes import slack_router
from tests.conftest import CHECKPOINT_HEADLINE, AppClient, checkpoint_result, sample_text
from tests.fakes import slack_api
from tests.fakes.slack_api import RESPONSE_URL, FakeSlackApi, command_body

SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TOKEN = "xoxb-test"
ARTICLE = sample_text("syria_checkpoint_shootout").strip()
MESSAGE_TS = "1707730000.000200"


class FakeSummarizer:
    """The summarizer as the bot sees it. It prepares the article for real (so input errors are the service's
    own), waits until `release` is set when gated, then answers the checkpoint summary or raises `error`."""

    def __init__(self, settings: Settings, *, gated: bool = False, error: Exception | None = None) -> None:
        self.settings = settings
        self.error = error
        self.articles: list[ArticleIn] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False
        if not gated:
            self.release.set()

    async def summarize(self, article: ArticleIn, *, refresh: bool = False) -> SummaryResult:
        self.articles.append(article)
        self.started.set()
        prepared = prepare(article, max_chars=self.settings.max_article_chars)
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.error is not None:
            raise self.error
        return checkpoint_result(prepared)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(token=TOKEN) as api:
        yield api


def bot_settings(slack: FakeSlackApi, **overrides: Any) -> Settings:
    return Settings(
        engine="extractive",
        cache_url="memory://",
        slack_signing_secret=SECRET,
        slack_bot_token=TOKEN,
        slack_api_url=slack.api_url,
        **overrides,
    )


@asynccontextmanager
async def bot_client(
    settings: Settings, summarizer: FakeSummarizer, *, drain_timeout_s: float = 5.0
) -> AsyncIterator[httpx.AsyncClient]:
    """An app with only the Slack router, its lifespan run (leaving it drains the bot's background work)."""
    app = FastAPI()
    app.include_router(slack_router(settings, summarizer, drain_timeout_s=drain_timeout_s))
    async with LifespanManager(app, startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


# --- what Slack sends ------------------------------------------------------------------------------


def signed(body: str, *, secret: str = SECRET, age_s: int = 0) -> dict[str, str]:
    return slack_api.signed(body, secret=secret, age_s=age_s)


def shortcut_body(text: str, response_url: str) -> str:
    payload = {
        "type": "message_action",
        "callback_id": "summarize_incident",
        "trigger_id": "1.2.4",
        "action_ts": "1707730100.000300",
        "token": "legacy-verification-token",
        "team": {"id": "T0FAKE", "domain": "acme"},
        "user": {"id": "U0ANALYST", "name": "analyst", "team_id": "T0FAKE"},
        "channel": {"id": "C0INCIDENTS", "name": "incidents"},
        "message_ts": MESSAGE_TS,
        "message": {"type": "message", "user": "U0REPORTER", "ts": MESSAGE_TS, "text": escape(text)},
        "response_url": response_url,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


async def send(client: httpx.AsyncClient, body: str, **signing: Any) -> httpx.Response:
    return await client.post("/slack/events", content=body, headers=signed(body, **signing))


def cited_ids(message: dict[str, Any]) -> list[str]:
    sources = message["blocks"][-2]  # the context block of cited sentences, before the footer
    listed = [element["text"].split(" ", 1)[0] for element in sources["elements"]]
    return [marker.strip("*") for marker in listed if marker.startswith("*S")]  # not the "+N more" line


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
    assert cited_ids(reply.body) == ["S2", "S3", "S5", "S6", "S7", "S9", "S10", "S12", "S13"]
    assert reply.body == {**render(checkpoint_result()), "response_type": "in_channel"}
    [auth] = slack.received("auth.test")  # bolt authorizes the bot token once, against the fake
    assert auth.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_incident_without_text_replies_with_usage_and_summarizes_nothing(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    async with bot_client(settings, summarizer) as client:
        ack = await send(client, command_body("   ", slack.response_url()))

    assert ack.status_code == 200
    assert ack.json() == {"text": messages.USAGE, "response_type": "ephemeral"}
    assert "/incident <article text>" in messages.USAGE
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
    assert slack.received(RESPONSE_URL) == []  # no error notice


async def test_shortcut_errors_reach_the_user_privately(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    error = UpstreamRateLimited("429", retry_after=4)
    async with bot_client(settings, FakeSummarizer(settings, error=error)) as client:
        await send(client, shortcut_body(ARTICLE, slack.response_url()))
        [reply] = await slack.wait_for(RESPONSE_URL)

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
        [reply] = await slack.wait_for(RESPONSE_URL)

    assert reply.body["response_type"] == "ephemeral"
    assert "/invite @Incident Summarizer" in reply.body["text"]
    assert len(slack.received("chat.postMessage")) == 1


def test_the_bot_needs_its_token_as_well_as_the_signing_secret() -> None:
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN"):
        Settings(slack_signing_secret=SECRET, cache_url="memory://")


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
    slack: FakeSlackApi, app_client: AppClient
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
    assert {**api.json(), "response_type": "in_channel"} == reply.body


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
        == "https://YOUR-HOST/slack/events"
    )
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == [
        "chat:write",
        "chat:write.public",
        "commands",
    ]
