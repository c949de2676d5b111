"""`batch --upstream-batch`: the real-time requests through the Batch API (tests/fakes/openai_batch_server.py),
every answer judged, repaired in a second batch or in real time, cached under the API's key, resumable."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service import cli, upstream_batch
from service.article import ArticleIn
from service.batch import BatchReport
from service.batch_api import BatchApi, parse_results, request_line, split
from service.batch_state import BatchState, Part
from service.config import Settings
from service.engines.llm import LLMEngine
from service.errors import UpstreamRejected
from service.main import build_summarizer
from service.prompts import Prompts
from service.summarizer import Summarizer
from service.text.html_extract import Page
from service.upstream import Upstream
from tests.conftest import PROBLEM_TYPE, AppClient, FakeClock, sample_text
from tests.fakes.openai_batch_server import (
    BatchServer,
    FakeBatch,
    LineBehaviour,
    LineError,
    answer_every_request,
)
from tests.fakes.openai_server import Answer, FaultServer, first_sentence_summary, ungrounded, valid
from tests.fakes.page_server import PageServer


def text(n: int) -> str:
    return f"Gunmen attacked checkpoint number {n} near Idlib on Monday, killing {n + 1} soldiers, officials said."


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> dict[str, dict[str, Any]]:
    """OUT by id: the last line of each id counts."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {line["id"]: line for line in lines}


def remove_tree(path: Path) -> None:
    shutil.rmtree(path)


def articles(n: int) -> list[dict[str, Any]]:
    return [{"id": f"a{i}", "text": text(i)} for i in range(n)]


def settings_for(server: BatchServer, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        engine="llm",
        openai_base_url=server.base_url,
        cache_url=f"sqlite:///{tmp_path / 'cache.sqlite3'}",
        **overrides,
    )


@dataclass
class Job:
    summarizer: Summarizer
    engine: LLMEngine
    api: BatchApi
    clock: FakeClock


@asynccontextmanager
async def open_job(settings: Settings, clock: FakeClock | None = None) -> AsyncIterator[Job]:
    """What the CLI builds: the llm engine, the summarizer around it (the API's cache key), the Batch API;
    every wait on a clock the test moves."""
    clock = clock or FakeClock()
    engine = LLMEngine(settings, Prompts.load(), sleep=clock.sleep, clock=clock)
    summarizer = build_summarizer(settings, engine=engine)
    api = BatchApi(Upstream(settings, sleep=clock.sleep, clock=clock), sleep=clock.sleep)
    try:
        yield Job(summarizer, engine, api, clock)
    finally:
        await api.aclose()
        await summarizer.aclose()


async def run(
    settings: Settings, in_path: Path, out_path: Path, clock: FakeClock | None = None, **options: Any
) -> BatchReport:
    async with open_job(settings, clock) as job:
        options.setdefault("progress", False)
        return await upstream_batch.run(job.summarizer, job.engine, job.api, in_path, out_path, **options)


def ungrounded_first_answer_of(*bad: str) -> Any:
    """A responder: the articles `bad` get an ungrounded first answer, and every other answer is valid."""

    def respond(custom_id: str | None, body: dict[str, Any]) -> LineBehaviour:
        first_turn = len(body["messages"]) == 2
        is_bad = custom_id in bad or (custom_id is None and text(1) in body["messages"][1]["content"])
        if is_bad and first_turn:
            return ungrounded(first_sentence_summary(body))
        return answer_every_request(custom_id, body)

    return respond


# --- one round ------------------------------------------------------------------------------------------


