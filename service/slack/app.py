"""The Slack bot: `/incident <article or link>` and the message shortcut `summarize_incident`, on slack-bolt.

Both listeners acknowledge Slack at once (Slack gives up after 3 s) and summarize afterwards in bolt's lazy
listeners, which run as asyncio tasks of the serving process. Before anything is posted in a channel the
request goes through the input guard (`service.slack.input`): `help`, a text too short to be an article, or a
bare mention is answered privately; a link is summarized as its page.

- `/incident`: the acknowledgement says what is being summarized (only the user sees it); the summary goes to
  the channel through the command's `response_url`, and when that fails (expired: 404; Slack: 5xx) through
  `chat.postMessage` as the bot.
- The shortcut: the user is told at once, privately, "Summarizing… I'll reply in this thread"; the summary is
  posted in the thread of the message it was used on.
- Every summary names who asked for it. Whatever goes wrong reaches the user as a short ephemeral message (on
  the `response_url`, else `chat.postEphemeral`), worded for DMs and archived channels.
- A repeated interaction (a replayed request, Slack's retry) is acknowledged and dropped
  (`service.slack.dedupe`); a `ratelimited` answer from Slack is retried as Slack says
  (`service.slack.delivery`).

The bot is a thin client of the same summarizer as the HTTP API; it renders with `render.slack_blocks`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest, AsyncRespond
from slack_bolt.lazy_listener.async_internals import to_runnable_function
from slack_bolt.lazy_listener.async_runner import AsyncLazyListenerRunner
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from service.article import ArticleIn
from service.cache.shared_flight import SharedLocks
from service.config import Settings
from service.errors import SummarizerError
from service.metrics import Metrics
from service.render import slack_blocks
from service.result import SummaryResult
from service.slack import input as slack_input
from service.slack import messages
from service.slack.dedupe import SeenInteractions, interaction_id
from service.slack.delivery import build_web_client, slack_error_code
from service.view_links import ViewLinks

log = logging.getLogger(__name__)

COMMAND = "/incident"
SHORTCUT_CALLBACK_ID = "summarize_incident"
LOGGED_CHARS = 300  # no log line of the bot carries more of what Slack (or a forger) sent
UNFURLS = 3  # link previews made for one message

plain_text = slack_input.plain_text  # the name the bot's callers know


class SummarizerLike(Protocol):
    """What the bot needs of `service.summarizer.Summarizer`."""

    async def summarize(self, article: ArticleIn, *, refresh: bool = False) -> SummaryResult: ...


class CappedLog(logging.Filter):
    """Cuts every record to `LOGGED_CHARS` characters: bolt logs whole request bodies in some warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if len(message) > LOGGED_CHARS:
            record.msg = f"{message[:LOGGED_CHARS]}… ({len(message):,} characters)"
            record.args = None
        return True


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
Tell = Callable[[str], Awaitable[None]]


