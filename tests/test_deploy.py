"""The container files, checked without a container engine: the Dockerfile's install and start commands run in
this venv (the CMD starts `serve` on a free loopback port, /healthz and the HEALTHCHECK answer), and compose.yaml
wires two API replicas to one Redis."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 60.0


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    joined, parts = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not parts and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            parts += line.rstrip()[:-1] + " "
            continue
        joined.append(parts + line.strip())
        parts = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined]


def the(name: str) -> list[str]:
    return [args for instruction, args in instructions() if instruction == name]


def exec_form(args: str) -> list[str]:
    value = args.removeprefix("CMD").strip() if args.startswith("CMD") else args
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed)
    return parsed


def env() -> dict[str, str]:
    found: dict[str, str] = {}
    for args in the("ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            found[key] = value
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_image_is_slim_python_311_non_root_with_dependencies_in_their_own_layer() -> None:
    steps = instructions()
    assert the("FROM") and the("FROM")[0].startswith("python:3.11-slim")
    order = [f"{i} {a}" for i, a in steps]
    deps = next(n for n, step in enumerate(order) if step.startswith("RUN") and "pip install -r" in step)
    copy_pyproject = order.index("COPY pyproject.toml ./")
    copy_code = next(n for n, step in enumerate(order) if step.startswith("COPY service"))
    assert copy_pyproject < deps < copy_code  # code changes do not invalidate the dependency layer
    user = the("USER")
    assert user and user[-1] not in ("root", "0")
    assert order.index(f"USER {user[-1]}") < next(n for n, s in enumerate(order) if s.startswith("CMD"))
    assert env()["PROMPTS_DIR"] == "/app/prompts" and the("WORKDIR") == ["/app"]
    assert "COPY prompts ./prompts" in order


def test_the_dependency_step_installs_exactly_what_pyproject_declares(tmp_path: Path) -> None:
    """Run the RUN step's extraction command, then check this venv satisfies every requirement it prints."""
    step = next(args for args in the("RUN") if "pip install -r" in args)
    extract = step.split("&&")[0].split(">")[0].strip()
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    printed = subprocess.run(
        [sys.executable, *shlex.split(extract)[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    declared = __import__("tomllib").loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert printed == declared
    for line in printed:
        requirement = Requirement(line)
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            pytest.fail(f"{requirement.name} is declared but not installed")
        assert requirement.specifier.contains(installed, prereleases=True), (line, installed)


def test_the_cmd_starts_the_api_and_the_healthcheck_passes(tmp_path: Path) -> None:
    cmd = exec_form(the("CMD")[0])
    assert cmd[:2] == ["incident-summarizer", "serve"]  # with its connection limits (test below)
    assert "--workers" not in cmd  # WEB_CONCURRENCY decides
    port = free_port()
    cmd = [str(BIN / "incident-summarizer"), *cmd[1:]]
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    cmd[cmd.index("--port") + 1] = str(port)
    process_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SUMMARIZER_", "OPENAI_", "CACHE_"))},
        **env(),
        "PROMPTS_DIR": str(ROOT / "prompts"),  # where the image has /app/prompts
        "PYTHONPATH": str(ROOT),
        # as compose does with a model service: the engine is configured, never called here
        "SUMMARIZER_ENGINE": "llm",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    }
    server = start_server(cmd, process_env, tmp_path)
    try:
        health = wait_for(f"http://127.0.0.1:{port}/healthz", server)
        assert health == {"status": "ok"}
        ready = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5).read())
        assert ready["status"] == "ready"
        check = exec_form(the("HEALTHCHECK")[0].split("CMD", 1)[1].strip())
        assert check[0] == "python" and "/healthz" in check[-1]
        probe = [sys.executable, *check[1:-1], check[-1].replace("127.0.0.1:8000", f"127.0.0.1:{port}")]
        assert subprocess.run(probe, timeout=30).returncode == 0
    finally:
        output = stop_server(server)
    logged = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    assert any(entry.get("route") == "/healthz" for entry in logged), output.decode()[-2000:]
    workers = [
        e for e in logged if e["logger"] == "uvicorn.error" and e["message"].startswith("Started server")
    ]
    assert len(workers) == int(env()["WEB_CONCURRENCY"]) >= 1  # JSON logs from every worker