async def test_the_real_time_requests_go_in_one_batch_and_every_answer_is_written(tmp_path: Path) -> None:
    rows = articles(3)
    rows[0]["feed"] = "afp"  # passed through
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out.jsonl"
    clock, stream = FakeClock(), io.StringIO()
    async with BatchServer() as server:
        settings = settings_for(server, tmp_path)
        report = await run(settings, in_path, out_path, clock, progress=True, progress_file=stream)

        assert (len(server.uploads), len(server.creates), server.chats) == (1, 1, [])
        assert server.files[server.uploads[0]][2] == "batch"
        sent = server.requests_of(server.creates[0])
    out = read_jsonl(out_path)
    assert sorted(out) == ["a0", "a1", "a2"] and all("result" in line for line in out.values())
    assert out["a0"]["extra"] == {"feed": "afp"} and "extra" not in out["a1"]
    meta = out["a1"]["result"]["meta"]
    assert meta["engine"] == "llm" and meta["attempts"] == 1 and meta["usage"]["prompt_tokens"] > 0
    assert out["a1"]["result"]["summary"]["summary"][0]["citations"] == ["S1"]
    assert [line["custom_id"] for line in sent] == ["a0", "a1", "a2"]
    assert {line["url"] for line in sent} == {"/v1/chat/completions"}
    # polled with backoff: validating, in_progress (a wait each), completed
    assert clock.sleeps == [5.0, 10.0]
    assert "3/3" in stream.getvalue() and "batch round 1" in stream.getvalue()
    total = sum(line["result"]["meta"]["usage"]["prompt_tokens"] for line in out.values())
    assert (report.done, report.failed, report.usage.prompt_tokens) == (3, 0, total)
    assert not BatchState.path_for(out_path).exists()  # the job is done: no state left behind
    assert not BatchState.inputs_dir(out_path).exists()


