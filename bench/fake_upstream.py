"""A minimal OpenAI-compatible upstream for the benchmarks: `POST /v1/chat/completions` answers, after
`--latency` seconds, a valid summary of whatever article the prompt carries (its first numbered sentence, cited).

    python bench/fake_upstream.py --port 9100 --latency 1.0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time

from aiohttp import web

_FIRST_SENTENCE = re.compile(r"^\[(S[1-9][0-9]*)\] (.+)$", re.MULTILINE)


def summary_of(body: dict[str, object]) -> str:
    messages = body["messages"]
    assert isinstance(messages, list)
    user = next(m["content"] for m in messages if m["role"] == "user")
    found = _FIRST_SENTENCE.search(user)
    if found is None:
        raise web.HTTPBadRequest(text="no numbered sentences in the prompt")
    sid, text = found.groups()
    return json.dumps(
        {
            "headline": text[:120], "summary": [{"text": text, "citations": [sid]}], "event_type": "other",
            "sub_event_type": None, "date": None, "locations": [], "actors": [], "casualties": [], "claims": [],
            "disputes": [],
        }
    )  # fmt: skip


def build_app(latency_s: float) -> web.Application:
    last: dict[str, object] = {}
    arrivals: list[float] = []

    async def completions(request: web.Request) -> web.Response:
        arrivals.append(time.time())
        body = await request.json()
        last["body"] = body
        if latency_s:
            await asyncio.sleep(latency_s)
        content = summary_of(body)
        return web.json_response(
            {
                "id": "chatcmpl-bench", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": content, "refusal": None}}],
                "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
            }
        )  # fmt: skip

    async def last_request(request: web.Request) -> web.Response:
        """The last chat-completion request received, to replay it directly (the upstream's own latency)."""
        return web.json_response(last.get("body"))

    async def arrival_times(request: web.Request) -> web.Response:
        """When each chat-completion request arrived (Unix time) since the last look; the list starts over."""
        seen = list(arrivals)
        arrivals.clear()
        return web.json_response(seen)

    app = web.Application(client_max_size=32 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/last", last_request)
    app.router.add_get("/arrivals", arrival_times)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    web.run_app(
        build_app(args.latency), host="127.0.0.1", port=args.port, access_log=None, print=None, backlog=1024
    )


if __name__ == "__main__":
    main()
