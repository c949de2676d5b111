"""Hostile clients: text no encoding can carry, bodies sent by callers without a key or out of tokens, an
OpenAPI document that says what is required, and results other keys should not read or overwrite.

Each test would fail without the change it names (issue 17): a lone surrogate was a 500 (text) or a text cut
short (html); a body was read and parsed before the key and the rate limit were checked; the document accepted
a body with neither `text` nor `html` and advertised bearer auth with no keys set; any key could read, reveal
and overwrite any other key's results.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from starlette.types import Message

from service.config import Settings
from service.main import create_app
from tests.conftest import AppClient, FakeEngine, assert_problem, sample_text

KEY_A = "key-a-" + "a1" * 10
KEY_B = "key-b-" + "b2" * 10
SYRIA = sample_text("syria_checkpoint_shootout")
SURROGATE_TEXT = "Two soldiers \\udfff were killed near Idlib on Monday, officials said."  # JSON's escape


def settings_of(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"engine": "extractive", "cache_url": "memory://", "rate_limit_per_minute": 0}
    return Settings(**(base | overrides))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- 1. text that no encoding can carry -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("text", '{"text": "' + SURROGATE_TEXT + '"}'),
        ("html", '{"html": "<p>' + SURROGATE_TEXT + '</p>"}'),
    ],
)
async def test_a_lone_surrogate_is_422_invalid_text_and_logs_no_error(
    app_client: AppClient, fake_engine: FakeEngine, caplog: pytest.LogCaptureFixture, field: str, body: str
) -> None:
    async with app_client(settings_of(), engine=fake_engine) as client:
        with caplog.at_level(logging.WARNING):
            response = await client.post(
                "/v1/summaries", content=body.encode(), headers={"content-type": "application/json"}
            )
    problem = assert_problem(response, 422, "invalid-text")
    assert problem["field"] == field and "U+DFFF" in problem["detail"]
    assert fake_engine.calls == 0
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("field", ["title", "source_url"])
async def test_a_lone_surrogate_in_the_metadata_is_a_422_not_a_500(
    app_client: AppClient, fake_engine: FakeEngine, field: str
) -> None:
    body = '{"text": "Two soldiers were killed near Idlib.", "' + field + '": "' + SURROGATE_TEXT + '"}'
    async with app_client(settings_of(), engine=fake_engine) as client:
        response = await client.post(
            "/v1/summaries", content=body.encode(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 422 and fake_engine.calls == 0


# --- 3. the key and the rate limit before the body ----------------------------------------------------------


class UnreadBody:
    """The ASGI `receive` of a request whose body must not be read: counts the calls, offers a hostile body."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> Message:
        self.calls += 1
        return {"type": "http.request", "body": b"{" * 100_000, "more_body": True}


async def call_raw(app: FastAPI, headers: dict[str, str]) -> tuple[int, UnreadBody]:
    """POST /v1/summaries straight into the ASGI app; the status it answered and the body's reader."""
    receive = UnreadBody()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/summaries",
        "raw_path": b"/v1/summaries",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("192.0.2.7", 40000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert (b"connection", b"close") in start["headers"]  # the unread body ends the connection
    return start["status"], receive


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "application/json", "content-length": "50000000"},  # declared far over the limit
        {"content-type": "application/json", "transfer-encoding": "chunked"},
        {"content-type": "application/json", "authorization": "Bearer not-a-key-of-this-deployment"},
    ],
    ids=["huge", "chunked", "wrong-key"],
)
async def test_without_a_valid_key_the_body_is_never_read(headers: dict[str, str]) -> None:
    app = create_app(settings_of(api_keys=KEY_A))
    status, body = await call_raw(app, headers)
    assert status == 401 and body.calls == 0


async def test_a_caller_out_of_tokens_is_refused_before_its_body_is_read() -> None:
    app = create_app(settings_of(api_keys=KEY_A, rate_limit_per_minute=1, rate_limit_burst=1))
    headers = {"content-type": "application/json", "content-length": "100"} | bearer(KEY_A)
    first, first_body = await call_raw(app, headers | {"content-length": "50000000"})
    assert first == 413 and first_body.calls == 0  # a token spent, then the declared size refused
    second, second_body = await call_raw(app, headers)
    assert second == 429 and second_body.calls == 0


async def test_an_open_api_limits_each_address_before_reading_the_body() -> None:
    app = create_app(settings_of(rate_limit_per_minute=1, rate_limit_burst=1))
    headers = {"content-type": "application/json", "content-length": "50000000"}
    assert (await call_raw(app, headers))[0] == 413
    status, body = await call_raw(app, headers)
    assert status == 429 and body.calls == 0


