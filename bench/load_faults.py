"""Load under upstream faults: the whole app in-process (create_app over ASGI, the real `llm` engine) against the
fault-injecting OpenAI-compatible server on 127.0.0.1, 1,000 distinct articles at concurrency 50, with 10% of
upstream calls failing transiently (every kind: 429 with Retry-After, 500, 502, 503, connection reset, connection
closed mid-response, a response too slow for the call timeout, invalid JSON, an answer cut off by the token
limit).

    .venv/bin/python bench/load_faults.py [--requests 1000] [--concurrency 50] [--fault-rate 0.1]

Prints the success rate, errors by status and problem type, p50/p95/max latency, bare 500s and hung requests,
then one JSON line. Bounded: stops by itself within --time-limit seconds (default 110). Exits 1 when a target is
missed (0 bare 500s, 0 hung, >= 99% success).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from asgi_lifespan import LifespanManager

from service.config import Settings
from service.main import create_app
from tests.fakes.openai_server import (
    Answer,
    Behaviour,
    FaultServer,
    Raw,
    closed_mid_response,
    completion_body,
    first_sentence_summary,
    invalid_json,
    rate_limited,
    reset,
    server_error,
    truncated,
    valid,
)

CALL_TIMEOUT_S = 1.0
DEADLINE_S = 10.0
HUNG_AFTER_S = DEADLINE_S + 5


def fault_kinds(body: dict[str, Any]) -> dict[str, Behaviour]:
    summary = first_sentence_summary(body)
    return {
        "429": rate_limited(retry_after="0.2"),
        "500": server_error(500),
        "502": server_error(502),
        "503": server_error(503, retry_after="0.1"),
        "reset": reset(),
        "closed_mid_response": closed_mid_response(),
        "slow": Answer(summary.model_dump_json(), delay_s=CALL_TIMEOUT_S * 2),
        "invalid_json": invalid_json(),
        "truncated": truncated(summary),
        # answers the service takes as they are (issue 12): JSON after a think block or in prose, usage cut short
        "think_json": Answer(f"<think>checking the article</think>\n{summary.model_dump_json()}"),
        "prose_json": Answer(f"Here is the summary: {summary.model_dump_json()} Hope this helps."),
        "usage_missing": Raw(body=completion_body(summary.model_dump_json(), {"total_tokens": 15})),
    }


# Answers that end a request at once by design (issue 12): a 200 that is not a chat completion, an error in a
# 200, a spent quota, a Retry-After longer than the cap, a prompt over the context window. Mixed in with
# `--terminal-faults`; the targets then are 0 bare 500s and 0 hung (each ends as its documented problem).
def terminal_kinds(body: dict[str, Any]) -> dict[str, Behaviour]:
    return {
        "html_200": Raw(body="<html><body>Open WebUI</body></html>", content_type="text/html"),
        "error_in_200": Raw(
            body=json.dumps({"error": {"message": "model not found", "type": "invalid_request_error"}})
        ),
        "long_retry_after": rate_limited(retry_after="3600"),
        "insufficient_quota": Raw(
            status=429,
            body=json.dumps(
                {"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}}
            ),
        ),
        "context_length": Raw(
            status=400,
            body=json.dumps(
                {
                    "error": {
                        "message": "maximum context length is 4096 tokens",
                        "code": "context_length_exceeded",
                    }
                }
            ),
        ),
    }


class FaultyUpstream:
    """The fault server's default behaviour: a valid answer, or with probability `rate` one fault."""

    def __init__(self, rate: float, seed: int, terminal: bool = False) -> None:
        self.rate = rate
        self.random = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.terminal = terminal

    def __call__(self, body: dict[str, Any]) -> Behaviour:
        if self.random.random() < self.rate:
            kinds = {**fault_kinds(body), **(terminal_kinds(body) if self.terminal else {})}
            kind = self.random.choice(sorted(kinds))
            self.injected[kind] += 1
            return kinds[kind]
        return valid(first_sentence_summary(body))


