"""Every cassette (SPEC §6): no secrets in it, every recorded chat completion parses with the openai SDK's own
types, and an authored cassette says so at its top."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from openai.types.chat import ChatCompletion

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
ALL = sorted(CASSETTES.rglob("*.yaml"))

SECRET_PATTERNS = {
    "OpenAI key": re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}"),
    "bearer token": re.compile(r"\bBearer\s+(?!not-needed\b)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"),
}
SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "openai-organization", "openai-project", "set-cookie", "cookie"}
)


def secrets_in(text: str) -> list[str]:
    """What in a cassette's text looks like a secret: key patterns, and headers that carry credentials."""
    found = [f"{kind}: {m.group(0)[:12]}…" for kind, rx in SECRET_PATTERNS.items() for m in rx.finditer(text)]
    data = yaml.safe_load(text) or {}
    for interaction in data.get("interactions", []):
        for part in ("request", "response"):
            headers = interaction.get(part, {}).get("headers", {}) or {}
            found += [f"{part} header {name}" for name in headers if name.lower() in SECRET_HEADERS]
    return found


def completions(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = []
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        if request["uri"].endswith("/chat/completions") and response["status"]["code"] == 200:
            found.append(json.loads(response["body"]["string"]))
    return found


def test_there_are_cassettes_to_check() -> None:
    assert len(ALL) >= 4


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_holds_no_secret(path: Path) -> None:
    assert secrets_in(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_responses_parse_with_openai_types(path: Path) -> None:
    found = completions(path)
    assert found, "a cassette of the llm engine records at least one chat completion"
    for body in found:
        completion = ChatCompletion.model_validate(body)
        assert completion.object == "chat.completion"
        assert completion.choices and completion.usage is not None


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_an_authored_cassette_says_so_and_how(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if text.startswith("#"):
        header = text.split("\ninteractions:", 1)[0]
        assert "AUTHORED" in header and "cassettes/author.py" in header and "docs/llm.md" in header


def test_the_scanner_finds_what_it_looks_for() -> None:
    planted = """\
interactions:
- request:
    body: '{"note": "sk-abcdefghijklmnop0123456789 and xoxb-1234567890-abcdef"}'
    headers:
      Authorization: [Bearer abc.def.ghi123456]
      api-key: [x]
    method: POST
    uri: https://api.openai.com/v1/chat/completions
  response:
    body: {string: '{}'}
    headers:
      Set-Cookie: [__cf_bm=abc]
      openai-organization: [org-123]
    status: {code: 200, message: OK}
"""
    found = secrets_in(planted)
    assert any(f.startswith("OpenAI key") for f in found)
    assert any(f.startswith("Slack token") for f in found)
    assert any(f.startswith("bearer token") for f in found)
    assert {"request header Authorization", "request header api-key"} <= set(found)
    assert {"response header Set-Cookie", "response header openai-organization"} <= set(found)
