"""Uncached overhead: p50 latency of POST /v1/summaries (recomputed every time, `Cache-Control: no-cache`) with the
llm engine against a zero-latency fake OpenAI upstream, minus the p50 of the same chat-completion request sent
to that upstream directly. Same client (httpx, sequential, keep-alive), loopback. Target: <= 5 ms.
"""

from __future__ import annotations

import statistics
import time

import httpx
from harness import SERVICE_ENV, dumps, fake_upstream, machine, sample, uvicorn_server, verdict

REQUESTS = 300
WARMUP = 30
TARGET_MS = 5.0


def p50_ms(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> tuple[float, float]:
    for _ in range(WARMUP):
        client.post(url, content=body, headers=headers).raise_for_status()
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.post(url, content=body, headers=headers).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.9)]


def main() -> None:
    print(f"machine: {machine()}")
    article = sample()
    json_headers = {"Content-Type": "application/json"}
    with fake_upstream() as upstream:
        env = {**SERVICE_ENV, "OPENAI_BASE_URL": upstream}
        with uvicorn_server("service.main:create_app", env) as server, httpx.Client(timeout=60) as client:
            ours, ours_p90 = p50_ms(
                client,
                f"{server.url}/v1/summaries",
                dumps({"text": article}),
                json_headers | {"Cache-Control": "no-cache"},
            )
            replay = client.get(upstream.removesuffix("/v1") + "/last").content
            direct, direct_p90 = p50_ms(client, f"{upstream}/chat/completions", replay, json_headers)
    print(f"article: {len(article.split())} words; {REQUESTS} sequential requests after {WARMUP} warm-up")
    print(f"POST /v1/summaries (no-cache): p50 {ours:6.2f} ms, p90 {ours_p90:6.2f} ms")
    print(f"upstream directly:             p50 {direct:6.2f} ms, p90 {direct_p90:6.2f} ms")
    overhead = ours - direct
    verdict(
        "uncached overhead (p50 ours - p50 upstream)",
        overhead,
        f"<= {TARGET_MS:g} ms",
        overhead <= TARGET_MS,
        " ms",
    )


if __name__ == "__main__":
    main()
