"""Author the cassettes that no model reachable here could record (run from the repository root):

    .venv/bin/python cassettes/author.py

For each authored cassette it plays hand-written answers (cassettes/authored_answers/*.json) through the
fault server of tests/fakes/openai_server.py — a real OpenAI-compatible HTTP server on 127.0.0.1 — drives the
real `llm` engine against it, records the real HTTP exchange with vcrpy (the same scrubbing config as the
tests, tests/fakes/cassettes.py), and puts a comment at the top of the YAML saying it is authored.

Run it after a change to the prompts, the schema or the request (`make record` does): replay matches the
request body, so a cassette made for another request fails. It rewrites the three cassettes below, recorded or
authored; the pinned unrepairable one is recorded from a small local model (docs/llm.md).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import vcr  # noqa: E402

from service.config import Settings  # noqa: E402
from service.engines.llm import LLMEngine  # noqa: E402
from service.prompts import Prompts  # noqa: E402
from tests.conftest import load_article  # noqa: E402
from tests.fakes.cassettes import (  # noqa: E402
    AUTHORED_LABEL,
    CASSETTE_DIR,
    VCR_CONFIG,
    authored_answer,
    configure,
)
from tests.fakes.openai_server import Behaviour, FaultServer, ungrounded, valid  # noqa: E402

STABLE_ORIGIN = "http://127.0.0.1:8080"


async def author(name: str, sample: str, answers: list[Behaviour]) -> None:
    path = CASSETTE_DIR / f"{name}.yaml"
    path.unlink(missing_ok=True)
    async with FaultServer() as server:
        server.script(*answers)
        origin = server.base_url.removesuffix("/v1")

        def stable_uri(request: Any) -> Any:
            request.uri = request.uri.replace(origin, STABLE_ORIGIN)
            return request

        recorder = vcr.VCR(record_mode="all", before_record_request=stable_uri, **VCR_CONFIG)
        configure(recorder, label=lambda cassette: AUTHORED_LABEL)
        engine = LLMEngine(
            Settings(engine="llm", openai_base_url=server.base_url, cache_url="memory://"), Prompts.load()
        )
        try:
            with recorder.use_cassette(str(path)):
                await engine.summarize(load_article(sample))
        finally:
            await engine.aclose()
        assert server.pending == 0, f"{name}: {server.pending} scripted answers were not used"
    print(f"wrote {path.relative_to(REPO)} ({server.calls} interactions)")


async def main() -> None:
    CASSETTE_DIR.mkdir(parents=True, exist_ok=True)
    syria = authored_answer("syria_checkpoint_shootout")
    derik = authored_answer("derik_vehicle_collision")
    await author(
        "test_cassette_valid_summary[syria_checkpoint_shootout]", "syria_checkpoint_shootout", [valid(syria)]
    )
    await author(
        "test_cassette_valid_summary[derik_vehicle_collision]", "derik_vehicle_collision", [valid(derik)]
    )
    await author("test_cassette_repair", "syria_checkpoint_shootout", [ungrounded(syria), valid(syria)])


if __name__ == "__main__":
    asyncio.run(main())
