"""Cache-hit throughput: POST /v1/summaries answered from the cache, as a ratio of a bare FastAPI endpoint that
parses the same body and returns the same bytes. Same server (uvicorn, one worker, loopback), same load
generator, one run each. Target: ratio >= 0.7 (memory cache; SQLite, the default, and Redis are reported too).
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

from harness import (
    SERVICE_ENV,
    dumps,
    fake_upstream,
    generate_load,
    machine,
    post_json,
    sample,
    uvicorn_server,
    verdict,
)

SECONDS = 10.0
WARMUP_S = 2.0
CONNECTIONS = 16
TARGET = 0.7


def measure(app: str, env: dict[str, str], body: bytes, *, prime: bool) -> tuple[float, bytes]:
    with uvicorn_server(app, env) as server:
        url = f"{server.url}/v1/summaries"
        cached = b""
        if prime:
            post_json(url, body)  # computes the summary and caches it
            cached = post_json(url, body)
            assert json.loads(cached)["meta"]["cached"] is True, "the second request was not a cache hit"
        generate_load(url, body, seconds=WARMUP_S, connections=CONNECTIONS)
        load = generate_load(url, body, seconds=SECONDS, connections=CONNECTIONS)
    if load.errors:
        raise RuntimeError(f"{load.errors} failed requests against {app}")
    print(
        f"  {app:32s} {env.get('CACHE_URL', ''):40s} {load.requests_per_s:8.0f} req/s ({load.tool})",
        flush=True,
    )
    return load.requests_per_s, cached


def main() -> None:
    print(f"machine: {machine()}")
    body = dumps({"text": sample()})
    print(
        f"body: {len(body)} bytes; {SECONDS:g} s per run after {WARMUP_S:g} s warm-up, {CONNECTIONS} connections"
    )
    results: dict[str, float] = {}
    with fake_upstream() as upstream, tempfile.TemporaryDirectory() as tmp:
        env = {**SERVICE_ENV, "OPENAI_BASE_URL": upstream}
        ours, response = measure("service.main:create_app", env, body, prime=True)
        results["memory"] = ours
        response_file = Path(tmp) / "response.json"
        response_file.write_bytes(response)
        bare, _ = measure(
            "bare_app:create_app", {"BENCH_RESPONSE_FILE": str(response_file)}, body, prime=False
        )
        results["sqlite"], _ = measure(
            "service.main:create_app", env | {"CACHE_URL": f"sqlite:///{tmp}/cache.sqlite3"}, body, prime=True
        )
        prefix = f"bench-{uuid.uuid4().hex}"
        try:
            results["redis"], _ = measure(
                "service.main:create_app", env | {"CACHE_URL": f"redis://127.0.0.1:6379/0?prefix={prefix}"}, body,
                prime=True,
            )  # fmt: skip
        except Exception as e:  # no Redis here: report the others
            print(f"  redis: not measured ({type(e).__name__}: {e})")
        finally:
            _delete_prefix(prefix)
    for backend, rps in results.items():
        ratio = rps / bare
        verdict(f"cache-hit throughput ratio, {backend} cache", ratio, f">= {TARGET}", ratio >= TARGET)


def _delete_prefix(prefix: str) -> None:
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
    except Exception:
        pass


if __name__ == "__main__":
    main()
