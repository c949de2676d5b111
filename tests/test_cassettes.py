"""Every cassette (SPEC §6): no secrets in it, every recorded chat completion parses with the openai SDK's own
types, and its top says whether it was recorded (from what) or authored. Replay matches the request body, so a
changed prompt does not replay an old answer."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml
from openai.types.chat import ChatCompletion
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.serializers import yamlserializer

from service.config import Settings
from service.engines.llm import LLMEngine
from service.prompts import Prompts, default_dir
from tests.conftest import load_article, no_sleep
from tests.fakes.cassettes import (
    CASSETTE_DIR,
    RECORDED_FROM_ENV,
    VCR_CONFIG,
    LabelledPersister,
    configure,
    recorded_label,
)

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


def label_problems(text: str) -> list[str]:
    """What is wrong with a cassette's label: the comment at its top that says how it was made."""
    if not text.startswith("# "):
        return ["no label: a cassette starts with a comment saying it was RECORDED (from what) or AUTHORED"]
    header = text.split("\ninteractions:", 1)[0]
    recorded, authored = "RECORDED from " in header, "AUTHORED" in header
    if recorded == authored:
        return ["the label says neither or both of RECORDED from ... and AUTHORED"]
    problems = [] if "docs/llm.md" in header else ["the label does not point to docs/llm.md"]
    if authored and "cassettes/author.py" not in header:
        problems.append("an authored cassette's label names cassettes/author.py")
    if recorded:
        requests = [i["request"] for i in (yaml.safe_load(text) or {}).get("interactions", [])]
        models = {json.loads(r["body"]).get("model") for r in requests if r.get("body")}
        problems += [f"the label does not name the model {m!r} it was recorded from" for m in sorted(models)
                     if f"model {json.dumps(m)}" not in header]  # fmt: skip
    return problems


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_every_cassette_says_how_it_was_made(path: Path) -> None:
    assert label_problems(path.read_text(encoding="utf-8")) == []


def test_the_label_check_finds_what_it_looks_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the recording persister writes passes; a cassette without a label, or with a wrong one, does not."""
    unlabelled = (
        (CASSETTE_DIR / "test_cassette_repair.yaml").read_text(encoding="utf-8").split("\ninteractions:")[1]
    )
    unlabelled = "interactions:" + unlabelled
    assert label_problems(unlabelled) != []
    assert label_problems("# RECORDED from a server, docs/llm.md\n" + unlabelled) != []  # names no model
    assert label_problems("# AUTHORED by hand, see docs/llm.md\n" + unlabelled) != []  # not by author.py

    monkeypatch.setenv(RECORDED_FROM_ENV, "llama-cpp-python 0.3.36 serving SmolLM2-135M-Instruct")
    recorder = vcr.VCR(**VCR_CONFIG)
    configure(recorder)
    with recorder.use_cassette(str(CASSETTE_DIR / "test_cassette_repair.yaml"), record_mode="none") as played:
        cassette: dict[str, Any] = {"requests": list(played.requests), "responses": list(played.responses)}
    path = tmp_path / "recorded.yaml"
    LabelledPersister(recorded_label).save_cassette(path, cassette, yamlserializer)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# RECORDED from llama-cpp-python 0.3.36 serving SmolLM2-135M-Instruct,\n")
    assert label_problems(text) == []


async def test_a_changed_prompt_does_not_replay_an_old_answer(tmp_path: Path) -> None:
    """The authored cassette replays for the prompt it was made with; with one word more in the system prompt
    no recorded interaction matches, and the engine never gets the old answer."""
    prompts_dir = tmp_path / "prompts"
    shutil.copytree(default_dir(), prompts_dir)
    system = prompts_dir / "system.md"
    system.write_text(system.read_text(encoding="utf-8") + "\nBe brief.\n", encoding="utf-8")
    article = load_article("syria_checkpoint_shootout")
    settings = Settings(engine="llm", openai_base_url="http://127.0.0.1:8080/v1", cache_url="memory://")
    recorder = vcr.VCR(record_mode="none", **VCR_CONFIG)
    configure(recorder)
    cassette = str(CASSETTE_DIR / "test_cassette_valid_summary[syria_checkpoint_shootout].yaml")

    async def replay(prompts: Prompts) -> None:
        engine = LLMEngine(settings, prompts, sleep=no_sleep)
        try:
            with recorder.use_cassette(cassette):
                await engine.summarize(article)
        finally:
            await engine.aclose()

    await replay(Prompts.load())  # the prompt it was made with
    with pytest.raises(CannotOverwriteExistingCassetteException, match="json_body differs"):
        await replay(Prompts.load(prompts_dir))


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
