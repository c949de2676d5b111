"""The cassettes of the `llm` engine (cassettes/test_llm_engine/*.yaml): vcrpy's configuration to record and
replay them, and the label at the top of each that says how it was made.

Replay matches the method, the path and the request body, compared as JSON (`json_body`): a change to the
prompt, the schema or any request parameter fails the replay ("no match for the request") until the cassette
is re-recorded or re-authored (`make record`, docs/llm.md). The host is not matched: it differs between
recording (OpenAI, llama.cpp, vLLM) and replay.

Every cassette starts with a comment that says how it was made (tests/test_cassettes.py checks it):

- `# RECORDED from <what served it> ...`: written by `pytest --record-mode=rewrite` against a real endpoint;
  the label names what served it (`CASSETTE_RECORDED_FROM`, e.g. "llama-cpp-python 0.3.36 serving
  SmolLM2-135M-Instruct Q4_1", else "an OpenAI-compatible endpoint"), the model it was asked for, the origin
  and the day;
- `# AUTHORED ...`: written by cassettes/author.py, which plays hand-written answers through the fault server.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vcr import VCR
from vcr.persisters.filesystem import FilesystemPersister
from vcr.request import Request
from vcr.serialize import serialize

from service.schema import IncidentSummary

REPO = Path(__file__).resolve().parents[2]
CASSETTE_DIR = REPO / "cassettes" / "test_llm_engine"
# Hand-written, grounded summaries of the two sample articles: what a good model answers (cassettes/author.py
# plays them into the authored cassettes; the tests use them as a good model's answers too).
AUTHORED_ANSWERS = REPO / "cassettes" / "authored_answers"

AUTHORED_LABEL = """\
# AUTHORED, not recorded from a model: written by cassettes/author.py, which plays hand-written answers
# (cassettes/authored_answers/) through tests/fakes/openai_server.py, an OpenAI-compatible server on
# 127.0.0.1, and records that real HTTP exchange with vcrpy in OpenAI's wire format. Re-author it with
# `make record` after a prompt or schema change, or re-record it against a real endpoint (docs/llm.md).
"""
# What served a recording, for its label (`make record` passes it on).
RECORDED_FROM_ENV = "CASSETTE_RECORDED_FROM"


def authored_answer(sample: str) -> IncidentSummary:
    return IncidentSummary.model_validate_json(
        (AUTHORED_ANSWERS / f"{sample}.json").read_text(encoding="utf-8")
    )


# --- scrubbing ---------------------------------------------------------------------------------------------

# Headers that may carry secrets or identify an account; scrubbed from every cassette (SPEC §6).
SCRUBBED_REQUEST_HEADERS = ("authorization", "api-key", "openai-organization", "openai-project", "cookie")
SCRUBBED_RESPONSE_HEADERS = frozenset(
    {"set-cookie", "openai-organization", "openai-project", "x-request-id", "cf-ray", "cf-cache-status",
     "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-limit-tokens",
     "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"}
)  # fmt: skip


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in [n for n in headers if n.lower() in SCRUBBED_RESPONSE_HEADERS]:
        del headers[name]
    return response


# --- matching ----------------------------------------------------------------------------------------------


def _parsed(body: bytes | str | None) -> Any:
    if body is None:
        return None
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        return json.loads(text)
    except ValueError:
        return text


def first_difference(sent: Any, recorded: Any, path: str = "$") -> str | None:
    """Where two JSON values first differ (`$.messages[0].content`), or None when they are equal."""
    if isinstance(sent, dict) and isinstance(recorded, dict):
        for key in sorted(set(sent) | set(recorded)):
            if key not in sent or key not in recorded:
                return f"{path}.{key} ({'only recorded' if key in recorded else 'only sent'})"
            found = first_difference(sent[key], recorded[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(sent, list) and isinstance(recorded, list):
        for i, (a, b) in enumerate(zip(sent, recorded, strict=False)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None if len(sent) == len(recorded) else f"{path} (length {len(sent)} != {len(recorded)})"
    return None if sent == recorded else path


def json_body(sent: Request, recorded: Request) -> None:
    """vcrpy matcher: the request bodies are equal as JSON (key order and whitespace aside)."""
    difference = first_difference(_parsed(sent.body), _parsed(recorded.body))
    if difference is not None:
        raise AssertionError(
            f"the request body differs at {difference}: the prompt, the schema or a request parameter changed "
            "since this cassette was made; re-record or re-author it (make record, docs/llm.md)"
        )


VCR_CONFIG: dict[str, Any] = {
    "filter_headers": list(SCRUBBED_REQUEST_HEADERS),
    "before_record_response": scrub_response,
    "decode_compressed_response": True,
    "match_on": ("method", "path", "json_body"),
}


# --- labels ------------------------------------------------------------------------------------------------


def recorded_label(cassette: dict[str, Any]) -> str:
    """The label of a cassette recorded from a real endpoint: what served it, the model, origin and day."""
    requests: list[Request] = cassette["requests"]
    body = _parsed(requests[0].body) if requests else None
    model = body.get("model", "?") if isinstance(body, dict) else "?"
    origin = urlsplit(requests[0].uri)._replace(path="", query="", fragment="").geturl() if requests else "?"
    served_by = os.environ.get(RECORDED_FROM_ENV) or "an OpenAI-compatible endpoint"
    today = datetime.date.today().isoformat()
    return (
        f"# RECORDED from {served_by},\n"
        f"# not authored: model {json.dumps(model)} at {origin}, on {today}, by `pytest --record-mode=rewrite`\n"
        "# (make record). Replay matches the request body: after a prompt or schema change, re-record it or\n"
        "# re-author it as docs/llm.md describes.\n"
    )


class LabelledPersister(FilesystemPersister):
    """Saves a cassette as vcrpy does, with its label comment on top (YAML ignores it when loading)."""

    def __init__(self, label: Callable[[dict[str, Any]], str]) -> None:
        self._label = label

    def save_cassette(
        self, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        path = Path(cassette_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self._label(cassette_dict) + serialize(cassette_dict, serializer), encoding="utf-8")


def configure(vcr: VCR, label: Callable[[dict[str, Any]], str] = recorded_label) -> None:
    """Registers the body matcher and the labelling persister on a VCR (pytest-recording's, or author.py's)."""
    vcr.register_matcher("json_body", json_body)
    vcr.register_persister(LabelledPersister(label))
