"""Links in Slack: `/incident <url>` and the shortcut on a message that is only a link (or its unfurl) summarize
the linked page; the shortcut reads a bot's or a feed's article in `attachments` and text snippets. Requests
are signed as Slack signs them; Slack is the loopback fake; pages come from the loopback page server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from service.article import ArticleIn
from service.render.slack_blocks import escape
from service.slack import input as slack_input
from service.slack import messages
from tests.conftest import AppClient, sample_text
from tests.fakes.page_server import PageServer
from tests.fakes.slack_api import RESPONSE_URL, FakeSlackApi, command_body, shortcut_body
from tests.fakes.slack_bot import TOKEN, FakeSummarizer, bot_client, bot_settings, send, signed

ARTICLE = sample_text("syria_checkpoint_shootout").strip()
PAGE = "https://news.example/2024/02/12/checkpoint-shootout"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(token=TOKEN) as api:
        yield api


@pytest.mark.parametrize(
    "typed",
    [
        f"<{PAGE}|Checkpoint shootout>",  # a link with its label: the label is not the article
        f"<{PAGE}>",
        PAGE,  # `should_escape: false` leaves a typed link bare
        f"Read this: <{PAGE}|Checkpoint shootout>",
    ],
)
async def test_incident_with_a_link_summarizes_the_linked_page(slack: FakeSlackApi, typed: str) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    async with bot_client(settings, summarizer) as client:
        ack = await send(client, command_body(typed, slack.response_url(), escaped=False))
        [reply] = await slack.wait_for(RESPONSE_URL)

    assert ack.json() == {"text": f"Fetching and summarizing {PAGE}…", "response_type": "ephemeral"}
    assert summarizer.articles == [ArticleIn(url=PAGE)]
    assert reply.body["response_type"] == "in_channel"


def test_a_link_keeps_its_query_as_slack_escaped_it() -> None:
    wanted = slack_input.from_command("<https://news.example/a?id=1&amp;lang=en|story>")
    assert wanted.url == "https://news.example/a?id=1&lang=en"
    assert (
        messages.summarizing(url=wanted.url)
        == "Fetching and summarizing https://news.example/a?id=1&amp;lang=en…"
    )


def test_an_article_with_a_link_in_it_is_summarized_as_text() -> None:
    wanted = slack_input.from_command(escape(ARTICLE) + f" Source: <{PAGE}|Levant Monitor>")
    assert wanted.url is None and wanted.text is not None and wanted.text.startswith(ARTICLE[:50])


async def test_the_shortcut_on_a_link_with_its_unfurl_summarizes_the_page(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    unfurl = {
        "from_url": PAGE,
        "original_url": PAGE,
        "title": "Checkpoint shootout near Qamishli",
        "text": "A US-led coalition patrol and a pro-government militia exchanged fire. Two were hurt.",
        "service_name": "Levant Monitor",
    }
    message = {"text": f"<{PAGE}>", "attachments": [unfurl]}
    async with bot_client(settings, summarizer) as client:
        await send(client, shortcut_body(message, slack.response_url()))
        [post] = await slack.wait_for("chat.postMessage")

    assert summarizer.articles == [ArticleIn(url=PAGE)]  # the preview's two sentences are not the article
    assert post.body["channel"] == "C0INCIDENTS"


async def test_the_shortcut_on_an_unfurl_alone_summarizes_its_page(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    message = {"text": "", "attachments": [{"from_url": PAGE, "title": "Checkpoint shootout"}]}
    async with bot_client(settings, summarizer) as client:
        await send(client, shortcut_body(message, slack.response_url()))
        await slack.wait_for("chat.postMessage")

    assert summarizer.articles == [ArticleIn(url=PAGE)]


async def test_the_shortcut_reads_an_article_in_attachments(slack: FakeSlackApi) -> None:
    """A feed bot's post: a short line of text, the article in an attachment (not an unfurl)."""
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    feed_item = {"title": "Checkpoint shootout", "title_link": PAGE, "text": escape(ARTICLE), "fallback": "x"}
    message = {"text": "New from Levant Monitor", "bot_id": "B0FEED", "attachments": [feed_item]}
    async with bot_client(settings, summarizer) as client:
        await send(client, shortcut_body(message, slack.response_url()))
        await slack.wait_for("chat.postMessage")

    [article] = summarizer.articles
    assert article.url is None and article.text is not None
    assert article.text.endswith(ARTICLE) and "Checkpoint shootout" in article.text


