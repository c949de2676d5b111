"""API keys: `/v1/*` needs `Authorization: Bearer KEY` when API_KEYS is set; operations stay open.

The route tests iterate the app's own routes, so a route added later is checked without editing this file:
every `/v1` route must depend on `require_api_key` and `rate_limit` and refuse an anonymous request, and every
other route must be on the short list of routes that are open on purpose.
"""

from __future__ import annotations

import base64
import hmac
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from service.api import deps, view
from service.config import Settings
from tests.conftest import AppClient, FakeEngine, assert_problem, sample_text

KEY = "key-one-" + "a1" * 12
SECOND_KEY = "key-two-" + "b2" * 12
ARTICLE = {"text": sample_text("syria_checkpoint_shootout")}
# Open on purpose: liveness, readiness, metrics (protect them at the network: docs/security.md), the API's own
# description, and Slack's endpoint (it checks Slack's request signature instead).
OPEN_PATHS = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/slack/events",
    "/assets/evidence",  # the evidence page's script and style sheet: code, no data
}
# The evidence page takes an evidence link's signed token instead of a key (a browser has none to send); it
# checks the key itself when no token is given, and takes a rate-limit token either way.
KEY_OR_VIEW_TOKEN = {view.view_scope}


def keyed(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "engine": "extractive",
        "cache_url": "memory://",
        "api_keys": f"{KEY},{SECOND_KEY}",
        "rate_limit_per_minute": 0,
    }
    return Settings(**(base | overrides))


def assert_unauthorized(response: httpx.Response) -> None:
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert KEY not in response.text and SECOND_KEY not in response.text


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Basic {base64.b64encode(f'user:{KEY}'.encode()).decode()}",
        f"Token {KEY}",
        f"{KEY}",
        "Bearer wrong-key-but-long-enough-000",
        f"Bearer {KEY[:-1]}",  # a prefix of a key
        f"Bearer {KEY}x",  # a key with more after it
        f"Bearer {KEY.upper()}",
        f"Bearer {KEY},{SECOND_KEY}",
        "Bearer \u00e9" + KEY[1:],
    ],
    ids=[
        "missing",
        "empty",
        "scheme-only",
        "scheme-and-space",
        "basic",
        "other-scheme",
        "no-scheme",
        "wrong",
        "prefix",
        "suffix",
        "case",
        "both-keys",
        "non-ascii",
    ],
)
async def test_a_request_without_a_valid_key_is_401(
    app_client: AppClient, fake_engine: FakeEngine, authorization: str | None
) -> None:
    headers = {} if authorization is None else {b"Authorization": authorization.encode()}
    async with app_client(keyed(), engine=fake_engine) as client:
        response = await client.post("/v1/summaries", json=ARTICLE, headers=headers)
    assert_unauthorized(response)
    assert fake_engine.calls == 0


async def test_a_key_in_the_query_string_or_another_header_is_not_accepted(
    app_client: AppClient, fake_engine: FakeEngine
) -> None:
    async with app_client(keyed(), engine=fake_engine) as client:
        assert_unauthorized(await client.post("/v1/summaries", json=ARTICLE, params={"api_key": KEY}))
        assert_unauthorized(await client.post("/v1/summaries", json=ARTICLE, headers={"X-API-Key": KEY}))
        client.cookies.set("api_key", KEY)
        assert_unauthorized(await client.post("/v1/summaries", json=ARTICLE))


@pytest.mark.parametrize("authorization", [f"Bearer {KEY}", f"Bearer {SECOND_KEY}", f"bearer {KEY}"])
async def test_any_configured_key_is_accepted(
    app_client: AppClient, fake_engine: FakeEngine, authorization: str
) -> None:
    """Several keys let one be rotated out while clients move to the next; the scheme is case-insensitive."""
    async with app_client(keyed(), engine=fake_engine) as client:
        created = await client.post("/v1/summaries", json=ARTICLE, headers={"Authorization": authorization})
        assert created.status_code == 200, created.text
        fetched = await client.get(created.headers["location"], headers={"Authorization": authorization})
        assert fetched.status_code == 200 and fetched.json()["id"] == created.json()["id"]


async def test_every_key_is_compared_in_constant_time(
    app_client: AppClient, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def recording_compare(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(deps.hmac, "compare_digest", recording_compare)
    async with app_client(keyed(), engine=fake_engine) as client:
        for offered in (KEY, "wrong-key-but-long-enough-000"):
            compared.clear()
            await client.post("/v1/summaries", json=ARTICLE, headers={"Authorization": f"Bearer {offered}"})
            # all keys, even after a match: the time taken says nothing about which key matched
            assert sorted(b for _, b in compared) == sorted([KEY.encode(), SECOND_KEY.encode()])


async def test_without_api_keys_the_api_is_open(app_client: AppClient, fake_engine: FakeEngine) -> None:
    async with app_client(keyed(api_keys=""), engine=fake_engine) as client:
        assert (await client.post("/v1/summaries", json=ARTICLE)).status_code == 200


# --- every route ------------------------------------------------------------------------------------------


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _routes(app: FastAPI) -> list[Any]:
    """Every route the app serves, those of included routers too (FastAPI nests them since 0.16x)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: `app.routes` is already flat
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "0" * 32, path)


@pytest.fixture
def full_settings() -> Settings:
    """Every optional router switched on (Slack), so that its routes are checked too."""
    return keyed(slack_signing_secret="0f1e2d3c4b5a69788796a5b4c3d2e1f0", slack_bot_token="xoxb-test")


async def test_every_v1_route_requires_a_key_and_is_rate_limited(
    app_client: AppClient, fake_engine: FakeEngine, full_settings: Settings
) -> None:
    async with app_client(full_settings, engine=fake_engine) as client:
        app: FastAPI = client.app  # type: ignore[attr-defined]
        v1 = [r for r in _routes(app) if r.path.startswith("/v1/")]
        assert {r.path for r in v1} >= {"/v1/summaries", "/v1/summaries/{summary_id}"}
        for route in v1:
            calls = _calls(route.dependant)
            assert calls & {deps.require_api_key, *KEY_OR_VIEW_TOKEN}, route.path
            assert calls & {deps.rate_limit, *KEY_OR_VIEW_TOKEN}, route.path
            for method in sorted(route.methods or ()):
                if method == "HEAD":
                    continue
                response = await client.request(method, _concrete(route.path), json={})
                assert_unauthorized(response)
    assert fake_engine.calls == 0


async def test_every_other_route_is_open_on_purpose(
    app_client: AppClient, fake_engine: FakeEngine, full_settings: Settings
) -> None:
    async with app_client(full_settings, engine=fake_engine) as client:
        app: FastAPI = client.app  # type: ignore[attr-defined]
        others = {r.path for r in _routes(app) if not r.path.startswith("/v1/")}
        assert others <= OPEN_PATHS, others - OPEN_PATHS
        for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
            assert (await client.get(path)).status_code == 200, path
        forged = await client.post(
            "/slack/events", content=b"command=%2Fincident", headers={"X-Slack-Signature": "v0=0"}
        )
        assert forged.status_code == 401  # Slack's endpoint has its own guard: the request signature


async def test_the_openapi_document_declares_the_bearer_scheme(app_client: AppClient) -> None:
    async with app_client(keyed()) as client:
        spec = (await client.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert any(
        s == {"type": "http", "scheme": "bearer", "description": s.get("description")}
        for s in schemes.values()
    )
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            assert bool(operation.get("security")) == path.startswith("/v1/"), path
