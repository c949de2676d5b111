"""A fake of Slack's Web API on 127.0.0.1 (a free port), for the bot's tests.

It serves `POST /api/{method}` for `auth.test`, `chat.postMessage`, `chat.postEphemeral` and `files.info` with
Slack's response shapes (HTTP 200, `ok: false` and an error code on failure; HTTP 429 `ratelimited` with
`Retry-After` when rate-limited; the bot token is checked as Slack checks it), and `POST /response/{key}`, a
`response_url`. It records every request it receives and lets a test wait for them:

    async with FakeSlackApi(token="xoxb-test") as slack:
        settings = Settings(..., slack_bot_token="xoxb-test", slack_api_url=slack.api_url)
        ... send a slash command whose response_url is slack.response_url() ...
        [reply] = await slack.wait_for("response_url")

`fail(method, error)` makes the next call to a method fail with that Slack error code (for `response_url`,
`status` says which HTTP status); `rate_limit(method, times)` answers 429 that many times; `snippets` holds the
content `files.info` returns. `signed`, `command_body` and `shortcut_body` make what Slack sends the bot.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

from service.render.slack_blocks import escape

RESPONSE_URL = "response_url"  # the name under which calls to a response_url are recorded

_BOT = {"team_id": "T0FAKE", "team": "Acme", "user_id": "U0BOT", "user": "incident-bot", "bot_id": "B0BOT"}


@dataclass(frozen=True)
class Received:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]


class FakeSlackApi:
    def __init__(self, *, token: str = "xoxb-test") -> None:
        self.token = token
        self.requests: list[Received] = []
        self._failures: dict[str, str] = {}
        self._response_url_status = 404
        self._rate_limited: dict[str, int] = {}
        self.snippets: dict[str, str] = {}  # file id -> its content, for files.info
        self._changed = asyncio.Condition()
        self._serial = itertools.count(1)
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # files.info is a GET
        app.router.add_post("/response/{key:.+}", self._response_url)
        self._server = TestServer(app, host="127.0.0.1")  # a free port on loopback
        self._answers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": lambda body: {
                "url": "https://acme.slack.com/",
                "is_enterprise_install": False,
                **_BOT,
            },
            "chat.postMessage": self._posted,
            "chat.postEphemeral": lambda body: {"message_ts": self._ts()},
            "files.info": self._file_info,
            "chat.unfurl": lambda body: {},
        }

    # lifecycle
    async def __aenter__(self) -> FakeSlackApi:
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()

    # addresses
    @property
    def api_url(self) -> str:
        return str(self._server.make_url("/api/"))

    def response_url(self, key: str = "T0FAKE/1/hook") -> str:
        return str(self._server.make_url(f"/response/{key}"))

    # scripting and inspection
    def fail(self, method: str, error: str, *, status: int = 404) -> None:
        self._failures[method] = error
        if method == RESPONSE_URL:
            self._response_url_status = status

    def rate_limit(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 `ratelimited` with `Retry-After: 0`."""
        self._rate_limited[method] = times

    def received(self, method: str) -> list[Received]:
        return [r for r in self.requests if r.method == method]

    async def wait_for(self, method: str, *, count: int = 1, timeout_s: float = 5.0) -> list[Received]:
        """The requests to `method` once there are at least `count` of them (TimeoutError after `timeout_s`)."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: len(self.received(method)) >= count)
        return self.received(method)

    # serving
    async def _record(self, method: str, request: web.Request) -> dict[str, Any]:
        if request.method == "GET":
            body: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            body = await request.json()
        else:
            body = dict(await request.post())
        async with self._changed:
            self.requests.append(Received(method, body, dict(request.headers)))
            self._changed.notify_all()
        return body

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._record(method, request)
        if method not in self._answers:
            return web.json_response({"ok": False, "error": "unknown_method"})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self._rate_limited.get(method):
            self._rate_limited[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
            )
        if method in self._failures:
            return web.json_response({"ok": False, "error": self._failures.pop(method)})
        return web.json_response({"ok": True, **self._answers[method](body)})

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record(RESPONSE_URL, request)
        if RESPONSE_URL in self._failures:
            return web.Response(status=self._response_url_status, text=self._failures.pop(RESPONSE_URL))
        return web.Response(text="ok")

    def _ts(self) -> str:
        return f"1700000000.{next(self._serial):06d}"

    def _file_info(self, body: dict[str, Any]) -> dict[str, Any]:
        file_id = str(body.get("file", ""))
        if file_id not in self.snippets:
            return {"ok": False, "error": "file_not_found"}
        content = self.snippets[file_id]
        return {"file": {"id": file_id, "mode": "snippet", "preview": content[:100]}, "content": content}

    def _posted(self, body: dict[str, Any]) -> dict[str, Any]:
        ts = self._ts()
        message = {"type": "message", "bot_id": _BOT["bot_id"], "text": body.get("text", ""), "ts": ts}
        return {"channel": body.get("channel"), "ts": ts, "message": message}


# --- what Slack sends ------------------------------------------------------------------------------------


def signed(body: str, *, secret: str, age_s: int = 0) -> dict[str, str]:
    """The headers Slack sends with `body`: its form content type, a timestamp `age_s` old and its signature."""
    timestamp = str(int(time.time()) - age_s)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


_TRIGGERS = itertools.count(1)


def trigger_id() -> str:
    """A fresh trigger id, as Slack gives each interaction its own."""
    return f"{next(_TRIGGERS)}.2.3"


def command_body(text: str, response_url: str, *, escaped: bool = True, trigger: str | None = None) -> str:
    """A slash command as Slack posts it; Slack escapes `&`, `<` and `>` in the text (`escaped=False`: the text
    is already Slack markup, such as `<https://…|label>`)."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T0FAKE",
            "team_domain": "acme",
            "channel_id": "C0INCIDENTS",
            "channel_name": "incidents",
            "user_id": "U0ANALYST",
            "user_name": "analyst",
            "command": "/incident",
            "text": escape(text) if escaped else text,
            "api_app_id": "A0BOT",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger or trigger_id(),
        }
    )


MESSAGE_TS = "1707730000.000200"


def shortcut_body(
    message: dict[str, Any], response_url: str, *, channel: str = "C0INCIDENTS", trigger: str | None = None
) -> str:
    """The message shortcut on `message` (its `text` already in Slack markup) as Slack posts it."""
    payload = {
        "type": "message_action",
        "callback_id": "summarize_incident",
        "trigger_id": trigger or trigger_id(),
        "action_ts": "1707730100.000300",
        "token": "legacy-verification-token",
        "team": {"id": "T0FAKE", "domain": "acme"},
        "user": {"id": "U0ANALYST", "name": "analyst", "team_id": "T0FAKE"},
        "channel": {"id": channel, "name": "incidents"},
        "message_ts": MESSAGE_TS,
        "message": {"type": "message", "user": "U0REPORTER", "ts": MESSAGE_TS, **message},
        "response_url": response_url,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})