def start_server(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """The server in a session of its own (its workers too), its output captured."""
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_server(server: subprocess.Popen[bytes]) -> bytes:
    """SIGTERM to the server's whole session, as a container stop sends it; its output once it has exited."""
    os.killpg(server.pid, signal.SIGTERM)
    output, _ = server.communicate(timeout=30)
    return output


def wait_for(url: str, server: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"uvicorn exited with {server.returncode}: {server.stdout.read().decode()[-3000:]}")  # type: ignore[union-attr]
        try:
            return json.loads(urllib.request.urlopen(url, timeout=2).read())
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {STARTUP_TIMEOUT_S} s")


def test_dockerignore_keeps_secrets_and_local_state_out_but_not_what_the_image_copies() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".env", "data", "tests"} <= ignored
    copied = {args.split()[0].rstrip("/") for args in the("COPY")}
    assert copied == {"pyproject.toml", "README.md", "service", "prompts"}
    assert not copied & ignored
    assert all((ROOT / path).exists() for path in copied)


def test_compose_runs_two_replicas_on_one_redis_behind_a_balancer() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services: dict[str, Any] = compose["services"]
    api, redis, lb = services["api"], services["redis"], services["lb"]
    assert api["build"] == "." and api["deploy"]["replicas"] == 2
    assert api["environment"]["CACHE_URL"] == "redis://redis:6379/0"
    assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "ports" not in api  # only through the balancer
    assert redis["command"][:5] == ["redis-server", "--save", "", "--appendonly", "no"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    nginx = compose["configs"]["nginx_conf"]["content"]
    assert "server api:8000" in nginx and "proxy_pass http://api" in nginx
    assert lb["configs"][0]["source"] == "nginx_conf"
    text = (ROOT / "compose.yaml").read_text()
    assert "# vllm:" in text and "OPENAI_BASE_URL=http://vllm:8000/v1" in text


# --- forwarded headers: trusted from the balancer alone ----------------------------------------------------


def forwarding_problems(compose: dict[str, Any]) -> list[str]:
    """What lets a client choose the address the API sees (its rate-limit bucket, its logged address): the API
    trusting `X-Forwarded-For` from anyone but the balancer, or the balancer passing on a client's header."""
    problems: list[str] = []
    services: dict[str, Any] = compose["services"]
    api, lb = services["api"], services["lb"]
    if "ports" in api:
        problems.append("the API publishes a port: clients can reach it without the balancer")
    trusted = [ip.strip() for ip in str(api.get("environment", {}).get("FORWARDED_ALLOW_IPS", "")).split(",")]
    lb_networks = lb.get("networks") or {}  # a list names networks without fixed addresses
    lb_addresses = (
        {network: (config or {}).get("ipv4_address") for network, config in lb_networks.items()}
        if isinstance(lb_networks, dict)
        else {}
    )
    api_networks = set(api.get("networks") or [])
    for ip in trusted:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            problems.append(f"FORWARDED_ALLOW_IPS trusts {ip!r}, not one address")
            continue
        shared = [n for n, a in lb_addresses.items() if a == ip and n in api_networks]
        if not shared:
            problems.append(f"FORWARDED_ALLOW_IPS trusts {ip}, which is not the balancer's fixed address")
            continue
        subnets = [c["subnet"] for c in compose["networks"][shared[0]]["ipam"]["config"]]
        if not any(address in ipaddress.ip_network(subnet) for subnet in subnets):
            problems.append(f"the balancer's address {ip} is outside its network's subnet")
    nginx = compose["configs"]["nginx_conf"]["content"]
    forwarded = re.findall(r"proxy_set_header\s+X-Forwarded-For\s+([^;]+);", nginx, flags=re.IGNORECASE)
    if [value.strip().replace("$$", "$") for value in forwarded] != ["$remote_addr"]:
        problems.append(f"nginx sets X-Forwarded-For to {forwarded}, not only to $remote_addr")
    return problems


def test_forwarded_headers_are_trusted_from_the_balancer_alone() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert forwarding_problems(compose) == []
    assert compose["services"]["api"]["environment"]["FORWARDED_ALLOW_IPS"] == "172.28.0.10"


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda c: c["services"]["api"]["environment"].update(FORWARDED_ALLOW_IPS="*"), "not one address"),
        (
            lambda c: c["services"]["api"]["environment"].update(FORWARDED_ALLOW_IPS="172.28.0.11"),
            "not the balancer's",
        ),
        (
            lambda c: c["configs"]["nginx_conf"].update(
                content=c["configs"]["nginx_conf"]["content"].replace(
                    "$$remote_addr", "$$proxy_add_x_forwarded_for"
                )
            ),
            "not only to $remote_addr",
        ),
        (lambda c: c["services"]["api"].update(ports=["8000:8000"]), "publishes a port"),
    ],
    ids=["trust-anyone", "trust-another-address", "nginx-appends", "api-published"],
)
def test_the_forwarding_check_finds_each_unsafe_setting(change: Any, found: str) -> None:
    """The check above fails on what the reference deployment shipped before (`*` with nginx appending)."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    change(compose)
    assert any(found in problem for problem in forwarding_problems(compose)), forwarding_problems(compose)


def test_the_balancer_bounds_what_uvicorn_cannot() -> None:
    nginx = yaml.safe_load((ROOT / "compose.yaml").read_text())["configs"]["nginx_conf"]["content"]
    for directive in (
        "client_header_timeout",
        "client_body_timeout",
        "keepalive_timeout",
        "client_max_body_size",
    ):
        assert re.search(rf"^\s*{directive}\s+\S+;", nginx, flags=re.MULTILINE), directive


# --- `serve`: connections that never finish their request head are closed ------------------------------------

CLOSE_WAIT_S = (
    30.0  # generous: the server's bound is 2 s; this only keeps a broken server from hanging the test
)


def closed_by_server(conn: socket.socket) -> bool:
    """True when the server closes the connection before CLOSE_WAIT_S (reads to EOF); False on our timeout."""
    conn.settimeout(CLOSE_WAIT_S)
    try:
        while conn.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def test_serve_closes_connections_whose_request_head_never_completes(tmp_path: Path) -> None:
    port = free_port()
    process_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SUMMARIZER_", "OPENAI_", "CACHE_"))},
        "PROMPTS_DIR": str(ROOT / "prompts"),
        "PYTHONPATH": str(ROOT),
        "CACHE_URL": "memory://",
        "SUMMARIZER_ENGINE": "llm",  # configured, never called: starts without loading the extractive data
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    }
    command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--timeout-keep-alive", "2"]
    server = start_server(
        [*command, "--limit-concurrency", "50", "--max-head-bytes", "4096"], process_env, tmp_path
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz", server) == {"status": "ok"}
        idle = socket.create_connection(("127.0.0.1", port))
        half_sent = socket.create_connection(("127.0.0.1", port))
        half_sent.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")  # no blank line
        endless = socket.create_connection(("127.0.0.1", port))
        endless.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 8192)
        with idle, half_sent, endless:
            assert closed_by_server(endless)
            assert closed_by_server(half_sent)
            assert closed_by_server(idle)
        # a complete request on a kept-alive connection is served, then the idle connection is closed too
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            conn.settimeout(CLOSE_WAIT_S)
            assert conn.recv(65536).startswith(b"HTTP/1.1 200")
            assert closed_by_server(conn)
    finally:
        stop_server(server)