class _Listeners:
    def __init__(
        self,
        summarizer: SummarizerLike,
        client: AsyncWebClient,
        view_links: ViewLinks,
        *,
        unfurl: bool = False,
    ) -> None:
        self._summarizer = summarizer
        self._client = client
        self._view_links = view_links
        self._unfurl = unfurl

    # --- /incident ---------------------------------------------------------------------------------

    async def ack_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        wanted = slack_input.from_command(command.get("text", ""))
        if wanted.notice is not None:
            await ack(text=wanted.notice, response_type="ephemeral")
        else:
            chars = len(wanted.text) if wanted.text is not None else None
            await ack(text=messages.summarizing(chars=chars, url=wanted.url), response_type="ephemeral")

    async def summarize_command(self, command: dict[str, Any], respond: AsyncRespond) -> None:
        wanted = slack_input.from_command(command.get("text", ""))
        if wanted.notice is not None:
            return  # the acknowledgement has already told the user
        channel, user = str(command.get("channel_id", "")), command.get("user_id")
        log.info("slack: %s from %s in %s", COMMAND, user, channel)

        async def post(message: dict[str, Any]) -> None:
            message = slack_blocks.with_requester(message, user)
            if not await _responded(respond, **message, response_type="in_channel"):
                # the response_url is gone (expired, or Slack failed): post as the bot instead
                await self._client.chat_postMessage(
                    channel=channel, unfurl_links=False, unfurl_media=False, **message
                )

        await self._deliver(wanted, post, self._teller(respond, channel, user), channel)

    # --- the message shortcut ----------------------------------------------------------------------

    async def ack_shortcut(self, ack: AsyncAck) -> None:
        await ack()

    async def ack_link_button(self, ack: AsyncAck) -> None:
        """A click on "View evidence": Slack opens the link itself, and still expects an acknowledgement."""
        await ack()

    async def summarize_message(self, shortcut: dict[str, Any], respond: AsyncRespond) -> None:
        message = shortcut.get("message", {})
        channel, user = str(shortcut.get("channel", {}).get("id", "")), shortcut.get("user", {}).get("id")
        tell = self._teller(respond, channel, user)
        wanted = slack_input.from_message(message, await self._snippets(message))
        if wanted.notice is not None:
            await tell(wanted.notice)
            return
        log.info("slack: %s from %s in %s", SHORTCUT_CALLBACK_ID, user, channel)
        await tell(messages.SUMMARIZING_IN_THREAD)

        async def post(rendered: dict[str, Any]) -> None:
            await self._client.chat_postMessage(
                channel=channel,
                thread_ts=message.get("thread_ts") or message["ts"],
                unfurl_links=False,
                unfurl_media=False,
                **slack_blocks.with_requester(rendered, user),
            )

        await self._deliver(wanted, post, tell, channel)

    async def _snippets(self, message: Mapping[str, Any]) -> list[str]:
        """The text of the message's snippets: `files.info` gives the whole of it (scope `files:read`); the
        payload's own `preview` (the first lines) stands in when it cannot."""
        texts = []
        for file in slack_input.snippet_files(message):
            text = str(file.get("preview") or "")
            try:
                info = await self._client.files_info(file=str(file.get("id", "")))
                file_info: Any = info.get("file") or {}
                text = str(
                    info.get("content") or file_info.get("content") or file_info.get("preview") or text
                )
            except SlackApiError as error:
                log.info(
                    "slack: files.info failed (%s); using the snippet's preview", slack_error_code(error)
                )
            texts.append(text)
        return texts

    # --- link previews (`link_shared` → `chat.unfurl`, with SLACK_UNFURL) -------------------------------

    async def ack_event(self, ack: AsyncAck) -> None:
        await ack()

    async def unfurl(self, event: dict[str, Any]) -> None:
        """A preview of each shared link (at most `UNFURLS`) that can be summarized: its summary's blocks."""
        if not self._unfurl:
            return  # the app may be subscribed to link_shared while the service does not unfurl
        urls = [link.get("url") for link in event.get("links", []) if isinstance(link, dict)]
        unfurls: dict[str, Any] = {}
        for url in [u for u in urls if isinstance(u, str)][:UNFURLS]:
            try:
                result = await self._summarizer.summarize(ArticleIn(url=url))
            except SummarizerError as error:
                log.info("slack: no preview for a shared link: %s", type(error).__name__)
                continue
            unfurls[url] = {"blocks": slack_blocks.render(self._view_links.attach(result))["blocks"]}
        if not unfurls:
            return
        if event.get("unfurl_id") and event.get("source"):
            target: dict[str, Any] = {"unfurl_id": event["unfurl_id"], "source": event["source"]}
        else:
            target = {"channel": event.get("channel"), "ts": event.get("message_ts")}
        try:
            await self._client.chat_unfurl(unfurls=unfurls, **target)
        except SlackApiError as error:
            log.warning("slack: chat.unfurl failed: %s", slack_error_code(error))

    # --- both --------------------------------------------------------------------------------------

    def _teller(self, respond: AsyncRespond, channel: str, user: str | None) -> Tell:
        """Tells the user privately: on the response_url, else with chat.postEphemeral."""

        async def tell(text: str) -> None:
            if await _responded(respond, text=text, response_type="ephemeral"):
                return
            if user:
                try:
                    await self._client.chat_postEphemeral(channel=channel, user=user, text=text)
                except SlackApiError as error:
                    log.warning("slack: could not tell %s privately: %s", user, slack_error_code(error))

        return tell

    async def _deliver(self, wanted: slack_input.Wanted, post: Post, tell: Tell, channel: str) -> None:
        """Summarize, render and post; or tell the user, privately, why not."""
        article = ArticleIn(text=wanted.text) if wanted.text is not None else ArticleIn(url=wanted.url)
        try:
            result = await self._summarizer.summarize(article)
            await post(slack_blocks.render(self._view_links.attach(result)))
            return
        except SummarizerError as error:
            log.info("slack: no summary: %s", type(error).__name__)
            notice = messages.error_message(error)
        except SlackApiError as error:
            code = slack_error_code(error)
            log.warning("slack: posting the summary failed: %s", code)
            notice = messages.cannot_post(code, channel)
        except Exception:
            log.exception("slack: summarizing failed")
            notice = messages.APOLOGY
        await tell(notice)


