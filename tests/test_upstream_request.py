"""What `Upstream` sends for the llm engine's parameters: a chat completion whose body is those parameters as
they are (both prompts and the strict schema), with the key as a bearer token; the answer comes back parsed."""

from __future__ import annotations

import json
import time
from typing import Any

from openai.types.chat import ChatCompletion

from service.article import ArticleIn, prepare
from service.config import Settings
from service.engines.llm import LLMEngine, response_format
from service.prompts import Prompts
from service.schema import upstream_json_schema
from service.upstream import Tally, Upstream
from tests.conftest import sample_text
from tests.fakes.openai_server import Answer, FaultServer

KEY = "sk-test-0123456789abcdefREQUEST"


def _engine_params(settings: Settings) -> dict[str, Any]:
    """What the llm engine sends for a sample article: both prompts and the strict schema."""
    prompts = Prompts.load()
    engine = LLMEngine(settings, prompts)
    article = prepare(ArticleIn(text=sample_text("syria_checkpoint_shootout")), max_chars=200_000)
    messages = [
        {"role": "system", "content": prompts.system},
        {"role": "user", "content": prompts.render_user(article)},
    ]
    return engine.request_body(messages)


async def test_the_engines_parameters_are_the_request_body() -> None:
    async with FaultServer() as server:
        settings = Settings(
            engine="llm", openai_base_url=server.base_url, openai_api_key=KEY, cache_url="memory://"
        )
        params = _engine_params(settings)
        assert params["response_format"] == response_format("json_schema", upstream_json_schema())
        answer = json.dumps({"ok": True})
        server.script(Answer(answer, usage=(120, 30)))
        upstream = Upstream(settings)
        try:
            tally = Tally()
            got = await upstream.chat(params, deadline=time.monotonic() + 60, tally=tally)
        finally:
            await upstream.aclose()
    (request,) = server.requests
    assert request.body == json.loads(json.dumps(params))
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert type(got) is ChatCompletion
    assert got.choices[0].message.content == answer
    assert (tally.attempts, tally.usage.prompt_tokens, tally.usage.completion_tokens) == (1, 120, 30)
