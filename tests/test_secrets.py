"""Secrets stay secret: not in `repr(Settings)`, not in logs (at DEBUG, through success and failure), not in
response bodies, not in cassettes."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from service.config import Settings
from tests.conftest import AppClient, sample_text
from tests.fakes.openai_server import Fail, FaultServer, answer_from_request, reset, server_error
from tests.fakes.slack_api import RESPONSE_URL, FakeSlackApi, command_body, signed

REPO = Path(__file__).resolve().parent.parent
CASSETTES = REPO / "cassettes"

OPENAI_KEY = "sk-proj-TESTONLYa1b2c3d4e5f6g7h8i9j0k1l2m3n4"
API_KEY = "isk-live-TESTONLY-7f3a9c2e51b84d06"
OTHER_API_KEY = "isk-live-TESTONLY-0d4b8e6f2a1c9357"
WRONG_KEY = "isk-guess-TESTONLY-000000000000"
SIGNING_SECRET = "9e107d9d372bb6826bd81d3542a419d6"
BOT_TOKEN = "xoxb-1234567890-0987654321-TESTONLYbottoken"
SECRETS = (OPENAI_KEY, API_KEY, OTHER_API_KEY, WRONG_KEY, SIGNING_SECRET, BOT_TOKEN)

# Shapes of credentials, for text where the values are not known in advance (cassettes).
SECRET_SHAPES = {
    "OpenAI API key": re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}"),
    "Slack token": re.compile(r"\bxox[abposer]-[A-Za-z0-9-]{8,}"),
    "Slack signing secret": re.compile(r"signing[_-]?secret\W{0,3}[0-9a-f]{32}\b", re.IGNORECASE),
    "bearer token": re.compile(r"\bbearer\s+(?!\(redacted\)|\*+|<|\[)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
}
# Headers a cassette must not keep (SPEC §6): credentials, cookies and account identifiers.
SECRET_REQUEST_HEADERS = {
    "authorization",
    "api-key",
    "x-api-key",
    "cookie",
    "openai-organization",
    "openai-project",
}
SECRET_RESPONSE_HEADERS = {"set-cookie", "openai-organization", "openai-project"}


def secret_shapes_in(text: str) -> list[str]:
    return [name for name, shape in SECRET_SHAPES.items() if shape.search(text)]


def cassette_findings(path: Path) -> list[str]:
    """What in one cassette looks like a secret: credential-shaped text, or a header that may carry one."""
    text = path.read_text(encoding="utf-8")
    findings = [f"{path.name}: {name}" for name in secret_shapes_in(text)]
    for interaction in (yaml.safe_load(text) or {}).get("interactions", []):
        request_headers = {h.lower() for h in (interaction.get("request", {}).get("headers") or {})}
        response_headers = {h.lower() for h in (interaction.get("response", {}).get("headers") or {})}
        findings += [
            f"{path.name}: request header {h}" for h in sorted(request_headers & SECRET_REQUEST_HEADERS)
        ]
        findings += [
            f"{path.name}: response header {h}" for h in sorted(response_headers & SECRET_RESPONSE_HEADERS)
        ]
    return findings


# --- settings ----------------------------------------------------------------------------------------


def test_settings_never_show_secrets() -> None:
    settings = Settings(
        openai_api_key=OPENAI_KEY,
        api_keys=f"{API_KEY}, {OTHER_API_KEY}",
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        cache_url="memory://",
    )
    shown = (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        json.dumps(settings.model_dump(mode="json")),
        repr(settings.api_keys),
        f"{settings.openai_api_key}",
    )
    for text in shown:
        assert not [s for s in SECRETS if s in text], text
    assert settings.api_key_values() == (API_KEY, OTHER_API_KEY)  # still usable where they are needed


# --- logs and response bodies --------------------------------------------------------------------------


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_no_secret_reaches_a_log_line_or_a_response(
    app_client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Every secret set, DEBUG logging, and requests that succeed, fail upstream (401, 5xx, reset), fail
    authentication, and come from Slack: the logs and the bodies hold none of the secrets."""
    caplog.set_level(logging.DEBUG)
    responses: list[httpx.Response] = []
    async with FaultServer(default=answer_from_request) as upstream, FakeSlackApi(token=BOT_TOKEN) as slack:
        settings = Settings(
            engine="llm",
            openai_base_url=upstream.base_url,
            openai_api_key=OPENAI_KEY,
            api_keys=f"{API_KEY},{OTHER_API_KEY}",
            slack_signing_secret=SIGNING_SECRET,
            slack_bot_token=BOT_TOKEN,
            slack_api_url=slack.api_url,
            cache_url="memory://",
            max_retries=1,
            max_repairs=0,
            log_level="DEBUG",
        )
        async with app_client(settings) as client:

            async def summarize(text: str, key: str = API_KEY) -> httpx.Response:
                response = await client.post("/v1/summaries", json={"text": text}, headers=_bearer(key))
                responses.append(response)
                return response

            article = sample_text("syria_checkpoint_shootout")
            assert (await summarize(article)).status_code == 200
            upstream.script(Fail(401))
            assert (await summarize(article + "\nA second report.")).status_code == 502
            upstream.script(server_error(500), server_error(503, retry_after="0"))
            assert (await summarize(article + "\nA third report.")).status_code == 503
            upstream.script(reset(), reset())
            assert (await summarize(article + "\nA fourth report.")).status_code == 503
            assert (await summarize(article, key=WRONG_KEY)).status_code == 401
            body = command_body(article, slack.response_url())
            ack = await client.post(
                "/slack/events", content=body, headers=signed(body, secret=SIGNING_SECRET)
            )
            responses.append(ack)
            assert ack.status_code == 200
            [reply] = await slack.wait_for(RESPONSE_URL)
            assert reply.body["response_type"] == "in_channel"
    # The secrets were really used: the upstream saw the key, Slack the token.
    assert upstream.requests[0].headers["Authorization"] == f"Bearer {OPENAI_KEY}"
    assert slack.received("auth.test")[0].headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    # The logs are not empty: DEBUG lines of the HTTP clients, the retries, the rejection, the failures.
    loggers = {record.name.split(".")[0] for record in caplog.records}
    assert {"service", "openai", "slack_sdk"} <= loggers, loggers
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert any("401" in r.getMessage() for r in caplog.records if r.name.startswith("service"))
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        line = formatter.format(record)  # with its arguments, exception and stack, as a handler writes it
        assert not [s for s in SECRETS if s in line], line
        assert not secret_shapes_in(line), line
    for response in responses:
        assert not [s for s in SECRETS if s in response.text], response.text
        assert not [s for s in SECRETS if s in json.dumps(dict(response.headers))]


