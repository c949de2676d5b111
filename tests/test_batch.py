"""`incident-summarizer batch`: results and error lines, resume, retry of errors, bounded concurrency, CLI."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service import batch, cli
from service.article import Article
from service.cache import MemoryCache
from service.config import Settings
from service.engines.base import EngineResult, Judge
from service.summarizer import Summarizer
from tests.conftest import DATA, PROBLEM_TYPE, FakeEngine


def text(n: int) -> str:
    return f"Gunmen attacked checkpoint number {n} near Idlib on Monday, killing {n + 1} soldiers, officials said."


def summarizer_with(engine: Any) -> Summarizer:
    settings = Settings(engine="llm", openai_base_url="http://127.0.0.1:9/v1", cache_url="memory://")
    return Summarizer(settings=settings, engine=engine, cache=MemoryCache(), prompt_version="p1")


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def run(engine: Any, in_path: Path, out_path: Path, **options: Any) -> batch.BatchReport:
    summarizer = summarizer_with(engine)
    try:
        return await batch.run(summarizer, in_path, out_path, progress=False, **options)
    finally:
        await summarizer.aclose()


async def test_results_and_one_error_line_per_failed_article(tmp_path: Path) -> None:
    rows: list[Any] = [
        {"id": "a", "text": text(1), "published_at": "2024-02-12", "title": "Checkpoint attack"},
        {"id": "empty", "text": "   "},
        {"id": "both", "text": text(2), "html": "<p>x</p>"},
        "{not json",
        {"text": text(3)},
        {"id": "bad-date", "text": text(4), "published_at": "yesterday"},
        {"id": "b", "html": f"<html><body><article><p>{text(5)}</p></article></body></html>"},
        {"id": 7, "text": text(7)},
    ]
    engine = FakeEngine()
    report = await run(engine, write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out.jsonl")
    lines = read_jsonl(tmp_path / "out.jsonl")
    by_id = {line["id"]: line for line in lines if line["id"] is not None}
    assert sorted(k for k, v in by_id.items() if "result" in v) == ["7", "a", "b"]
    assert by_id["a"]["result"]["sentences"][0]["text"] == text(1)
    assert by_id["a"]["result"]["meta"]["engine"] == "fake"
    assert by_id["empty"]["error"]["type"] == PROBLEM_TYPE + "empty-input"
    assert by_id["both"]["error"]["type"] == PROBLEM_TYPE + "conflicting-input"
    assert by_id["bad-date"]["error"]["type"] == PROBLEM_TYPE + "invalid-request"
    assert "published_at" in by_id["bad-date"]["error"]["detail"]
    anonymous = sorted((line["line"], line["error"]["type"]) for line in lines if line["id"] is None)
    assert anonymous == [(4, PROBLEM_TYPE + "invalid-request"), (5, PROBLEM_TYPE + "invalid-request")]
    assert all(set(line["error"]) == {"type", "title", "detail"} for line in lines if "error" in line)
    assert (report.done, report.failed, report.skipped, engine.calls) == (3, 5, 0, 3)


async def test_a_rerun_skips_finished_ids_and_cuts_a_partial_last_line(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": f"n{i}", "text": text(i)} for i in range(6)])
    out_path = tmp_path / "out.jsonl"
    first = FakeEngine()
    await run(
        first,
        write_jsonl(tmp_path / "first.jsonl", [{"id": f"n{i}", "text": text(i)} for i in range(3)]),
        out_path,
    )
    with out_path.open("a", encoding="utf-8") as out:
        out.write('{"id": "n3", "result": {"summ')  # a crash mid-write
    second = FakeEngine()
    report = await run(second, in_path, out_path)
    ids = [line["id"] for line in read_jsonl(out_path)]  # every line parses: the partial one is gone
    assert sorted(ids) == [f"n{i}" for i in range(6)] and len(ids) == 6
    assert (first.calls, second.calls, report.skipped, report.done) == (3, 3, 3, 3)
    third = FakeEngine()
    assert (await run(third, in_path, out_path)).skipped == 6 and third.calls == 0


async def test_errors_are_skipped_on_rerun_unless_retried(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": text(1)}, {"id": "y", "text": text(2)}])
    out_path = write_jsonl(
        tmp_path / "out.jsonl",
        [{"id": "x", "error": {"type": PROBLEM_TYPE + "upstream-unavailable", "title": "t", "detail": "d"}}],
    )
    skipping = FakeEngine()
    assert (await run(skipping, in_path, out_path)).skipped == 1 and skipping.calls == 1
    retrying = FakeEngine()
    report = await run(retrying, in_path, out_path, retry_errors=True)
    assert (report.done, report.skipped, retrying.calls) == (1, 1, 1)
    lines = read_jsonl(out_path)
    assert [line["id"] for line in lines] == ["x", "y", "x"] and "result" in lines[-1]  # the last line counts


class CountingEngine(FakeEngine):
    def __init__(self) -> None:
        super().__init__(delay_s=0.02)
        self.running = 0
        self.most = 0

    async def summarize(
        self, article: Article, *, deadline_s: float | None = None, judge: Judge | None = None
    ) -> EngineResult:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            return await super().summarize(article, deadline_s=deadline_s)
        finally:
            self.running -= 1


async def test_concurrency_is_bounded(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": text(i)} for i in range(12)])
    engine = CountingEngine()
    report = await run(engine, in_path, tmp_path / "out.jsonl", concurrency=3)
    assert report.done == 12 and engine.most == 3


async def test_the_progress_bar_counts_every_line(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": text(i)} for i in range(5)])
    summarizer = summarizer_with(FakeEngine())
    stream = io.StringIO()
    await batch.run(summarizer, in_path, tmp_path / "out.jsonl", progress_file=stream)
    await summarizer.aclose()
    assert "5/5" in stream.getvalue() and "summaries" in stream.getvalue()


def test_the_cli_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine()
    monkeypatch.setattr(cli, "build_summarizer", lambda settings: summarizer_with(engine))
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": "ok", "text": text(1)}, {"id": "bad", "text": ""}])
    out_path = tmp_path / "nested" / "out.jsonl"
    runner = CliRunner()
    result = runner.invoke(cli.app, ["batch", str(in_path), str(out_path), "--concurrency", "2"])
    assert result.exit_code == 1, result.output  # one article failed
    assert "1 summarized, 1 failed, 0 skipped" in result.stderr and "2/2" in result.stderr
    assert {line["id"]: sorted(line) for line in read_jsonl(out_path)} == {
        "ok": ["id", "result"],
        "bad": ["error", "id"],
    }
    again = runner.invoke(cli.app, ["batch", str(in_path), str(out_path), "--no-progress"])
    assert again.exit_code == 0 and "0 summarized, 0 failed, 2 skipped" in again.stderr
    assert engine.calls == 1
    missing = runner.invoke(cli.app, ["batch", str(tmp_path / "missing.jsonl"), str(out_path)])
    assert missing.exit_code == 2


def test_concurrency_must_be_positive(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": text(1)}])
    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(batch.run(summarizer_with(FakeEngine()), in_path, tmp_path / "o.jsonl", concurrency=0))


async def test_other_fields_pass_through_to_the_output_line(tmp_path: Path) -> None:
    rows: list[Any] = [
        {"id": "a", "text": text(1), "feed": "afp", "tags": ["syria", 1], "meta": {"n": 2}},
        {"id": "b", "text": "", "feed": "reuters"},  # a failed article keeps its extra fields too
        {"id": "c", "text": text(3)},
    ]
    report = await run(FakeEngine(), write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out.jsonl")
    by_id = {line["id"]: line for line in read_jsonl(tmp_path / "out.jsonl")}
    assert by_id["a"]["extra"] == {"feed": "afp", "tags": ["syria", 1], "meta": {"n": 2}}
    assert by_id["a"]["result"]["sentences"][0]["text"] == text(1)  # the summary ignores them
    assert by_id["b"]["extra"] == {"feed": "reuters"} and by_id["b"]["error"]["type"].endswith("empty-input")
    assert "extra" not in by_id["c"]
    assert (report.done, report.failed) == (2, 1)


GOLD_FILE = DATA / "gold_articles.jsonl"  # the lines `incident-summarizer eval` reads (SPEC §7)


def gold_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLD_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


async def test_the_gold_lines_of_eval_are_accepted(tmp_path: Path) -> None:
    gold, gold_file = gold_lines(), GOLD_FILE
    engine = FakeEngine()
    report = await run(engine, gold_file, tmp_path / "out.jsonl")
    lines = read_jsonl(tmp_path / "out.jsonl")
    assert report.failed == 0 and report.done == len(gold) == len(lines) == engine.calls
    by_id = {line["id"]: line for line in lines}
    for record in gold:
        assert by_id[record["id"]]["extra"] == {"gold": record["gold"]}
        assert by_id[record["id"]]["result"]["sentences"]


async def test_usage_is_summed_for_the_run(tmp_path: Path) -> None:
    in_path = write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": text(i)} for i in range(3)])
    report = await run(FakeEngine(), in_path, tmp_path / "out.jsonl")
    assert (report.usage.prompt_tokens, report.usage.completion_tokens) == (30, 15)  # 10 + 5 per article
