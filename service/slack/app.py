"""The Slack bot: `/incident <article>` and the message shortcut `summarize_incident`, on slack-bolt.

Both listeners acknowledge Slack at once (Slack gives up after 3 s) and summarize afterwards in bolt's lazy
listeners, which run as asyncio tasks of the serving process. The slash command answers through its
`response_url` (`in_channel`); the shortcut posts in the thread of the message it was used on. Whatever goes
wrong reaches the user as a short ephemeral message on the interaction's `response_url`.

The bot is a thin client of the same summarizer as the HTTP API; it renders with `render.slack_blocks`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest, AsyncRespond
from slack_bolt.lazy_listener.async_internals import to_runnable_function
from slack_bolt.lazy_listener.async_runner import AsyncLazyListenerRunner
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from service.article import ArticleIn
from service.config import Settings
from service.errors import SummarizerError
from service.render import slack_blocks
from service.result import SummaryResult
from service.slack import messages
from service.view_links import ViewLinks

log = logging.getLogger(__name__)

COMMAND = "/incident"
SHORTCUT_CALLBACK_ID = "summarize_incident"

# `<https://example.com|label>`, `<@U123>`, `<#C123|general>`, `<!here>`: Slack's markup in incoming text.
_SLACK_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


class SummarizerLike(Protocol):
    """What the bot needs of `service.summarizer.Summarizer`."""

    async def summarize(self, article: ArticleIn, *, refresh: bool = False) -> SummaryResult: ...


def plain_text(slack_text: str) -> str:
    """The text a user typed, from Slack's wire format: links and mentions become their labels (or their
    targets) and `&amp;`, `&lt;`, `&gt;` the characters they stand for."""
    text = _SLACK_MARKUP.sub(lambda m: m.group(2) or m.group(1), slack_text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class LazyTasks(AsyncLazyListenerRunner):
    """Runs bolt's lazy listeners as asyncio tasks and keeps hold of them.

    Bolt's own runner drops its reference to each task (so one may be garbage-collected mid-flight) and
    cannot wait for them; this one lets shutdown finish the summaries still being written. (The base class's
    `run` calls the coroutine it builds, a bug in slack-bolt 1.30, so tasks wrap `to_runnable_function`, as
    bolt's own asyncio runner does.)
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, function: Callable[..., Awaitable[None]], request: AsyncBoltRequest) -> None:
        task = asyncio.create_task(
            to_runnable_function(internal_func=function, logger=self.logger, request=request)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for the running listeners, then cancel those still running."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class SlackBot:
    app: AsyncApp
    tasks: LazyTasks


Post = Callable[[dict[str, Any]], Awaitable[None]]


class _Listeners:
    def __init__(self, summarizer: SummarizerLike, view_links: ViewLinks) -> None:
        self._summarizer = summarizer
        self._view_links = view_links

    async def ack_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        text = plain_text(command.get("text", "")).strip()
        if not text:
            await ack(text=messages.USAGE, response_type="ephemeral")
        else:
            await ack(text=f"Summarizing the article ({len(text):,} characters)…", response_type="ephemeral")

    async def summarize_command(self, command: dict[str, Any], respond: AsyncRespond) -> None:
        text = plain_text(command.get("text", "")).strip()
        if not text:
            return  # the acknowledgement has already shown how to use the command
        log.info("slack: %s from %s in %s", COMMAND, command.get("user_id"), command.get("channel_id"))

        async def post(message: dict[str, Any]) -> None:
            await _respond(respond, **message, response_type="in_channel")

        await self._deliver(text, post, respond)

    async def ack_shortcut(self, ack: AsyncAck) -> None:
        await ack()

    async def ack_link_button(self, ack: AsyncAck) -> None:
        """A click on "View evidence": Slack opens the link itself, and still expects an acknowledgement."""
        await ack()

    async def summarize_message(
        self, shortcut: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        message = shortcut.get("message", {})
        text = plain_text(message.get("text", "")).strip()
        if not text:
            await _respond(respond, text=messages.NO_MESSAGE_TEXT, response_type="ephemeral")
            return
        channel = shortcut["channel"]["id"]
        log.info("slack: %s from %s in %s", SHORTCUT_CALLBACK_ID, shortcut.get("user", {}).get("id"), channel)

        async def post(rendered: dict[str, Any]) -> None:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=message.get("thread_ts") or message["ts"],
                unfurl_links=False,
                unfurl_media=False,
                **rendered,
            )

        await self._deliver(text, post, respond)

    async def _deliver(self, text: str, post: Post, respond: AsyncRespond) -> None:
        """Summarize, render and post; or tell the user, privately, why not."""
        try:
            result = await self._summarizer.summarize(ArticleIn(text=text))
            await post(slack_blocks.render(self._view_links.attach(result)))
            return
        except SummarizerError as error:
            log.info("slack: no summary: %s: %s", type(error).__name__, error.message)
            notice = messages.error_message(error)
        except SlackApiError as error:
            code = error.response.get("error", "unknown_error")
            log.warning("slack: posting the summary failed: %s", code)
            notice = messages.cannot_post(code)
        except Exception:
            log.exception("slack: summarizing failed")
            notice = messages.APOLOGY
        await _respond(respond, text=notice, response_type="ephemeral")


async def _respond(respond: AsyncRespond, **message: Any) -> None:
    response = await respond(**message)
    if response.status_code != 200:
        log.warning("slack: response_url answered %s: %s", response.status_code, response.body)


def _api_url(configured: str | None) -> str:
    url = configured or AsyncWebClient.BASE_URL
    return url if url.endswith("/") else url + "/"


def build_slack_bot(settings: Settings, summarizer: SummarizerLike) -> SlackBot:
    """The bolt app with its listeners, and the tasks its lazy listeners run in. No network at start-up."""
    if settings.slack_signing_secret is None or settings.slack_bot_token is None:
        raise ValueError("the Slack bot needs both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN")
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=_api_url(settings.slack_api_url)
    )
    app = AsyncApp(
        name="incident-summarizer",
        logger=log,
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=False,
    )
    tasks = LazyTasks(app.logger)
    app.listener_runner.lazy_listener_runner = tasks
    listeners = _Listeners(summarizer, ViewLinks.from_settings(settings))
    app.command(COMMAND)(ack=listeners.ack_command, lazy=[listeners.summarize_command])
    app.message_shortcut(SHORTCUT_CALLBACK_ID)(ack=listeners.ack_shortcut, lazy=[listeners.summarize_message])
    app.action(slack_blocks.VIEW_EVIDENCE_ACTION_ID)(listeners.ack_link_button)
    return SlackBot(app, tasks)
