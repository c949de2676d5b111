"""What every benchmark shares: the machine, free ports, a uvicorn server in a subprocess, the load generator
(wrk when installed, else an aiohttp loop) and the PASS/MISS line.

Benchmarks run from the repository root (`make bench`, or `.venv/bin/python bench/bench_x.py`); none of them
asserts: each prints its figures and one `PASS` or `MISS` line per target.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAMPLES = ROOT.parent / "shared" / "samples"

# The service as the benchmarks run it: the fake upstream is the model, memory cache unless said otherwise,
# no client rate limit (the load generator is one client), JSON logs to a file like in production.
SERVICE_ENV = {
    "SUMMARIZER_ENGINE": "llm",
    "SUMMARIZER_MODEL": "fake-model",
    "CACHE_URL": "memory://",
    "RATE_LIMIT_PER_MINUTE": "0",
    "RATE_LIMIT_REFRESH_PER_MINUTE": "0",  # the benches refresh (no-cache) on purpose
    "LOG_LEVEL": "INFO",
}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def verdict(name: str, value: float, target: str, ok: bool, unit: str = "") -> None:
    print(f"{'PASS' if ok else 'MISS'} {name}: {value:.3g}{unit} (target {target})", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sample(name: str = "syria_checkpoint_shootout") -> str:
    return (SAMPLES / f"{name}.txt").read_text(encoding="utf-8")


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path


@contextmanager
def uvicorn_server(
    app: str, env: Mapping[str, str] | None = None, *, factory: bool = True, workers: int = 1
) -> Iterator[Server]:
    """`uvicorn [--factory] APP` with one worker (unless told) on a free loopback port; logs go to a temp file."""
    port = free_port()
    args = [str(BIN / "uvicorn"), *(["--factory"] if factory else []), app]
    args += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log"]
    args += ["--log-level", "warning"]
    process_env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}", **(env or {})}
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        log_path = Path(workdir) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                args, cwd=workdir, env=process_env, stdout=log, stderr=subprocess.STDOUT
            )
            server = Server(f"http://127.0.0.1:{port}", process, log_path)
            try:
                wait_until_up(server)
                if workers > 1:
                    time.sleep(2.0)  # the port answers once the first worker is up; let the others start
                yield server
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_until_up(server: Server, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log_path.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start within {timeout_s} s")


def post_json(url: str, body: bytes, headers: Mapping[str, str] | None = None, timeout: float = 60) -> bytes:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return bytes(response.read())


# --- load generation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    tool: str
    requests_per_s: float
    requests: int
    errors: int


def generate_load(url: str, body: bytes, *, seconds: float, connections: int) -> Load:
    """Closed-loop POSTs of `body` for `seconds`: wrk when installed (`apt-get install wrk`; a C client on one
    thread leaves the other core to the server), else an aiohttp loop (Python, so it takes a good share of a
    core itself: compare ratios, not absolute rates, between machines with and without wrk)."""
    if shutil.which("wrk"):
        return _wrk(url, body, seconds=seconds, connections=connections)
    return asyncio.run(_aiohttp_loop(url, body, seconds=seconds, connections=connections))


_WRK_SCRIPT = """
local f = io.open(os.getenv("BENCH_BODY_FILE"), "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration))
end
"""


def _wrk(url: str, body: bytes, *, seconds: float, connections: int) -> Load:
    with tempfile.TemporaryDirectory(prefix="wrk-") as tmp:
        script, body_file = Path(tmp) / "post.lua", Path(tmp) / "body.json"
        script.write_text(_WRK_SCRIPT)
        body_file.write_bytes(body)
        args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), url]
        out = subprocess.run(
            args,
            env={**os.environ, "BENCH_BODY_FILE": str(body_file)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    found = re.search(r"BENCH (\d+) (\d+) (\d+) (\d+)", out)
    if found is None:
        raise RuntimeError(f"unexpected wrk output: {out}")
    requests, status_errors, socket_errors, duration_us = map(int, found.groups())
    return Load("wrk", requests / (duration_us / 1e6), requests, status_errors + socket_errors)


async def _aiohttp_loop(url: str, body: bytes, *, seconds: float, connections: int) -> Load:
    """aiohttp rather than httpx: its C parser costs the shared cores several times less per request."""
    counts = {"ok": 0, "errors": 0}
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:
        stop_at = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < stop_at:
                async with client.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    await response.read()
                counts["ok" if response.status == 200 else "errors"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    total = counts["ok"] + counts["errors"]
    return Load("aiohttp", total / elapsed, total, counts["errors"])


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


@contextmanager
def fake_upstream(latency_s: float = 0.0) -> Iterator[str]:
    """The fake OpenAI-compatible upstream in its own process; yields its base URL (…/v1)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "fake_upstream.py"),
            "--port",
            str(port),
            "--latency",
            str(latency_s),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the fake upstream did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)
