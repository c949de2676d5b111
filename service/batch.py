"""`incident-summarizer batch IN.jsonl OUT.jsonl`: many articles, bounded concurrency, resumable.

Each input line is `{"id", "text" | "html", "published_at"?, "title"?, "source_url"?}` (the fields of `ArticleIn`).
Any other field (a feed name, a category, the `gold` of an `eval` file) is not part of the summary: it is passed
through unchanged as the output line's `extra` object. Each output line is `{"id", "result": SummaryResult,
"extra"?}` or, for an article that failed, `{"id", "error": {type, title, detail, ...}, "extra"?}` with the same
problem types as the HTTP API (errors of the model also carry `attempts` and `usage`, what the article cost); a
failure never stops the batch. Lines are appended as articles finish (so in completion order) and flushed one by
one: after a crash or Ctrl-C, running the same command again skips every id already in OUT (with `retry_errors`,
ids whose last line is an error are tried again and get a new line; the last line of an id is the one that counts).
A partial last line left by a crash is cut off first.

With `--upstream-batch` the articles go through the OpenAI Batch API instead: `service.upstream_batch`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from tqdm import tqdm

from service.article import ArticleIn
from service.errors import OutputError, SummarizerError, UpstreamError, Usage
from service.problems import INTERNAL, VALIDATION, kind_of
from service.summarizer import Summarizer

log = logging.getLogger("service.batch")


@dataclass
class BatchReport:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    failed_ids: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)  # tokens of every article of this run, failed ones included
    cost_usd: float | None = None  # their cost, when SUMMARIZER_PRICES prices the model (results only)

    def count(self, entry: dict[str, Any]) -> None:
        """One output line written: its outcome, its tokens and its cost added."""
        if "error" in entry:
            self.failed += 1
            self.failed_ids.append(str(entry.get("id")))
            used = entry["error"].get("usage")
        else:
            self.done += 1
            meta = entry["result"]["meta"]
            used = None if meta["cached"] else meta["usage"]
            if meta["cost_usd"] is not None and not meta["cached"]:
                self.cost_usd = round((self.cost_usd or 0.0) + meta["cost_usd"], 6)
        if used:
            self.usage += Usage(used["prompt_tokens"], used["completion_tokens"], used["cached_tokens"])


@dataclass(frozen=True, slots=True)
class Item:
    """One input line: its id, the article it carries (or why it is unusable), and its other fields."""

    line_no: int
    id: str | None
    article: ArticleIn | None
    problem: dict[str, Any] | None  # the input line itself is unusable
    extra: dict[str, Any] = field(default_factory=dict)  # fields that are not the article's, passed through

    def entry(self, **outcome: Any) -> dict[str, Any]:
        """The output line of this item: its id, the outcome (`result` or `error`), its extra fields."""
        return {"id": self.id, **outcome, **({"extra": self.extra} if self.extra else {})}


def finished_ids(out_path: Path, *, retry_errors: bool) -> set[str]:
    """Ids OUT already answers, after cutting off a partial last line (a crash mid-write)."""
    if not out_path.exists():
        return set()
    data = out_path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        log.warning("cutting off a partial last line of %s", out_path)
        with out_path.open("r+b") as handle:
            handle.truncate(keep)
        data = data[:keep]
    last_ok: dict[str, bool] = {}
    for line in data.decode("utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            last_ok[entry["id"]] = "result" in entry
    return {key for key, ok in last_ok.items() if ok or not retry_errors}


def _problem(type_: str, title: str, detail: str) -> dict[str, Any]:
    return {"type": type_, "title": title, "detail": detail}


def problem_of(error: SummarizerError) -> dict[str, Any]:
    """An error as the problem of an output line: type, title, detail, and for an error of the model what the
    article cost (`attempts`, `usage`)."""
    kind = kind_of(error)
    problem = _problem(kind.type, kind.title, error.message)
    if isinstance(error, UpstreamError | OutputError):
        problem |= {"attempts": error.attempts, "usage": dataclasses.asdict(error.usage)}
    return problem


# The fields of an input line that make the article (`url` too, once `ArticleIn` has it); the rest is extra.
_ARTICLE_FIELDS = frozenset(ArticleIn.model_fields)


def parse_line(line_no: int, line: str) -> Item:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as e:
        return Item(line_no, None, None, _problem(VALIDATION.type, VALIDATION.title, f"line {line_no}: {e}"))
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str | int) or raw.get("id") == "":
        detail = f"line {line_no}: expected an object with a non-empty string `id`"
        return Item(line_no, None, None, _problem(VALIDATION.type, VALIDATION.title, detail))
    item_id = str(raw.pop("id"))
    fields = {k: v for k, v in raw.items() if k in _ARTICLE_FIELDS}
    extra = {k: v for k, v in raw.items() if k not in _ARTICLE_FIELDS}
    try:
        return Item(line_no, item_id, ArticleIn.model_validate(fields), None, extra)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        detail = f"{'.'.join(map(str, first['loc'])) or 'line'}: {first['msg']}"
        return Item(line_no, item_id, None, _problem(VALIDATION.type, VALIDATION.title, detail), extra)


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def items(in_path: Path) -> Iterator[Item]:
    with in_path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.strip():
                yield parse_line(line_no, line)


async def run(
    summarizer: Summarizer,
    in_path: Path,
    out_path: Path,
    *,
    concurrency: int = 4,
    retry_errors: bool = False,
    progress: bool = True,
    progress_file: TextIO | None = None,
) -> BatchReport:
    """Summarize every article of IN that OUT does not answer yet, `concurrency` at a time."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    skip = finished_ids(out_path, retry_errors=retry_errors)
    report = BatchReport()
    queue: asyncio.Queue[Item | None] = asyncio.Queue(maxsize=2 * concurrency)
    bar = tqdm(
        total=count_lines(in_path),
        desc="summaries",
        unit="article",
        file=progress_file or sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("a", encoding="utf-8") as out, bar:

        def write(entry: dict[str, Any]) -> None:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            out.flush()

        async def worker() -> None:
            while (item := await queue.get()) is not None:
                entry = await _summarize(summarizer, item)
                write(entry)
                report.count(entry)
                bar.update()

        async def produce() -> None:
            seen: set[str] = set()
            for item in items(in_path):
                if item.id is not None and (item.id in skip or item.id in seen):
                    report.skipped += 1
                    bar.update()
                    continue
                if item.id is not None:
                    seen.add(item.id)
                await queue.put(item)
            for _ in range(concurrency):
                await queue.put(None)

        async with asyncio.TaskGroup() as group:  # a failed write stops everything; a failed article does not
            for n in range(concurrency):
                group.create_task(worker(), name=f"batch-worker-{n}")
            group.create_task(produce(), name="batch-reader")
    return report


def input_problem(item: Item) -> dict[str, Any]:
    """The output line of an input line that carries no usable article."""
    return {"id": item.id, "line": item.line_no, "error": item.problem} | (
        {"extra": item.extra} if item.extra else {}
    )


async def _summarize(summarizer: Summarizer, item: Item) -> dict[str, Any]:
    if item.problem is not None or item.article is None:
        return input_problem(item)
    try:
        result = await summarizer.summarize(item.article)
    except SummarizerError as e:
        return item.entry(error=problem_of(e))
    except Exception as e:  # one broken article must not stop the batch
        log.exception("unexpected error on batch item %s (line %d)", item.id, item.line_no)
        return item.entry(error=_problem(INTERNAL.type, INTERNAL.title, type(e).__name__))
    return item.entry(result=result.model_dump(mode="json"))