async def test_a_batch_request_is_the_request_the_real_time_path_sends(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": text(1), "title": "Checkpoint"}])
    async with BatchServer() as server:
        await run(settings_for(server, tmp_path), in_path, tmp_path / "out.jsonl")
        batched = server.requests_of(server.creates[0])[0]["body"]
        async with FaultServer(default=lambda body: valid(first_sentence_summary(body))) as realtime:
            settings = Settings(engine="llm", openai_base_url=realtime.base_url, cache_url="memory://")
            summarizer = build_summarizer(settings)
            try:
                await summarizer.summarize(ArticleIn(text=text(1), title="Checkpoint"))
            finally:
                await summarizer.aclose()
            assert realtime.bodies == [batched]


async def test_the_api_serves_a_batch_result_as_a_cache_hit(tmp_path: Path, app_client: AppClient) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": text(1), "published_at": "2024-02-12"}])
    out_path = tmp_path / "out.jsonl"
    async with BatchServer() as server:
        settings = settings_for(server, tmp_path)
        await run(settings, in_path, out_path)
        async with app_client(settings) as client:
            response = await client.post(
                "/v1/summaries", json={"text": text(1), "published_at": "2024-02-12"}
            )
        assert response.status_code == 200, response.text
        assert server.chats == [] and len(server.creates) == 1  # no call: the cache answered
    body = response.json()
    assert body["meta"]["cached"] is True
    assert body["id"] == read_jsonl(out_path)["x"]["result"]["id"]


async def test_a_batch_answer_gets_the_derived_facts_of_a_real_time_one(tmp_path: Path) -> None:
    """The model's answer states no date (the fake answers with the first sentence only): the line's result
    carries the publication date as a derived fact, as the real-time path's `settle` adds it."""
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": text(1), "published_at": "2024-02-12"}])
    out_path = tmp_path / "out.jsonl"
    async with BatchServer() as server:
        await run(settings_for(server, tmp_path), in_path, out_path)
    result = read_jsonl(out_path)["x"]["result"]
    assert result["summary"]["date"] is None
    assert [(d["path"], d["value"]) for d in result["meta"]["derived"]] == [("date", "2024-02-12")]
    assert any(w.startswith("date: '2024-02-12' derived") for w in result["meta"]["warnings"])


async def test_a_url_line_is_fetched_and_sent_as_the_page_text_and_a_forbidden_one_is_a_problem(
    tmp_path: Path,
) -> None:
    rows: list[dict[str, Any]] = [
        {"id": "page", "url": None},  # filled in below, once the page server has its port
        {"id": "metadata", "url": "http://169.254.169.254/latest/meta-data/"},
    ]
    async with PageServer() as pages, BatchServer() as server:
        rows[0]["url"] = pages.url("/plain/derik_vehicle_collision")
        in_path, out_path = write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out.jsonl"
        settings = settings_for(server, tmp_path, url_allowlist="127.0.0.1/32")
        report = await run(settings, in_path, out_path)
        [sent] = server.requests_of(server.creates[0])
    out = read_jsonl(out_path)
    assert sent["custom_id"] == "page"
    assert "Two US officials revealed on Wednesday" in sample_text("derik_vehicle_collision")
    assert "Two US officials revealed on Wednesday" in sent["body"]["messages"][1]["content"]
    assert out["page"]["result"]["sentences"] and (report.done, report.failed) == (1, 1)
    assert out["metadata"]["error"]["type"] == PROBLEM_TYPE + "url-forbidden"


async def test_a_cached_article_is_not_sent_again(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", articles(2))
    async with BatchServer() as server:
        settings = settings_for(server, tmp_path)
        await run(settings, in_path, tmp_path / "first.jsonl")
        report = await run(settings, in_path, tmp_path / "second.jsonl")
        assert len(server.creates) == 1
    out = read_jsonl(tmp_path / "second.jsonl")
    assert report.done == 2 and all(line["result"]["meta"]["cached"] for line in out.values())
    assert report.usage.prompt_tokens == 0  # a hit costs nothing


# --- repairs --------------------------------------------------------------------------------------------


async def test_an_answer_that_fails_grounding_is_repaired_in_a_second_batch(tmp_path: Path) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(3)), tmp_path / "out.jsonl"
    async with BatchServer(responder=ungrounded_first_answer_of("a1")) as server:
        report = await run(settings_for(server, tmp_path), in_path, out_path)
        assert len(server.creates) == 2 and server.chats == []
        first, second = (server.requests_of(batch_id) for batch_id in server.creates)
    assert [line["custom_id"] for line in second] == ["a1"]  # only the failed answer goes again
    repair = second[0]["body"]["messages"]
    assert repair[:2] == first[1]["body"]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "S999" in repair[2]["content"] and "unknown_citation" in repair[3]["content"]
    out = read_jsonl(out_path)
    assert report.done == 3 and all("result" in line for line in out.values())
    meta = out["a1"]["result"]["meta"]
    assert meta["attempts"] == 2 and "the model's answer needed 1 repair turn(s)" in meta["warnings"]
    assert out["a0"]["result"]["meta"]["attempts"] == 1
    assert (
        meta["usage"]["prompt_tokens"] > out["a0"]["result"]["meta"]["usage"]["prompt_tokens"]
    )  # both rounds


async def test_with_repair_realtime_the_repair_turn_is_a_real_time_call(tmp_path: Path) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(3)), tmp_path / "out.jsonl"
    async with BatchServer(responder=ungrounded_first_answer_of("a1")) as server:
        report = await run(settings_for(server, tmp_path), in_path, out_path, repair="realtime")
        assert len(server.creates) == 1 and len(server.chats) == 1
        assert [m["role"] for m in server.chats[0]["messages"]] == ["system", "user", "assistant", "user"]
    out = read_jsonl(out_path)
    assert report.done == 3 and out["a1"]["result"]["meta"]["attempts"] == 2


@pytest.mark.parametrize("max_repairs", [0, 1])
async def test_the_repair_budget_is_the_real_time_one(tmp_path: Path, max_repairs: int) -> None:
    def always_ungrounded(custom_id: str | None, body: dict[str, Any]) -> LineBehaviour:
        return (
            ungrounded(first_sentence_summary(body))
            if custom_id == "a1"
            else answer_every_request(None, body)
        )

    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(2)), tmp_path / "out.jsonl"
    async with BatchServer(responder=always_ungrounded) as server:
        report = await run(settings_for(server, tmp_path, max_repairs=max_repairs), in_path, out_path)
        assert len(server.creates) == max_repairs + 1
    error = read_jsonl(out_path)["a1"]["error"]
    assert error["type"] == PROBLEM_TYPE + "unrepairable-output"
    assert error["attempts"] == max_repairs + 1 and error["usage"]["prompt_tokens"] > 0
    assert (report.done, report.failed) == (1, 1)


# --- batches that end badly -----------------------------------------------------------------------------


