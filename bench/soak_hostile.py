"""A bounded soak on loopback: normal clients and hostile ones at once, with Redis paused midway.

    .venv/bin/python bench/soak_hostile.py [--seconds 120] [--normal 6] [--hostile 6]

Starts a `redis-server` on a free port, the fake OpenAI-compatible upstream (bench/fake_upstream.py, 50 ms a
call), and `incident-summarizer serve` (the real HTTP server with its connection limits, `API_KEYS` set,
`CACHE_URL` the Redis, the `llm` engine on the fake upstream). Then, for `--seconds`:

- normal clients (`--normal`) post articles from a pool of 60 (most are cache hits after the first round) with
  a valid key, and read results back by id; each must be answered 200;
- hostile clients (`--hostile`) cycle through: a lone surrogate in `text` and in `html` (422), an
  unauthenticated 50 MB declared body and a malformed body without a key (401, body unread), a forged
  `X-Forwarded-For`, `Cache-Control: no-cache` floods from one key (429 past RATE_LIMIT_REFRESH_PER_MINUTE),
  malformed JSON with a key (400/422), and raw sockets that never finish their request head (closed by the
  server);
- Redis is paused (SIGSTOP) from the first third to the second third of the run, then resumed (SIGCONT).

Prints status counts per kind of request, normal-request latency before/during/after the pause, the number of
connections the server closed for an unfinished head, bare 500s (a 5xx that is not problem+json) and
unanswered normal requests, then one JSON line. Exits 1 unless there are 0 bare 500s and every normal request
was answered 200. Bounded: `--seconds` at most 300.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from articles import distinct_articles
from harness import BIN, ROOT, fake_upstream, free_port, machine

KEY_NORMAL = "soak-normal-key-" + "1" * 16
KEY_HOSTILE = "soak-hostile-key-" + "2" * 16
SURROGATE = "Two soldiers \\udfff were killed near Idlib on Monday, officials said."
REQUEST_TIMEOUT_S = 30.0


def start_redis() -> tuple[subprocess.Popen[bytes], int]:
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("redis-server is needed (apt-get install redis-server)")
    port = free_port()
    args = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process, port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout_s} s")


def start_server(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`incident-summarizer serve` (its connection limits included), logging to `log_path`."""
    command = [str(BIN / "incident-summarizer"), "serve", "--port", str(port), "--timeout-keep-alive", "5"]
    with log_path.open("wb") as log:
        return subprocess.Popen(command, cwd=log_path.parent, env=env, stdout=log, stderr=subprocess.STDOUT)


class Tally:
    def __init__(self) -> None:
        self.statuses: dict[str, Counter[int]] = {}
        self.bare_500s = 0
        self.unanswered_normal = 0
        self.normal_latency: dict[str, list[float]] = {"before": [], "paused": [], "after": []}
        self.heads_closed = 0
        self.heads_held = 0

    def count(self, kind: str, response: httpx.Response) -> None:
        self.statuses.setdefault(kind, Counter())[response.status_code] += 1
        problem = response.headers.get("content-type", "").startswith("application/problem+json")
        if response.status_code >= 500 and not problem:
            self.bare_500s += 1