def article(i: int) -> dict[str, Any]:
    """Distinct articles, so the cache never hides a fault."""
    return {
        "text": (
            f"Clashes broke out near checkpoint {i} east of the town of Qaryat-{i} on Monday. "
            f"Local sources said {i % 7 + 2} fighters were wounded in the exchange of fire. "
            f"Report number {i} was filed by a correspondent in the area."
        ),
        "published_at": f"2024-03-0{i % 9 + 1}",
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]
    )


async def run(
    requests: int, concurrency: int, fault_rate: float, time_limit: float, seed: int, terminal: bool = False
) -> dict[str, Any]:
    upstream_behaviour = FaultyUpstream(fault_rate, seed, terminal)
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    hung = 0
    async with FaultServer(default=upstream_behaviour) as server:
        settings = Settings(
            engine="llm",
            openai_base_url=server.base_url,
            cache_url="memory://",
            rate_limit_per_minute=0,
            timeout_s=CALL_TIMEOUT_S,
            deadline_s=DEADLINE_S,
            max_retries=3,
            max_repairs=2,
            retry_after_cap_s=1.0,
            log_level="ERROR",
        )
        app = create_app(settings)
        limit = asyncio.Semaphore(concurrency)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=None
            ) as client:

                async def one(i: int) -> None:
                    nonlocal hung
                    async with limit:
                        started = time.monotonic()
                        try:
                            response = await asyncio.wait_for(
                                client.post("/v1/summaries", json=article(i)), HUNG_AFTER_S
                            )
                        except TimeoutError:
                            hung += 1
                            return
                        latencies.append(time.monotonic() - started)
                        if response.status_code == 200:
                            outcomes["200 ok"] += 1
                        else:
                            problem = response.json().get("type", "?").rsplit(":", 1)[-1]
                            outcomes[f"{response.status_code} {problem}"] += 1

                started = time.monotonic()
                tasks = [asyncio.create_task(one(i)) for i in range(requests)]
                _, pending = await asyncio.wait(tasks, timeout=time_limit)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                wall = time.monotonic() - started
        upstream_calls = server.calls
    finished = sum(outcomes.values())
    return {
        "requests": requests,
        "concurrency": concurrency,
        "fault_rate": fault_rate,
        "finished": finished,
        "not_finished_in_time_limit": requests - finished - hung,
        "success_rate": round(outcomes["200 ok"] / requests, 4),
        "outcomes": dict(outcomes.most_common()),
        "bare_500s": sum(n for key, n in outcomes.items() if key.startswith("500")),
        "hung": hung,
        "latency_s": {
            "p50": round(percentile(latencies, 50), 3),
            "p95": round(percentile(latencies, 95), 3),
            "max": round(max(latencies, default=float("nan")), 3),
        },
        "upstream_calls": upstream_calls,
        "injected_faults": dict(sorted(upstream_behaviour.injected.items())),
        "wall_s": round(wall, 1),
        "requests_per_s": round(finished / wall, 1) if wall else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--time-limit", type=float, default=110.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--terminal-faults", action="store_true", help="also answers that end a request")
    args = parser.parse_args()
    report = asyncio.run(
        run(
            args.requests, args.concurrency, args.fault_rate, args.time_limit, args.seed, args.terminal_faults
        )
    )
    print(
        f"requests {report['requests']} at concurrency {report['concurrency']}, "
        f"{report['fault_rate']:.0%} of upstream calls faulty; {report['upstream_calls']} upstream calls"
    )
    print(
        f"success rate {report['success_rate']:.2%}; bare 500s {report['bare_500s']}; hung {report['hung']}; "
        f"unfinished {report['not_finished_in_time_limit']}"
    )
    print("outcomes: " + ", ".join(f"{k}: {v}" for k, v in report["outcomes"].items()))
    print("injected: " + ", ".join(f"{k}: {v}" for k, v in report["injected_faults"].items()))
    lat = report["latency_s"]
    print(
        f"latency p50 {lat['p50']} s, p95 {lat['p95']} s, max {lat['max']} s; wall {report['wall_s']} s "
        f"({report['requests_per_s']} req/s)"
    )
    print(json.dumps(report))
    met = report["bare_500s"] == 0 and report["hung"] == 0
    met = met and (args.terminal_faults or report["success_rate"] >= 0.99)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