async def test_an_expired_batch_gives_its_unanswered_articles_a_problem(tmp_path: Path) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(3)), tmp_path / "out.jsonl"
    async with BatchServer(script=("validating", "in_progress", "expired"), answered=1) as server:
        settings = settings_for(server, tmp_path)
        report = await run(settings, in_path, out_path)
        out = read_jsonl(out_path)
        assert "result" in out["a0"] and (report.done, report.failed) == (1, 2)
        for key in ("a1", "a2"):
            assert out[key]["error"]["type"] == PROBLEM_TYPE + "upstream-batch-failed"
            assert "expired" in out[key]["error"]["detail"] and "batch_expired" in out[key]["error"]["detail"]
        server.script = ("validating", "in_progress", "completed")
        again = await run(settings, in_path, out_path, retry_errors=True)  # sent again, in a new batch
        assert [line["custom_id"] for line in server.requests_of(server.creates[-1])] == ["a1", "a2"]
    assert (again.done, again.skipped) == (2, 1)
    assert all("result" in line for line in read_jsonl(out_path).values())


async def test_a_failed_batch_and_a_failed_request_become_problems(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", articles(2))
    async with BatchServer(script=("validating", "failed")) as server:
        await run(settings_for(server, tmp_path), in_path, tmp_path / "failed.jsonl")
    out = read_jsonl(tmp_path / "failed.jsonl")
    assert {line["error"]["type"] for line in out.values()} == {PROBLEM_TYPE + "upstream-batch-failed"}
    assert "invalid_json_line" in out["a0"]["error"]["detail"]

    def reject_a1(custom_id: str | None, body: dict[str, Any]) -> LineBehaviour:
        return (
            LineError(400, "context_length_exceeded")
            if custom_id == "a1"
            else answer_every_request(None, body)
        )

    async with BatchServer(responder=reject_a1) as server:
        report = await run(settings_for(server, tmp_path), in_path, tmp_path / "line.jsonl")
    out = read_jsonl(tmp_path / "line.jsonl")
    assert "result" in out["a0"] and "context_length_exceeded" in out["a1"]["error"]["detail"]
    assert out["a1"]["error"]["attempts"] == 1 and (report.done, report.failed) == (1, 1)


async def test_a_refusal_is_a_problem_not_a_repair(tmp_path: Path) -> None:
    def refuse(custom_id: str | None, body: dict[str, Any]) -> LineBehaviour:
        return Answer(None, refusal="I can't help with that.")

    async with BatchServer(responder=refuse) as server:
        await run(
            settings_for(server, tmp_path), write_jsonl(tmp_path / "in.jsonl", articles(1)), tmp_path / "o"
        )
        assert len(server.creates) == 1
    assert read_jsonl(tmp_path / "o")["a0"]["error"]["type"] == PROBLEM_TYPE + "model-refused"


# --- resuming, status, cancel ---------------------------------------------------------------------------


class Killed(Exception):
    """Stands for the process dying (Ctrl-C, a crash) while it waits for the batch."""


async def die(seconds: float) -> None:
    raise Killed


async def run_until_killed(job: Job, settings: Settings, in_path: Path, out_path: Path) -> None:
    """The job's run, killed at its first wait: after its batch was created."""
    killed = BatchApi(Upstream(settings), sleep=die)
    try:
        with pytest.raises(Killed):
            await upstream_batch.run(job.summarizer, job.engine, killed, in_path, out_path, progress=False)
    finally:
        await killed.aclose()


async def test_a_killed_run_resumes_polling_without_a_second_batch(tmp_path: Path) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(3)), tmp_path / "out.jsonl"

    async with BatchServer() as server:
        settings = settings_for(server, tmp_path)
        async with open_job(settings) as job:
            await run_until_killed(job, settings, in_path, out_path)
        assert len(server.creates) == 1
        state = BatchState.load(out_path)
        assert state is not None and state.parts[0].batch_id == server.creates[0]

        report = await run(settings, in_path, out_path)
        assert len(server.creates) == 1 and len(server.uploads) == 1  # the same batch, polled to its end
    assert report.done == 3 and sorted(read_jsonl(out_path)) == ["a0", "a1", "a2"]


