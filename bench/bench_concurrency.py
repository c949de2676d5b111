"""Concurrency: 100 distinct articles posted at once against a fake upstream that takes 1 s per call; the wall
time as a ratio of the ideal (1 s: every upstream call overlapping). One uvicorn worker, then two, loopback.
Target: <= 1.3.

The load generator is aiohttp (its C parser keeps it at ~0.05 s of CPU for the burst; an httpx client took
~0.5 s of the same two cores). It, the server and the fake upstream share the machine's cores. The fake upstream
records when each call arrived, which shows how long the server took to start all the calls.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import aiohttp
from articles import distinct_articles
from harness import SERVICE_ENV, fake_upstream, machine, uvicorn_server, verdict

REQUESTS = 100
UPSTREAM_S = 1.0
TARGET = 1.3


async def burst(url: str, articles: list[str]) -> tuple[float, list[int], list[float], float]:
    """Every article posted at once on its own connection: wall time, statuses, seconds to each answer, and
    the Unix time the burst started."""
    bodies = [json.dumps({"text": text}).encode() for text in articles]
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=len(bodies))
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as client:
        async with client.get(url.replace("/v1/summaries", "/healthz")) as response:
            await response.read()
        started, started_at = time.perf_counter(), time.time()
        answered: list[float] = []

        async def post(body: bytes) -> int:
            async with client.post(url, data=body, headers=headers) as response:
                await response.read()
            answered.append(time.perf_counter() - started)
            return response.status

        statuses = await asyncio.gather(*(post(body) for body in bodies))
        wall = time.perf_counter() - started
    return wall, list(statuses), sorted(answered), started_at


def upstream_arrivals(upstream: str) -> list[float]:
    with urllib.request.urlopen(upstream.removesuffix("/v1") + "/arrivals", timeout=10) as response:
        return sorted(json.loads(response.read()))


def main() -> None:
    print(f"machine: {machine()}")
    articles = distinct_articles(REQUESTS)
    words = sum(len(a.split()) for a in articles) / len(articles)
    print(f"{REQUESTS} distinct articles (~{words:.0f} words each), upstream {UPSTREAM_S:g} s per call")
    results = {}
    with fake_upstream(latency_s=UPSTREAM_S) as upstream:
        env = {**SERVICE_ENV, "OPENAI_BASE_URL": upstream}
        for workers in (1, 2):
            with uvicorn_server("service.main:create_app", env, workers=workers) as server:
                upstream_arrivals(upstream)  # start from an empty list
                wall, statuses, answered, started_at = asyncio.run(
                    burst(f"{server.url}/v1/summaries", articles)
                )
                arrived = [at - started_at for at in upstream_arrivals(upstream)]
            failed = sum(status != 200 for status in statuses)
            print(f"  {workers} worker(s): wall time {wall:.3f} s; failed: {failed}")
            if arrived and answered:
                print(
                    f"    upstream calls arrived from {arrived[0]:.3f} to {arrived[-1]:.3f} s; "
                    f"answers from {answered[0]:.3f} to {answered[-1]:.3f} s"
                )
            results[workers] = (wall / UPSTREAM_S, failed)
            articles = [f"Run two. {text}" for text in articles]  # new cache keys (the cache is per process)
    for workers, (ratio, failed) in results.items():
        name = f"concurrency wall time / ideal, {workers} worker(s)"
        verdict(name, ratio, f"<= {TARGET}", ratio <= TARGET and not failed)


if __name__ == "__main__":
    main()
