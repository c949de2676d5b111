"""Concurrency: 100 distinct articles posted at once against a fake upstream that takes 1 s per call; the wall
time as a ratio of the ideal (1 s: every upstream call overlapping). One uvicorn worker, loopback.
Target: <= 1.3.
"""

from __future__ import annotations

import asyncio
import time

import httpx
from articles import distinct_articles
from harness import SERVICE_ENV, fake_upstream, machine, uvicorn_server, verdict

REQUESTS = 100
UPSTREAM_S = 1.0
TARGET = 1.3


async def burst(url: str, articles: list[str]) -> tuple[float, list[int]]:
    limits = httpx.Limits(max_connections=len(articles), max_keepalive_connections=len(articles))
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        await client.get(url.replace("/v1/summaries", "/healthz"))
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.post(url, json={"text": text}) for text in articles))
        wall = time.perf_counter() - started
    return wall, [r.status_code for r in responses]


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
                wall, statuses = asyncio.run(burst(f"{server.url}/v1/summaries", articles))
            failed = sum(status != 200 for status in statuses)
            print(f"  {workers} worker(s): wall time {wall:.3f} s; failed: {failed}")
            results[workers] = (wall / UPSTREAM_S, failed)
            articles = [f"Run two. {text}" for text in articles]  # new cache keys (the cache is per process)
    for workers, (ratio, failed) in results.items():
        name = f"concurrency wall time / ideal, {workers} worker(s)"
        verdict(name, ratio, f"<= {TARGET}", ratio <= TARGET and not failed)


if __name__ == "__main__":
    main()