async def test_a_resumed_run_uses_the_page_text_it_sent_and_fetches_nothing_again(tmp_path: Path) -> None:
    """The page is gone when the killed run resumes: the answer already paid for is judged against the text
    it was written for (kept in the job's state), not thrown away as a fetch failure."""

    async with BatchServer() as server:
        async with PageServer() as pages:
            url = pages.url("/plain/derik_vehicle_collision")
            in_path, out_path = (
                write_jsonl(tmp_path / "in.jsonl", [{"id": "p", "url": url}]),
                tmp_path / "o.jsonl",
            )
            settings = settings_for(server, tmp_path, url_allowlist="127.0.0.1/32")
            async with open_job(settings) as job:
                await run_until_killed(job, settings, in_path, out_path)
            fetches = len(pages.requests)
        state = BatchState.load(out_path)
        assert state is not None and "Two US officials revealed" in state.pages["p"].text
        report = await run(settings, in_path, out_path)  # the page server is closed now
        assert len(server.creates) == 1
    out = read_jsonl(out_path)
    assert fetches == 1 and report.done == 1 and "result" in out["p"], out["p"]
    assert out["p"]["result"]["meta"]["cached"] is False


async def test_a_resumed_run_downloads_its_input_file_when_the_local_copy_is_gone(tmp_path: Path) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(2)), tmp_path / "out.jsonl"

    async with BatchServer(responder=ungrounded_first_answer_of("a1")) as server:
        settings = settings_for(server, tmp_path)
        async with open_job(settings) as job:
            await run_until_killed(job, settings, in_path, out_path)
        remove_tree(BatchState.inputs_dir(out_path))
        report = await run(settings, in_path, out_path)
        assert (
            len(server.creates) == 2
        )  # the first batch, and the repair of a1 built from the downloaded file
        repair = server.requests_of(server.creates[1])[0]["body"]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert report.done == 2


def test_a_result_line_that_is_not_json_is_skipped() -> None:
    good = {"custom_id": "a", "response": {"status_code": 200, "body": {"id": "x"}}, "error": None}
    data = b'{"custom_id": "b", "resp\n' + json.dumps(good).encode() + b"\n[1]\n\n"
    [answered] = parse_results(data)
    assert (answered.custom_id, answered.status_code, answered.body) == ("a", 200, {"id": "x"})


async def test_a_run_stopped_between_upload_and_create_does_not_upload_again(tmp_path: Path) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(2)), tmp_path / "out.jsonl"
    async with BatchServer() as server:
        settings = settings_for(server, tmp_path)
        server.reject_creates = 1  # the upload goes through, the create is refused: the run stops
        with pytest.raises(UpstreamRejected):
            await run(settings, in_path, out_path)
        state = BatchState.load(out_path)
        assert (
            state is not None
            and state.parts[0].file_id == server.uploads[0]
            and state.parts[0].batch_id is None
        )
        report = await run(settings, in_path, out_path)
        assert len(server.uploads) == 1 and len(server.creates) == 1
        assert server.batches[server.creates[0]].input_file_id == server.uploads[0]
    assert report.done == 2


async def test_status_and_cancel(tmp_path: Path) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(4)), tmp_path / "out.jsonl"

    async with BatchServer() as server:
        settings = settings_for(server, tmp_path)
        async with open_job(settings) as job:
            assert await upstream_batch.status(job.api, out_path) == []  # no job yet
            await run_until_killed(job, settings, in_path, out_path)
            [running] = await upstream_batch.status(job.api, out_path)
            assert running["batch_id"] == server.creates[0] and running["status"] == "in_progress"
            assert running["request_counts"] == {"total": 4, "completed": 2, "failed": 0}
            assert await upstream_batch.cancel(job.api, out_path) == [server.creates[0]]
            assert server.cancels == [server.creates[0]]
        report = await run(settings, in_path, out_path)  # collects what the batch answered before it stopped
        assert len(server.creates) == 1
    out = read_jsonl(out_path)
    assert (report.done, report.failed) == (2, 2)
    assert all("cancelled" in out[key]["error"]["detail"] for key in ("a2", "a3"))