async def normal_client(
    client: httpx.AsyncClient, articles: list[str], tally: Tally, phase: list[str], stop: float, seed: int
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {KEY_NORMAL}"}
    while time.monotonic() < stop:
        started = time.perf_counter()
        try:
            response = await client.post(
                "/v1/summaries", json={"text": rng.choice(articles)}, headers=headers
            )
        except httpx.HTTPError:
            tally.unanswered_normal += 1
            continue
        tally.normal_latency[phase[0]].append(time.perf_counter() - started)
        tally.count("normal POST", response)
        if response.status_code != 200:
            tally.unanswered_normal += 1
            continue
        try:
            read = await client.get(response.headers["location"], headers=headers)
        except httpx.HTTPError:
            tally.unanswered_normal += 1
            continue
        tally.count("normal GET", read)
        # a read may miss while Redis is paused (the result was computed but not stored): 404 is an answer
        if read.status_code not in (200, 404):
            tally.unanswered_normal += 1


def raw_head(port: int, payload: bytes, tally: Tally) -> None:
    """A connection that never finishes its request head: the server must close it."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(payload)
        conn.settimeout(REQUEST_TIMEOUT_S)
        try:
            while conn.recv(65536):
                pass
            tally.heads_closed += 1
        except ConnectionResetError:
            tally.heads_closed += 1
        except TimeoutError:
            tally.heads_held += 1


async def hostile_client(client: httpx.AsyncClient, port: int, tally: Tally, stop: float, seed: int) -> None:
    rng = random.Random(seed)
    keyed = {"Authorization": f"Bearer {KEY_HOSTILE}"}
    json_type = {"content-type": "application/json"}
    while time.monotonic() < stop:
        kind = rng.choice(
            [
                "surrogate",
                "surrogate-html",
                "huge-unauth",
                "malformed-unauth",
                "forged-xff",
                "refresh",
                "bad-json",
                "head",
            ]
        )
        try:
            if kind == "surrogate":
                body = ('{"text": "' + SURROGATE + '"}').encode()
                tally.count(kind, await client.post("/v1/summaries", content=body, headers=keyed | json_type))
            elif kind == "surrogate-html":
                body = ('{"html": "<p>' + SURROGATE + '</p>"}').encode()
                tally.count(kind, await client.post("/v1/summaries", content=body, headers=keyed | json_type))
            elif kind == "huge-unauth":
                tally.count(
                    kind, await client.post("/v1/summaries", content=b"{" * 3_000_000, headers=json_type)
                )
            elif kind == "malformed-unauth":
                tally.count(kind, await client.post("/v1/summaries", content=b'{"text": ', headers=json_type))
            elif kind == "forged-xff":
                headers = json_type | {"X-Forwarded-For": f"10.{rng.randint(0, 255)}.0.{rng.randint(1, 254)}"}
                tally.count(kind, await client.post("/v1/summaries", content=b"{}", headers=headers))
            elif kind == "refresh":
                body = json.dumps({"text": f"Gunmen killed {rng.randint(2, 9)} people in Idlib on Monday."})
                headers = keyed | json_type | {"Cache-Control": "no-cache"}
                tally.count(kind, await client.post("/v1/summaries", content=body.encode(), headers=headers))
            elif kind == "bad-json":
                tally.count(
                    kind, await client.post("/v1/summaries", content=b"[1, 2", headers=keyed | json_type)
                )
            else:
                payload = rng.choice(
                    [
                        b"",
                        b"POST /v1/summaries HTTP/1.1\r\nHost: x\r\n",
                        b"GET / HTTP/1.1\r\nX: " + b"a" * 20000,
                    ]
                )
                await asyncio.to_thread(raw_head, port, payload, tally)
        except httpx.HTTPError as e:
            tally.statuses.setdefault(kind, Counter())[-1] += 1  # the server closed it (e.g. an unread body)
            _ = e


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    redis, redis_port = start_redis()
    workdir = tempfile.mkdtemp(prefix="soak-")
    tally = Tally()
    try:
        with fake_upstream(latency_s=0.05) as upstream_url:
            port = free_port()
            env = {
                **{
                    k: v
                    for k, v in os.environ.items()
                    if not k.startswith(("SUMMARIZER_", "OPENAI_", "CACHE_"))
                },
                "PYTHONPATH": str(ROOT),
                "PROMPTS_DIR": str(ROOT / "prompts"),
                "SUMMARIZER_ENGINE": "llm",
                "SUMMARIZER_MODEL": "fake-model",
                "OPENAI_BASE_URL": upstream_url,
                "OPENAI_API_KEY": "sk-soak",
                "CACHE_URL": f"redis://127.0.0.1:{redis_port}/0",
                "API_KEYS": f"{KEY_NORMAL},{KEY_HOSTILE}",
                "RATE_LIMIT_PER_MINUTE": "100000",
                "RATE_LIMIT_BURST": "5000",
                "RATE_LIMIT_REFRESH_PER_MINUTE": "10",
                "LOG_LEVEL": "WARNING",
            }
            log_path = Path(workdir) / "server.log"
            server = start_server(port, env, log_path)
            try:
                wait_for_port(port, server)
                articles = distinct_articles(60)
                phase = ["before"]
                started = time.monotonic()
                stop = started + args.seconds
                timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
                limits = httpx.Limits(max_connections=args.normal + args.hostile)
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", timeout=timeout, limits=limits
                ) as client:

                    async def pause_redis() -> None:
                        await asyncio.sleep(args.seconds / 3)
                        redis.send_signal(signal.SIGSTOP)
                        phase[0] = "paused"
                        await asyncio.sleep(args.seconds / 3)
                        redis.send_signal(signal.SIGCONT)
                        phase[0] = "after"

                    ready_during_pause: list[int] = []

                    async def probe_readiness() -> None:
                        await asyncio.sleep(args.seconds / 2)
                        ready_during_pause.append((await client.get("/readyz")).status_code)

                    await asyncio.gather(
                        pause_redis(),
                        probe_readiness(),
                        *(normal_client(client, articles, tally, phase, stop, i) for i in range(args.normal)),
                        *(hostile_client(client, port, tally, stop, 100 + i) for i in range(args.hostile)),
                    )
                    ready_after = (await client.get("/readyz")).status_code
            finally:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
            logged = log_path.read_text(errors="replace").splitlines()
    finally:
        redis.send_signal(signal.SIGCONT)
        redis.terminate()
        redis.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    warnings = [line for line in logged if '"level": "WARNING"' in line]
    errors = [line for line in logged if '"level": "ERROR"' in line]
    return {
        "seconds": args.seconds,
        "statuses": {kind: dict(sorted(c.items())) for kind, c in sorted(tally.statuses.items())},
        "normal_requests": sum(tally.statuses.get("normal POST", Counter()).values()),
        "unanswered_normal": tally.unanswered_normal,
        "bare_500s": tally.bare_500s,
        "heads_closed": tally.heads_closed,
        "heads_held": tally.heads_held,
        "readyz_during_pause": ready_during_pause,
        "readyz_after": ready_after,
        "server_warning_lines": len(warnings),
        "server_error_lines": len(errors),
        "normal_latency_ms": {
            phase: {
                "n": len(values),
                "p50": round(statistics.median(values) * 1000, 1) if values else None,
                "p95": round(statistics.quantiles(values, n=20)[18] * 1000, 1) if len(values) > 20 else None,
                "max": round(max(values) * 1000, 1) if values else None,
            }
            for phase, values in tally.normal_latency.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--normal", type=int, default=6)
    parser.add_argument("--hostile", type=int, default=6)
    args = parser.parse_args()
    args.seconds = min(args.seconds, 300.0)
    print(f"machine: {machine()}", flush=True)
    report = asyncio.run(soak(args))
    for kind, counts in report["statuses"].items():
        print(f"{kind:>18}: {counts}")
    for phase, figures in report["normal_latency_ms"].items():
        print(f"normal latency {phase:>7}: {figures}")
    print(
        f"normal requests {report['normal_requests']}, unanswered {report['unanswered_normal']}, "
        f"bare 500s {report['bare_500s']}, heads closed {report['heads_closed']} (held {report['heads_held']}), "
        f"/readyz during pause {report['readyz_during_pause']}, after {report['readyz_after']}, "
        f"server warnings {report['server_warning_lines']}, errors {report['server_error_lines']}"
    )
    print(json.dumps(report))
    ok = report["bare_500s"] == 0 and report["unanswered_normal"] == 0 and report["heads_held"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
