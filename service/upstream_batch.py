"""`incident-summarizer batch --upstream-batch IN OUT`: the articles of IN summarized through OpenAI's Batch API
(half the price, its own quota, answers within 24 h), each answer judged and repaired as in real time.

Round 1 sends, for every article of IN that OUT does not answer yet and the cache does not hold, the request the
real-time path sends (`LLMEngine.request_body`: prompt, schema, model, structured mode), as Batch API input files
within the API's limits (`service.batch_api`), one batch per file. When the batches end, every answer goes
through the real-time steps: parsed and judged by the same gate (`LLMEngine.judge_answer` with the summarizer's
`Gate`), settled (`summarizer.settle`), stored in the cache under the key the API uses (`Summarizer.store`), and
written to OUT. An answer that fails is repaired within the same budget (`SUMMARIZER_MAX_REPAIRS`): the repair
conversation the real-time path would send goes in the next round's batch (`repair="batch"`), or is continued in
real time (`repair="realtime"`). A batch that expired, failed or was cancelled, and a request that failed, give
their articles an error line (`upstream-batch-failed`); `--retry-errors` sends them again.

The job's state (`service.batch_state`) is saved beside OUT after every upload and every batch created: a
killed run, started again with the same command, resumes polling the same batches.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from openai.types import Batch
from openai.types.chat import ChatCompletion
from pydantic import ValidationError
from tqdm import tqdm

from service.article import Article
from service.batch import BatchReport, Item, finished_ids, input_problem, items, problem_of
from service.batch_api import (
    MAX_BYTES_PER_FILE,
    MAX_REQUESTS_PER_FILE,
    Answered,
    BatchApi,
    parse_results,
    request_line,
    split,
)
from service.batch_state import BatchState, Part, Spent
from service.engines.base import EngineResult
from service.engines.llm import LLMEngine
from service.errors import (
    BatchRequestFailed,
    InputError,
    NotFound,
    SummarizerError,
    UpstreamError,
    UpstreamRejected,
    Usage,
)
from service.summarizer import Gate, Summarizer, settle, with_page_text
from service.text.html_extract import Page
from service.upstream import Tally, checked_completion

log = logging.getLogger("service.batch")

RepairMode = Literal["batch", "realtime"]
Messages = list[dict[str, str]]

_BATCH_ENDED = {
    "expired": "the batch expired (24 h) before this request was answered",
    "failed": "the Batch API rejected the batch's input file",
    "cancelled": "the batch was cancelled before this request was answered",
    "completed": "the batch completed without an answer for this request",
}
_AGAIN = "; run again with --retry-errors to send it again"


class JobMismatch(ValueError):
    """OUT has a Batch API job for another input file or model."""


@dataclass(frozen=True, slots=True)
class _Article:
    item: Item
    article: Article
    key: str


class _Job:
    """One run over IN and OUT: the articles still to answer, the output file, the report."""

    def __init__(
        self,
        summarizer: Summarizer,
        engine: LLMEngine,
        api: BatchApi,
        out: TextIO,
        report: BatchReport,
    ) -> None:
        self.summarizer = summarizer
        self.engine = engine
        self.api = api
        self.out = out
        self.report = report
        self.articles: dict[str, _Article] = {}
        self.pages: dict[str, Page] = {}  # by article id: a `url` line's page, as summarized

    def write(self, entry: dict[str, Any]) -> None:
        self.out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.out.flush()
        self.report.count(entry)

    def fail(self, item: Item, error: SummarizerError) -> None:
        self.write(item.entry(error=problem_of(error)))

    async def read(
        self, in_path: Path, skip: set[str], *, look_up_cache: bool, pages: dict[str, Page] | None = None
    ) -> None:
        """The articles of IN still to answer; unusable lines (and, when a job starts, cached articles) are
        answered at once. A `url` line is fetched, unless `pages` (a resumed job's) has its page already;
        what was fetched is kept in `self.pages`."""
        for item in items(in_path):
            if item.id is not None and (item.id in skip or item.id in self.articles):
                self.report.skipped += 1
                continue
            if item.problem is not None or item.article is None or item.id is None:
                self.write(input_problem(item))
                continue
            article_in = item.article
            if article_in.url is not None and pages is not None and item.id in pages:
                article_in = with_page_text(article_in, pages[item.id])  # as the job's answers saw it
            elif article_in.url is not None:  # the page is fetched now, as the real-time path would
                try:
                    article_in = await self.summarizer.fetched(article_in)
                except SummarizerError as e:
                    self.fail(item, e)
                    continue
            if article_in.url is not None and article_in.text is not None:
                self.pages[item.id] = Page(article_in.text, article_in.published_at)
            key = self.summarizer.key_for(article_in)
            if look_up_cache:
                try:
                    hit = await self.summarizer.get(key)
                except NotFound:
                    hit = None
                if hit is not None:
                    self.write(item.entry(result=hit.model_dump(mode="json")))
                    continue
            try:
                article = self.summarizer.prepare(article_in)
                _ = article.sentences  # an article without citable sentences fails here, not upstream
            except InputError as e:
                self.fail(item, e)
                continue
            self.articles[item.id] = _Article(item, article, key)

    async def accept(self, line: _Article, outcome: EngineResult, gate: Gate, batch_usage: Usage) -> None:
        """An accepted answer settled like a real-time one, cached under the API's key, written to OUT."""
        try:
            settled = await settle(self.engine.name, outcome, line.article, gate)
        except SummarizerError as e:
            self.fail(line.item, e)
            return
        result = await self.summarizer.store(line.key, line.article, settled, batch_usage=batch_usage)
        self.write(line.item.entry(result=result.model_dump(mode="json")))

    async def judge(
        self, line: _Article, answered: Answered, messages: Messages, tally: Tally, turn: int
    ) -> Messages | None:
        """One Batch API answer at repair turn `turn`: accepted, failed, or the repair conversation to send
        next (returned)."""
        if answered.status_code is not None:  # the request was sent (not left unsent by its batch's end)
            tally.attempts += 1
        if answered.status_code != 200 or answered.body is None:
            self.fail(line.item, _request_failed(answered, tally))
            return None
        gate = Gate(line.article)
        try:
            completion = checked_completion(_completion(answered.body, tally), tally)
            verdict = self.engine.judge_answer(completion, line.article, tally, gate)
        except SummarizerError as e:  # an error object instead of a completion, a refusal
            self.fail(line.item, e)
            return None
        if verdict.summary is not None:
            outcome = self.engine.accepted(verdict, completion, tally, turn)
            await self.accept(line, outcome, gate, tally.usage)
            return None
        if turn < self.summarizer.settings.max_repairs:
            return self.engine.repair_messages(messages, verdict)
        self.fail(line.item, self.engine.give_up(verdict, tally))
        return None


def _completion(body: dict[str, Any], tally: Tally) -> ChatCompletion:
    try:
        return ChatCompletion.model_validate(body)
    except ValidationError as e:
        raise UpstreamError(
            "the Batch API's answer is not a chat completion", attempts=tally.attempts, usage=tally.usage
        ) from e


def _request_failed(answered: Answered, tally: Tally) -> BatchRequestFailed:
    """A request of the error file: its batch ended before it ran (`batch_expired`), or it failed."""
    error = (answered.body or {}).get("error")
    code = answered.error_code or (error.get("code") if isinstance(error, dict) else None)
    code = str(code or f"http_{answered.status_code}")
    ended = _BATCH_ENDED.get(code.removeprefix("batch_"))
    message = f"{ended} ({code})" if ended else f"the Batch API could not answer this request ({code})"
    return BatchRequestFailed(f"{message}{_AGAIN}", code=code, attempts=tally.attempts, usage=tally.usage)


def _batch_ended(batch: Batch, tally: Tally) -> BatchRequestFailed:
    """A request with no line in its batch's files: the batch ended (expired, failed, cancelled) first."""
    message = _BATCH_ENDED.get(batch.status, f"the batch ended as {batch.status}")
    if batch.errors and batch.errors.data:
        message += " (" + ", ".join(sorted({str(e.code) for e in batch.errors.data})) + ")"
    code = f"batch_{batch.status}"
    return BatchRequestFailed(f"{message}{_AGAIN}", code=code, attempts=tally.attempts, usage=tally.usage)


def _write_round(
    state: BatchState,
    engine: LLMEngine,
    conversations: dict[str, Messages],
    out_path: Path,
    *,
    max_requests: int,
    max_bytes: int,
) -> None:
    """The round's Batch API input files, written beside OUT and recorded in the state (not yet uploaded)."""
    folder = BatchState.inputs_dir(out_path)
    folder.mkdir(parents=True, exist_ok=True)
    lines = (request_line(key, engine.request_body(messages)) for key, messages in conversations.items())
    state.parts = []
    for n, part in enumerate(split(lines, max_requests=max_requests, max_bytes=max_bytes), start=1):
        path = folder / f"round-{state.round}-part-{n}.jsonl"
        path.write_bytes(b"".join(part))
        state.parts.append(Part(str(path), len(part)))
    state.save(out_path)


async def _submit(api: BatchApi, state: BatchState, out_path: Path) -> None:
    """Upload each part and create its batch, saving the state after each step: a run killed in between
    resumes where it stopped, without a second upload or batch."""
    for part in state.parts:
        if part.file_id is None:
            part.file_id = await api.upload(Path(part.path))
            state.save(out_path)
        if part.batch_id is None:
            part.batch_id = (await api.create(part.file_id)).id
            state.save(out_path)
            log.info("batch: created %s (%d requests, round %d)", part.batch_id, part.requests, state.round)


async def _requests(api: BatchApi, part: Part) -> dict[str, Messages]:
    """The conversations a part sent, by custom id (its article id): read back from its input file, or
    downloaded when the local copy is gone."""
    local = Path(part.path)
    if await asyncio.to_thread(local.exists) or part.file_id is None:
        data = await asyncio.to_thread(local.read_bytes)
    else:
        data = await api.download(part.file_id)
    sent: dict[str, Messages] = {}
    for raw in data.decode("utf-8").splitlines():
        if raw.strip():
            line = json.loads(raw)
            sent[line["custom_id"]] = line["body"]["messages"]
    return sent


async def _answers(api: BatchApi, batch: Batch) -> dict[str, Answered]:
    found: dict[str, Answered] = {}
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            found.update((a.custom_id, a) for a in parse_results(await api.download(file_id)))
    return found


def _progress_of(bar: tqdm[Any]) -> Callable[[list[Batch]], None]:
    def update(batches: list[Batch]) -> None:
        counts = [b.request_counts for b in batches if b.request_counts is not None]
        bar.total = sum(c.total for c in counts) or bar.total
        bar.n = sum(c.completed + c.failed for c in counts)
        bar.set_postfix_str(",".join(sorted({b.status for b in batches})))
        bar.refresh()

    return update


async def run(
    summarizer: Summarizer,
    engine: LLMEngine,
    api: BatchApi,
    in_path: Path,
    out_path: Path,
    *,
    repair: RepairMode = "batch",
    retry_errors: bool = False,
    concurrency: int = 4,
    progress: bool = True,
    progress_file: TextIO | None = None,
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
) -> BatchReport:
    """Summarize every article of IN that OUT does not answer yet through the Batch API (resuming the job
    OUT's state file records, if any); `concurrency` bounds the real-time repairs."""
    state = BatchState.load(out_path)
    source = BatchState.source_of(in_path)
    if state is not None and (state.in_path != source or state.model != engine.model):
        raise JobMismatch(
            f"{BatchState.path_for(out_path)} is a job for {state.in_path} with {state.model}; finish it "
            "with that input and model, or cancel it (--cancel) and remove the file"
        )
    report = BatchReport()
    skip = finished_ids(out_path, retry_errors=retry_errors)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("a", encoding="utf-8") as out:
        job = _Job(summarizer, engine, api, out, report)
        await job.read(in_path, skip, look_up_cache=state is None, pages=state.pages if state else None)
        if state is None:
            if not job.articles:
                return report
            pages = {key: page for key, page in job.pages.items() if key in job.articles}
            state = BatchState(in_path=source, model=engine.model, pages=pages)
            first = {key: engine.first_messages(line.article) for key, line in job.articles.items()}
            _write_round(state, engine, first, out_path, max_requests=max_requests, max_bytes=max_bytes)
        while True:
            await _submit(api, state, out_path)
            with tqdm(
                total=sum(part.requests for part in state.parts),
                desc=f"batch round {state.round}",
                unit="request",
                file=progress_file or sys.stderr,
                disable=not progress,
                dynamic_ncols=True,
            ) as bar:
                batches = await api.wait(
                    [p.batch_id for p in state.parts if p.batch_id], on_poll=_progress_of(bar)
                )
            repairs = await _collect(job, state, batches)
            if not repairs:
                break
            if repair == "realtime":
                await _repair_in_real_time(job, repairs, state.round, concurrency)
                break
            state.round += 1
            state.spent = {
                key: Spent(tally.attempts, list(_tokens(tally.usage))) for key, (_, tally) in repairs.items()
            }
            conversations = {key: messages for key, (messages, _) in repairs.items()}
            _write_round(
                state, engine, conversations, out_path, max_requests=max_requests, max_bytes=max_bytes
            )
    BatchState.remove(out_path)
    return report


def _tokens(usage: Usage) -> tuple[int, int, int]:
    return usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens


async def _collect(job: _Job, state: BatchState, batches: list[Batch]) -> dict[str, tuple[Messages, Tally]]:
    """Every request of the round's ended batches answered: accepted, failed, or to be repaired (returned)."""
    turn = state.round - 1
    repairs: dict[str, tuple[Messages, Tally]] = {}
    for part, batch in zip(state.parts, batches, strict=True):
        answers = await _answers(job.api, batch)
        for key, messages in (await _requests(job.api, part)).items():
            line = job.articles.get(key)
            if line is None:  # answered in OUT meanwhile, or no longer in IN
                continue
            spent = state.spent.get(key, Spent())
            tally = Tally(spent.attempts, spent.tokens)
            answered = answers.get(key)
            if answered is None:
                job.fail(line.item, _batch_ended(batch, tally))
                continue
            try:
                repaired = await job.judge(line, answered, messages, tally, turn)
            except Exception as e:  # one broken answer must not stop the job
                log.exception("unexpected error on batch item %s", key)
                job.fail(line.item, SummarizerError(f"unexpected error: {type(e).__name__}"))
                continue
            if repaired is not None:
                repairs[key] = (repaired, tally)
    return repairs


async def _repair_in_real_time(
    job: _Job, repairs: dict[str, tuple[Messages, Tally]], turn: int, concurrency: int
) -> None:
    """The repair conversations continued in real time (`--repair realtime`), from repair turn `turn`."""
    slots = asyncio.Semaphore(concurrency)

    async def repair(key: str, messages: Messages, tally: Tally) -> None:
        line = job.articles[key]
        batch_usage = tally.usage  # the batch rounds' tokens, at the batch discount
        gate = Gate(line.article)
        async with slots:
            try:
                outcome = await job.engine.converse(
                    line.article, messages, deadline_s=None, gate=gate, tally=tally, turn=turn
                )
            except SummarizerError as e:
                job.fail(line.item, e)
                return
            await job.accept(line, outcome, gate, batch_usage)

    async with asyncio.TaskGroup() as group:
        for key, (messages, tally) in repairs.items():
            group.create_task(repair(key, messages, tally))


async def status(api: BatchApi, out_path: Path) -> list[dict[str, Any]]:
    """The batches of OUT's running job, as the Batch API reports them now (none when no job runs)."""
    state = BatchState.load(out_path)
    if state is None:
        return []
    found = []
    for part in state.parts:
        entry: dict[str, Any] = {"round": state.round, "input_file": part.path, "requests": part.requests}
        if part.batch_id is not None:
            batch = await api.retrieve(part.batch_id)
            counts = batch.request_counts
            entry |= {
                "batch_id": batch.id,
                "status": batch.status,
                "request_counts": counts.model_dump() if counts is not None else None,
            }
        found.append(entry)
    return found


async def cancel(api: BatchApi, out_path: Path) -> list[str]:
    """Cancel the batches of OUT's running job; the ids of those that stop (one that already ended is left
    as it is). The state stays: the next run collects what the batches answered before they stopped, and
    gives the other articles error lines (`--retry-errors` sends them again)."""
    state = BatchState.load(out_path)
    cancelled = []
    for part in state.parts if state is not None else []:
        if part.batch_id is None:
            continue
        try:
            batch = await api.cancel(part.batch_id)
        except UpstreamRejected:  # the batch has ended: nothing to cancel
            continue
        if batch.status in {"cancelling", "cancelled"}:
            cancelled.append(batch.id)
    return cancelled