async def test_a_state_of_another_input_is_not_resumed(tmp_path: Path) -> None:
    out_path = tmp_path / "out.jsonl"
    BatchState(in_path=str(tmp_path / "other.jsonl"), model="gpt-4o-mini").save(out_path)
    async with BatchServer() as server:
        with pytest.raises(upstream_batch.JobMismatch, match=r"other\.jsonl"):
            await run(
                settings_for(server, tmp_path), write_jsonl(tmp_path / "in.jsonl", articles(1)), out_path
            )
        assert server.creates == []


async def test_lines_already_in_out_are_skipped(tmp_path: Path) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(3)), tmp_path / "out.jsonl"
    async with BatchServer() as server:
        settings = settings_for(server, tmp_path)
        await run(settings, write_jsonl(tmp_path / "first.jsonl", articles(2)), out_path)
        report = await run(settings, in_path, out_path)
        assert [line["custom_id"] for line in server.requests_of(server.creates[-1])] == ["a2"]
    assert (report.done, report.skipped) == (1, 2)


# --- files within the API's limits, retries, cost -------------------------------------------------------


def test_request_files_are_split_within_the_limits() -> None:
    lines = [request_line(f"id{i}", {"n": "x" * i}) for i in range(7)]
    by_count = list(split(lines, max_requests=3, max_bytes=10**6))
    assert [len(part) for part in by_count] == [3, 3, 1] and [x for p in by_count for x in p] == lines
    limit = len(lines[0]) + len(lines[1]) + len(lines[2])
    by_size = list(split(lines, max_requests=50_000, max_bytes=limit))
    assert all(sum(map(len, part)) <= limit for part in by_size) and [x for p in by_size for x in p] == lines
    assert len(by_size[0]) == 3 and len(by_size) > 1


async def test_one_batch_per_file(tmp_path: Path) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(5)), tmp_path / "out.jsonl"
    async with BatchServer() as server:
        report = await run(settings_for(server, tmp_path), in_path, out_path, max_requests=2)
        assert len(server.uploads) == len(server.creates) == 3
        assert [len(server.requests_of(b)) for b in server.creates] == [2, 2, 1]
    assert report.done == 5