async def _responded(respond: AsyncRespond, **message: Any) -> bool:
    """Send `message` to the interaction's response_url; False (logged, size-capped) when that failed."""
    try:
        response = await respond(**message)
    except Exception as error:  # the response_url could not be reached at all
        log.warning("slack: response_url failed: %s", type(error).__name__)
        return False
    if response.status_code != 200:
        log.warning("slack: response_url answered %s: %.100s", response.status_code, response.body)
        return False
    return True


def build_slack_bot(
    settings: Settings,
    summarizer: SummarizerLike,
    metrics: Metrics | None = None,
    shared: SharedLocks | None = None,
) -> SlackBot:
    """The bolt app with its listeners, and the tasks its lazy listeners run in. No network at start-up.

    Bolt's own signature check is off: `routes.slack_router` checks every request before bolt sees it, so that
    a forged one is counted in `/metrics` and never logged. `shared`: the cache the replicas share (Redis), so
    that a repeat reaching another replica is dropped too."""
    client = build_web_client(settings)
    if settings.slack_signing_secret is None or client is None:
        raise ValueError("the Slack bot needs both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN")
    metrics = metrics or Metrics()
    bolt_log = logging.getLogger(f"{__name__}.bolt")
    bolt_log.addFilter(_CAPPED)
    app = AsyncApp(
        name="incident-summarizer",
        logger=bolt_log,
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        request_verification_enabled=False,
        process_before_response=False,
    )
    tasks = LazyTasks(app.logger)
    app.listener_runner.lazy_listener_runner = tasks
    seen = SeenInteractions(shared=shared)

    async def drop_repeats(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        key = interaction_id(req.body)
        if key is not None and not await seen.first_time(key):
            retry = (req.headers.get("x-slack-retry-num") or ["-"])[0]
            log.info("slack: dropped a repeat of %s (Slack retry %s)", key, retry)
            metrics.slack_repeat()
            return BoltResponse(status=200, body="")
        if key is None:
            return await next()
        handled = False
        try:
            response = await next()
            handled = response is None or response.status < 500  # bolt's next() may answer None
            return response
        finally:  # a failed first delivery leaves Slack's retry to be handled
            await seen.done(key, handled=handled)

    app.middleware(drop_repeats)
    listeners = _Listeners(
        summarizer, client, ViewLinks.from_settings(settings), unfurl=settings.slack_unfurl
    )
    app.event("link_shared")(ack=listeners.ack_event, lazy=[listeners.unfurl])
    app.command(COMMAND)(ack=listeners.ack_command, lazy=[listeners.summarize_command])
    app.message_shortcut(SHORTCUT_CALLBACK_ID)(ack=listeners.ack_shortcut, lazy=[listeners.summarize_message])
    app.action(slack_blocks.VIEW_EVIDENCE_ACTION_ID)(listeners.ack_link_button)
    return SlackBot(app, tasks)


_CAPPED = CappedLog()