# --- cassettes ----------------------------------------------------------------------------------------


def test_no_cassette_holds_a_secret() -> None:
    cassettes = sorted(CASSETTES.rglob("*.yaml")) + sorted(CASSETTES.rglob("*.yml"))
    findings = [finding for path in cassettes for finding in cassette_findings(path)]
    assert findings == []


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        ("Authorization: Bearer sk-proj-abcdefghijklmnopqrstuvwx", ["OpenAI API key", "bearer token"]),
        ("token=xoxb-1234567890-abcdefghij", ["Slack token"]),
        ("SLACK_SIGNING_SECRET=9e107d9d372bb6826bd81d3542a419d6", ["Slack signing secret"]),
        ("key AKIAIOSFODNN7EXAMPLE", ["AWS access key"]),
        ("Authorization: Bearer (redacted)", []),
        ('"citations": ["S3"], "id": "9e107d9d372bb6826bd81d3542a419d6"', []),
    ],
)
def test_the_scanner_finds_planted_secrets(planted: str, expected: list[str]) -> None:
    assert secret_shapes_in(planted) == expected


def test_the_cassette_scanner_flags_unscrubbed_headers(tmp_path: Path) -> None:
    cassette: dict[str, Any] = {
        "interactions": [
            {
                "request": {"headers": {"Authorization": ["Bearer abc"], "accept": ["application/json"]}},
                "response": {"headers": {"set-cookie": ["__cf_bm=1"], "openai-organization": ["org-x"]}},
            }
        ]
    }
    path = tmp_path / "leaky.yaml"
    path.write_text(yaml.safe_dump(cassette), encoding="utf-8")
    assert cassette_findings(path) == [
        "leaky.yaml: request header authorization",
        "leaky.yaml: response header openai-organization",
        "leaky.yaml: response header set-cookie",
    ]