async def test_transport_errors_are_retried_by_the_one_policy(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", articles(1))
    clock = FakeClock()
    async with BatchServer() as server:
        server.fail_next(503, 429)  # the upload fails twice, then goes through
        report = await run(settings_for(server, tmp_path, max_retries=2), in_path, tmp_path / "o", clock)
        assert len(server.uploads) == 1 and len(server.creates) == 1
    assert report.done == 1 and len(clock.sleeps) == 4  # two retry waits, two polls


async def test_the_batch_discount_is_applied_to_the_cost(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", articles(2))
    async with BatchServer() as server:
        settings = settings_for(server, tmp_path, prices={"gpt-4o-mini": (1.0, 4.0)})
        report = await run(settings, in_path, tmp_path / "out.jsonl")
    out = read_jsonl(tmp_path / "out.jsonl")
    costs = []
    for line in out.values():
        meta = line["result"]["meta"]
        full = (meta["usage"]["prompt_tokens"] * 1.0 + meta["usage"]["completion_tokens"] * 4.0) / 1e6
        assert meta["cost_usd"] == pytest.approx(full * 0.5, abs=2e-6)
        costs.append(meta["cost_usd"])
    assert report.cost_usd == pytest.approx(sum(costs), abs=2e-6)


async def test_a_realtime_repair_pays_full_price_for_its_own_call(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", articles(2))
    async with BatchServer(responder=ungrounded_first_answer_of("a1")) as server:
        settings = settings_for(server, tmp_path, prices={"gpt-4o-mini": (1.0, 1.0)}, batch_discount=0.5)
        await run(settings, in_path, tmp_path / "out.jsonl", repair="realtime")
        chat = server.chats[0]
    meta = read_jsonl(tmp_path / "out.jsonl")["a1"]["result"]["meta"]
    total = meta["usage"]["prompt_tokens"] + meta["usage"]["completion_tokens"]
    realtime = sum(len(m["content"]) for m in chat["messages"]) // 4 + 1  # the fake's estimate
    assert realtime < total
    assert meta["cost_usd"] < total / 1e6  # the batch round at half price ...
    assert meta["cost_usd"] > total / 2e6  # ... the real-time call at full price


# --- the command ----------------------------------------------------------------------------------------


def test_the_command_runs_resumes_and_reports_a_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_path, out_path = write_jsonl(tmp_path / "in.jsonl", articles(3)), tmp_path / "out.jsonl"
    polls: list[float] = []

    async def record(seconds: float) -> None:
        polls.append(seconds)

    monkeypatch.setattr(cli, "_batch_api", lambda settings: BatchApi(Upstream(settings), sleep=record))
    runner = CliRunner()
    with BatchServer(responder=ungrounded_first_answer_of("a1")).in_thread() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("CACHE_URL", f"sqlite:///{tmp_path / 'cache.sqlite3'}")
        monkeypatch.setenv("SUMMARIZER_PRICES", "gpt-4o-mini=0.15/0.60")
        idle = runner.invoke(cli.app, ["batch", str(in_path), str(out_path), "--status"])
        assert idle.exit_code == 0 and "no running Batch API job" in idle.stderr

        args = ["batch", "--upstream-batch", str(in_path), str(out_path), "--repair", "realtime"]
        result = runner.invoke(cli.app, args)
        assert result.exit_code == 0, result.output
        assert "3 summarized, 0 failed, 0 skipped" in result.stderr and "$0.0" in result.stderr
        assert "batch round 1" in result.stderr
        assert (len(server.creates), len(server.chats), polls) == (1, 1, [5.0, 10.0])

        again = runner.invoke(cli.app, args)
        assert again.exit_code == 0 and "0 summarized, 0 failed, 3 skipped" in again.stderr
        assert len(server.creates) == 1
    assert sorted(read_jsonl(out_path)) == ["a0", "a1", "a2"]


def test_the_command_shows_and_cancels_a_running_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out_path = tmp_path / "out.jsonl"
    monkeypatch.setattr(cli, "_batch_api", lambda settings: BatchApi(Upstream(settings)))
    runner = CliRunner()
    with BatchServer().in_thread() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        running = FakeBatch("batch-running", "file-x", [{"custom_id": "a"}], ["in_progress"], answered=0)
        server.batches[running.id] = running  # a job another run started
        state = BatchState(in_path=str(tmp_path / "in.jsonl"), model="gpt-4o-mini")
        state.parts = [Part(str(tmp_path / "part.jsonl"), 1, file_id="file-x", batch_id=running.id)]
        state.save(out_path)
        shown = runner.invoke(cli.app, ["batch", "in.jsonl", str(out_path), "--status"])
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["status"] == "in_progress"
        cancelled = runner.invoke(cli.app, ["batch", "in.jsonl", str(out_path), "--cancel"])
        assert cancelled.exit_code == 0 and cancelled.stdout.strip() == "batch-running"
        assert server.cancels == ["batch-running"]


def test_the_command_needs_the_llm_engine(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", articles(1))
    result = CliRunner().invoke(
        cli.app, ["batch", "--upstream-batch", str(in_path), str(tmp_path / "out.jsonl")]
    )
    assert result.exit_code == 2 and "needs the llm engine" in result.stderr


def test_the_state_keeps_each_pages_text_and_publication_date(tmp_path: Path) -> None:
    out_path = tmp_path / "o.jsonl"
    pages = {"a": Page("Gunmen killed two guards on Tuesday.", date(2024, 3, 6)), "b": Page("No date.")}
    BatchState(in_path="in.jsonl", model="m", pages=pages).save(out_path)
    state = BatchState.load(out_path)
    assert state is not None and state.pages == pages
    # a state written before pages had dates holds the text alone
    saved = json.loads(BatchState.path_for(out_path).read_text(encoding="utf-8"))
    saved["pages"] = {"a": "Gunmen killed two guards on Tuesday."}
    BatchState.path_for(out_path).write_text(json.dumps(saved), encoding="utf-8")
    state = BatchState.load(out_path)
    assert state is not None and state.pages == {"a": Page("Gunmen killed two guards on Tuesday.")}