async def test_the_shortcut_reads_a_text_snippet_whole(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    slack.snippets["F0SNIPPET"] = ARTICLE
    snippet = {"id": "F0SNIPPET", "mode": "snippet", "filetype": "text", "preview": ARTICLE[:100]}
    async with bot_client(settings, summarizer) as client:
        await send(client, shortcut_body({"text": "", "files": [snippet]}, slack.response_url()))
        await slack.wait_for("chat.postMessage")

    assert summarizer.articles == [ArticleIn(text=ARTICLE)]
    [info] = slack.received("files.info")
    assert info.body == {"file": "F0SNIPPET"} and info.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_a_message_with_nothing_to_read_says_so(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    async with bot_client(settings, summarizer) as client:
        await send(
            client, shortcut_body({"text": "", "attachments": [{"fallback": ""}]}, slack.response_url())
        )
        [reply] = await slack.wait_for(RESPONSE_URL)

    assert reply.body == {"text": messages.NO_MESSAGE_TEXT, "response_type": "ephemeral"}
    assert summarizer.articles == []


async def test_a_link_is_fetched_and_summarized_by_the_real_service(
    slack: FakeSlackApi, app_client: AppClient, extractive_engine: object
) -> None:
    """The whole way: the link's page is fetched (the loopback page server, allow-listed) and summarized."""
    async with PageServer() as pages:
        url = pages.url("/article/wordpress_checkpoint_clash.html")
        settings = bot_settings(slack, url_allowlist="127.0.0.1/32")
        async with app_client(settings) as client:
            await send(client, command_body(f"<{url}|Tal Tamr clash>", slack.response_url(), escaped=False))
            [reply] = await slack.wait_for(RESPONSE_URL, timeout_s=30)
            api = (await client.post("/v1/summaries", json={"url": url})).json()

    assert reply.body["response_type"] == "in_channel"
    assert reply.body["blocks"][0]["text"]["text"] == escape(api["summary"]["headline"])
    assert [r.path for r in pages.requests] == ["/article/wordpress_checkpoint_clash.html"] * 2


# --- link previews -------------------------------------------------------------------------------------


def link_shared(event_id: str = "Ev0LINKSHARED") -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T0FAKE",
            "api_app_id": "A0BOT",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1707730000,
            "event": {
                "type": "link_shared",
                "channel": "C0INCIDENTS",
                "is_bot_user_member": True,
                "user": "U0ANALYST",
                "message_ts": "1707730000.000200",
                "unfurl_id": "C0INCIDENTS.1707730000.000200.abc",
                "source": "conversations_history",
                "links": [{"domain": "news.example", "url": PAGE}],
                "event_ts": "1707730000.000300",
            },
        }
    )


async def send_event(client: httpx.AsyncClient, body: str, **headers: str) -> httpx.Response:
    return await client.post(
        "/slack/events", content=body, headers={**signed(body), "Content-Type": "application/json", **headers}
    )


async def test_a_shared_link_gets_its_summary_as_preview(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack, slack_unfurl=True)
    summarizer = FakeSummarizer(settings)
    async with bot_client(settings, summarizer) as client:
        first = await send_event(client, link_shared())
        retry = await send_event(
            client, link_shared(), **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        )
        [unfurl] = await slack.wait_for("chat.unfurl")

    assert first.status_code == retry.status_code == 200
    assert summarizer.articles == [ArticleIn(url=PAGE)]  # Slack's retry of the event was dropped
    unfurls = unfurl.body["unfurls"]  # chat.unfurl is sent as JSON
    assert unfurls[PAGE]["blocks"][0]["type"] == "header"
    assert unfurl.body["unfurl_id"] == "C0INCIDENTS.1707730000.000200.abc"
    assert unfurl.body["source"] == "conversations_history"


async def test_without_the_setting_shared_links_are_left_alone(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    async with bot_client(settings, summarizer) as client:
        response = await send_event(client, link_shared())

    assert response.status_code == 200
    assert summarizer.articles == [] and slack.received("chat.unfurl") == []