async def test_an_admitted_request_pays_one_token_not_two(
    app_client: AppClient, fake_engine: FakeEngine
) -> None:
    """The route's own dependency chain sees that the gate admitted the request and takes no second token."""
    settings = settings_of(api_keys=KEY_A, rate_limit_per_minute=1, rate_limit_burst=2)
    async with app_client(settings, engine=fake_engine) as client:
        statuses = [
            (await client.post("/v1/summaries", json={"text": SYRIA}, headers=bearer(KEY_A))).status_code
            for _ in range(3)
        ]
    assert statuses == [200, 200, 429]


# --- 3. the OpenAPI document ---------------------------------------------------------------------------------


def openapi_of(settings: Settings) -> dict[str, Any]:
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def test_the_document_asks_for_a_key_only_when_keys_are_set() -> None:
    def secured(document: dict[str, Any]) -> set[str]:
        return {path for path, ops in document["paths"].items() for op in ops.values() if op.get("security")}

    open_api = openapi_of(settings_of())
    assert "securitySchemes" not in open_api.get("components", {}) and secured(open_api) == set()
    keyed = openapi_of(settings_of(api_keys=KEY_A))
    assert keyed["components"]["securitySchemes"]
    assert secured(keyed) == {
        "/v1/summaries",
        "/v1/summaries/{summary_id}",
        "/v1/summaries/{summary_id}/view",
        "/v1/summaries/{summary_id}/deliveries",
    }


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"text": "An article."}, True),
        ({"html": "<p>An article.</p>", "title": "T"}, True),
        ({"text": "An article.", "html": None}, True),
        ({}, False),
        ({"title": "only a title"}, False),
        ({"text": None}, False),
        ({"text": "An article.", "html": "<p>Another.</p>"}, False),
        ({"url": "https://news.example/a"}, True),
        ({"url": "https://news.example/a", "text": None}, True),
        ({"url": "https://news.example/a", "text": "An article."}, False),
        ({"url": "https://news.example/a", "html": "<p>An article.</p>"}, False),
    ],
)
def test_the_document_requires_exactly_one_of_text_html_and_url(body: dict[str, Any], valid: bool) -> None:
    document = openapi_of(settings_of())
    schema = document["components"]["schemas"]["ArticleIn"]
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(body))
    assert (errors == []) is valid, errors


# --- 4. who reads and who refreshes a result --------------------------------------------------------------


async def post(client: httpx.AsyncClient, key: str, *, refresh: bool = False) -> httpx.Response:
    headers = bearer(key) | ({"Cache-Control": "no-cache"} if refresh else {})
    return await client.post("/v1/summaries", json={"text": SYRIA}, headers=headers)


async def test_shared_results_are_the_default_any_key_reads_them(
    app_client: AppClient, fake_engine: FakeEngine
) -> None:
    """RESULT_SCOPE=shared (the default): one computation per article for every key, documented."""
    async with app_client(settings_of(api_keys=f"{KEY_A},{KEY_B}"), engine=fake_engine) as client:
        created = (await post(client, KEY_A)).json()
        again = (await post(client, KEY_B)).json()
        read = await client.get(f"/v1/summaries/{created['id']}", headers=bearer(KEY_B))
    assert again["id"] == created["id"] and again["meta"]["cached"] is True
    assert read.status_code == 200 and fake_engine.calls == 1


async def test_scoped_results_are_read_only_by_the_keys_that_asked(
    app_client: AppClient, fake_engine: FakeEngine
) -> None:
    settings = settings_of(api_keys=f"{KEY_A},{KEY_B}", result_scope="key")
    async with app_client(settings, engine=fake_engine) as client:
        created = (await post(client, KEY_A)).json()
        url = f"/v1/summaries/{created['id']}"
        assert_problem(await client.get(url, headers=bearer(KEY_B)), 404, "not-found")
        assert (await client.get(url, headers=bearer(KEY_A))).status_code == 200
        # B asks for the same article: computed for B (nothing reveals A asked), under the same id
        theirs = (await post(client, KEY_B)).json()
        assert theirs["id"] == created["id"] and theirs["meta"]["cached"] is False
        assert fake_engine.calls == 2
        assert (await client.get(url, headers=bearer(KEY_B))).status_code == 200
        mine = (await post(client, KEY_A)).json()
        assert mine["meta"]["cached"] is True and fake_engine.calls == 2


def test_scoped_results_need_api_keys() -> None:
    with pytest.raises(ValueError, match="RESULT_SCOPE=key needs API_KEYS"):
        settings_of(result_scope="key")


async def test_refreshes_are_limited_per_key(app_client: AppClient, fake_engine: FakeEngine) -> None:
    settings = settings_of(api_keys=f"{KEY_A},{KEY_B}", refresh_per_minute=2)
    async with app_client(settings, engine=fake_engine) as client:
        statuses = [(await post(client, KEY_A, refresh=True)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert_problem(await post(client, KEY_A, refresh=True), 429, "rate-limited")
        assert (await post(client, KEY_A)).json()["meta"]["cached"] is True  # plain requests still pass
        assert (await post(client, KEY_B, refresh=True)).status_code == 200  # B has a bucket of its own
    assert fake_engine.calls == 3
