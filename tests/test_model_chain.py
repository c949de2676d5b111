"""The chain of model deployments (`SUMMARIZER_FALLBACK_MODELS`) through the whole app: two fault servers on
loopback, one per endpoint; the primary fails, the second deployment answers and `meta` names it; then the
primary's breaker is open (its cooldown) and it is skipped without a call."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from service.config import Settings
from service.engines.chain import ModelChain
from service.engines.factory import build_engine
from service.prompts import Prompts
from tests.conftest import AppClient, assert_problem, sample_text
from tests.fakes.openai_server import (
    Behaviour,
    FaultServer,
    answer_from_request,
    invalid_json,
    server_error,
)

CHECKPOINT = {"text": sample_text("syria_checkpoint_shootout")}
COLLISION = {"text": sample_text("derik_vehicle_collision")}


def chain_settings(primary: FaultServer, second: FaultServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "engine": "llm",
        "openai_base_url": primary.base_url,
        "model": "model-a",
        "fallback_models": f"{second.base_url}#model-b",
        "cache_url": "memory://",
        "rate_limit_per_minute": 0,
        "max_retries": 0,
        "breaker_failures": 100,
    }
    return Settings(**(values | overrides))


async def test_the_second_deployment_answers_when_the_primary_fails_and_meta_names_it(
    app_client: AppClient,
) -> None:
    async with FaultServer() as a, FaultServer(default=answer_from_request) as b:
        a.script(server_error(503))
        async with app_client(chain_settings(a, b)) as client:
            response = await client.post("/v1/summaries", json=CHECKPOINT)
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert meta["model"] == f"{b.base_url}#model-b"  # the second server echoes the model it was asked for
    assert meta["engine"] == "llm" and meta["degraded"] is False
    assert meta["attempts"] == 2 and a.calls == 1 and b.calls == 1
    assert a.bodies[0]["model"] == "model-a" and b.bodies[0]["model"] == "model-b"
    assert any("model-a" in w and "UpstreamUnavailable" in w and "503" in w for w in meta["warnings"])
    assert meta["usage"]["prompt_tokens"] > 0


async def test_a_cooled_down_primary_is_skipped_without_a_call(app_client: AppClient) -> None:
    async with FaultServer() as a, FaultServer(default=answer_from_request) as b:
        a.script(server_error(503))
        async with app_client(chain_settings(a, b, breaker_failures=1)) as client:
            first = await client.post("/v1/summaries", json=CHECKPOINT)
            assert first.status_code == 200 and a.calls == 1 and b.calls == 1
            second = await client.post("/v1/summaries", json=COLLISION)
    assert second.status_code == 200, second.text
    meta = second.json()["meta"]
    assert a.calls == 1  # the primary's breaker is open: no call to it at all
    assert b.calls == 2 and meta["model"] == f"{b.base_url}#model-b"
    assert meta["attempts"] == 1
    assert any("model-a" in w and "circuit breaker open" in w for w in meta["warnings"])


async def test_a_model_on_the_primary_endpoint_answers_under_its_own_name(app_client: AppClient) -> None:
    async with FaultServer(default=answer_from_request) as a, FaultServer() as b:
        a.script(server_error(502))
        settings = chain_settings(a, b, fallback_models="model-c")
        async with app_client(settings) as client:
            response = await client.post("/v1/summaries", json=CHECKPOINT)
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert meta["model"] == "model-c" and meta["attempts"] == 2
    assert [body["model"] for body in a.bodies] == ["model-a", "model-c"] and b.calls == 0


@pytest.mark.parametrize(
    ("behaviour", "status", "slug"),
    [(server_error(400), 502, "upstream-rejected"), (invalid_json(), 502, "unrepairable-output")],
)
async def test_a_rejection_or_an_unrepairable_answer_does_not_move_on(
    app_client: AppClient, behaviour: Behaviour, status: int, slug: str
) -> None:
    async with FaultServer() as a, FaultServer(default=answer_from_request) as b:
        a.script(behaviour)
        async with app_client(chain_settings(a, b, max_repairs=0)) as client:
            response = await client.post("/v1/summaries", json=CHECKPOINT)
    body = assert_problem(response, status, slug)
    assert body["attempts"] == 1 and a.calls == 1 and b.calls == 0


async def test_when_every_deployment_fails_the_last_error_counts_every_call(app_client: AppClient) -> None:
    async with FaultServer() as a, FaultServer() as b:
        a.script(server_error(503))
        b.script(server_error(500))
        async with app_client(chain_settings(a, b)) as client:
            response = await client.post("/v1/summaries", json=CHECKPOINT)
    body = assert_problem(response, 503, "upstream-unavailable")
    assert body["attempts"] == 2 and a.calls == 1 and b.calls == 1


def test_the_factory_builds_a_chain_only_when_fallback_models_are_set() -> None:
    prompts = Prompts.load()
    plain = Settings(engine="llm", openai_base_url="http://127.0.0.1:9/v1", cache_url="memory://")
    assert not isinstance(build_engine(plain, prompts), ModelChain)
    chained = plain.model_copy(update={"fallback_models": ("m2", "https://other.example/v1#m3")})
    chain = build_engine(chained, prompts)
    assert isinstance(chain, ModelChain)
    assert [label for label, _ in chain.deployments] == ["gpt-4o-mini", "m2", "https://other.example/v1#m3"]
    assert chain.model == "gpt-4o-mini" and chain.endpoint == "http://127.0.0.1:9/v1"


def test_fallback_models_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZER_FALLBACK_MODELS", " gpt-4.1-mini , http://127.0.0.1:8000/v1#qwen2.5-14b")
    assert Settings().fallback_models == ("gpt-4.1-mini", "http://127.0.0.1:8000/v1#qwen2.5-14b")
    monkeypatch.setenv("SUMMARIZER_FALLBACK_MODELS", "")
    assert Settings().fallback_models == ()


@pytest.mark.parametrize(
    "value",
    ["a,,b", "ftp://host/v1#m", "https://host/v1#", "https://host/v1", "#m", "m,"],
)
def test_a_bad_fallback_model_entry_fails_at_start_up(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SUMMARIZER_FALLBACK_MODELS", value)
    with pytest.raises(ValidationError, match="SUMMARIZER_FALLBACK_MODELS"):
        Settings()
