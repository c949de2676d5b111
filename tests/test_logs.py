"""Structured logs and request ids: JSON lines, X-Request-ID accepted or made, one access line per request,
no article text or secret at INFO, and a logging setup that leaves pytest's handlers alone."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator

import pytest

from service import logs
from service.request_context import RequestContext, _current, accepted_request_id
from tests.conftest import AppClient, FakeEngine, llm_settings

TEXT = "Two soldiers were killed on Monday when gunmen attacked a checkpoint near Idlib, officials said."
MARKER = "Zanzibarian-marker-7731"
API_KEY = "key-" + "s3cr3t" * 4
GENERATED = re.compile(r"^[0-9a-f]{32}$")


def test_the_formatter_writes_one_json_object_with_extras_and_the_request_id() -> None:
    record = logging.LogRecord("service.x", logging.INFO, __file__, 1, "served %s", ("it",), None)
    record.route = "/v1/summaries"
    token = _current.set(RequestContext("req-42"))
    try:
        line = logs.RequestJsonFormatter().format(record)
    finally:
        _current.reset(token)
    body = json.loads(line)
    assert "\n" not in line
    assert body["message"] == "served it" and body["level"] == "INFO" and body["logger"] == "service.x"
    assert body["route"] == "/v1/summaries" and body["request_id"] == "req-42" and body["timestamp"]


@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("abc-123_x.y:z", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("bad id", False),
        ("é", False),
        ("", False),
    ],
)
def test_only_short_safe_request_ids_are_accepted(offered: str, kept: bool) -> None:
    accepted = accepted_request_id(offered)
    assert (accepted == offered) is kept
    if not kept:
        assert GENERATED.match(accepted)


async def test_request_id_is_echoed_in_the_header_and_in_problem_bodies(app_client: AppClient) -> None:
    async with app_client(llm_settings(), engine=FakeEngine()) as client:
        echoed = await client.get("/healthz", headers={"X-Request-ID": "trace-1"})
        made = await client.get("/healthz")
        unsafe = await client.get("/healthz", headers=[(b"X-Request-ID", "x\u00e9<script>".encode())])
        problem = await client.get(f"/v1/summaries/{'0' * 32}", headers={"X-Request-ID": "trace-2"})
        invalid = await client.post("/v1/summaries", json={"nope": 1})
    assert echoed.headers["x-request-id"] == "trace-1"
    assert GENERATED.match(made.headers["x-request-id"])
    assert GENERATED.match(unsafe.headers["x-request-id"])
    assert problem.status_code == 404 and problem.headers["x-request-id"] == "trace-2"
    assert problem.json()["request_id"] == "trace-2"
    assert invalid.status_code == 422 and invalid.json()["request_id"] == invalid.headers["x-request-id"]


async def test_one_access_line_per_request_without_text_or_secrets(
    app_client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    article = f"{TEXT} The commander, {MARKER}, said the attackers fled."
    async with app_client(llm_settings(api_keys=API_KEY), engine=FakeEngine()) as client:
        auth = {"Authorization": f"Bearer {API_KEY}", "X-Request-ID": "req-a"}
        first = await client.post("/v1/summaries", json={"text": article}, headers=auth)
        second = await client.post(
            "/v1/summaries", json={"text": article}, headers=auth | {"X-Request-ID": "req-b"}
        )
        # with the key: a wrong method is routed (405); without one it is 401 before routing (deps.admit)
        await client.get("/v1/summaries", headers=auth | {"X-Request-ID": "req-c"})
    assert first.status_code == second.status_code == 200
    access = [r for r in caplog.records if r.name == "service.access"]
    fields = [(r.request_id, r.method, r.route, r.status, r.engine, r.cached) for r in access]  # type: ignore[attr-defined]
    assert fields == [
        ("req-a", "POST", "/v1/summaries", 200, "fake", False),
        ("req-b", "POST", "/v1/summaries", 200, "fake", True),
        ("req-c", "GET", "/v1/summaries", 405, None, None),
    ]
    assert all(r.levelno == logging.INFO and r.latency_ms >= 0 for r in access)  # type: ignore[attr-defined]
    formatter = logs.RequestJsonFormatter()
    for record in caplog.records:
        if record.levelno >= logging.INFO:
            line = formatter.format(record)
            assert MARKER not in line and API_KEY not in line and "gunmen" not in line, line


@contextlib.contextmanager
def bare_root_logger() -> Iterator[logging.Logger]:
    """The root logger with no handlers (as in a fresh server process); everything restored afterwards.

    Used inside the test body: pytest adds its capture handlers when each test phase starts."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved_uvicorn = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names}
    access_disabled = logging.getLogger("uvicorn.access").disabled
    root.handlers.clear()
    try:
        yield root
    finally:
        root.handlers[:], root.level = saved
        for name, (handlers, propagate) in saved_uvicorn.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
        logging.getLogger("uvicorn.access").disabled = access_disabled


def test_configure_installs_json_logging_in_a_fresh_process(capsys: pytest.CaptureFixture[str]) -> None:
    with bare_root_logger() as root:
        logging.getLogger("uvicorn").addHandler(logging.NullHandler())  # as uvicorn's default config does
        assert logs.configure("INFO") is True
        assert logs.configure("INFO") is False  # idempotent: a second app in the process adds nothing
        assert len(root.handlers) == 1 and root.level == logging.INFO
        assert logging.getLogger("uvicorn").handlers == [] and logging.getLogger("uvicorn").propagate
        assert logging.getLogger("uvicorn.access").disabled is True
        logging.getLogger("uvicorn.error").info("Started server process")
        logging.getLogger("service.test").debug("not at INFO")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(b["logger"], b["message"]) for b in lines] == [("uvicorn.error", "Started server process")]


def test_configure_leaves_existing_handlers_alone(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    before = root.handlers[:]
    assert before  # pytest's own handlers
    assert logs.configure("DEBUG") is False
    assert root.handlers == before
    logging.getLogger("service.test").warning("still captured")
    assert "still captured" in caplog.text
