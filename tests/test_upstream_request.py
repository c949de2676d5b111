"""`Upstream` sends the engine's parameters through the SDK's generic `post` (no per-call parameter transform):
the request must be the one `chat.completions.create()` sends, and the answer parsed the same way."""

from __future__ import annotations

import json
import time
from typing import Any

import openai

from service.article import ArticleIn, prepare
from service.config import Settings
from service.engines.llm import LLMEngine, response_format
from service.prompts import Prompts
from service.schema import upstream_json_schema
from service.upstream import Tally, Upstream
from tests.conftest import sample_text
from tests.fakes.openai_server import Answer, FaultServer

KEY = "sk-test-0123456789abcdefREQUEST"
# Headers that differ between any two requests of the same client
_VOLATILE = {"x-stainless-retry-count", "x-stainless-read-timeout", "content-length"}


def _engine_params(settings: Settings) -> dict[str, Any]:
    """What the llm engine sends for a sample article: both prompts and the strict schema."""
    prompts = Prompts.load()
    engine = LLMEngine(settings, prompts)
    article = prepare(ArticleIn(text=sample_text("syria_checkpoint_shootout")), max_chars=200_000)
    messages = [
        {"role": "system", "content": prompts.system},
        {"role": "user", "content": prompts.render_user(article)},
    ]
    return engine._params(messages, settings.max_output_tokens)


def _comparable(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in _VOLATILE}


async def test_the_request_is_the_one_the_sdks_create_sends() -> None:
    async with FaultServer() as server:
        settings = Settings(
            engine="llm", openai_base_url=server.base_url, openai_api_key=KEY, cache_url="memory://"
        )
        params = _engine_params(settings)
        assert params["response_format"] == response_format("json_schema", upstream_json_schema())
        answer = json.dumps({"ok": True})
        server.script(Answer(answer, usage=(120, 30)), Answer(answer, usage=(120, 30)))
        client = openai.AsyncOpenAI(
            api_key=KEY, base_url=server.base_url, max_retries=0, timeout=settings.timeout_s
        )
        upstream = Upstream(settings)
        try:
            expected = await client.chat.completions.create(**params, timeout=settings.timeout_s)
            tally = Tally()
            got = await upstream.chat(params, deadline=time.monotonic() + 60, tally=tally)
        finally:
            await client.close()
            await upstream.aclose()
    sdk_request, our_request = server.requests
    assert our_request.body == sdk_request.body == json.loads(json.dumps(params))
    assert _comparable(our_request.headers) == _comparable(sdk_request.headers)
    assert our_request.headers["Authorization"] == f"Bearer {KEY}"
    assert type(got) is type(expected)
    assert got.model_dump(exclude={"id", "created"}) == expected.model_dump(exclude={"id", "created"})
    assert (tally.attempts, tally.usage.prompt_tokens, tally.usage.completion_tokens) == (1, 120, 30)
