"""The `incident-summarizer` command: summarize, batch, serve, eval.

Each command builds what it needs from `Settings` and runs the same summarizer as the HTTP API.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from service import batch as batch_run
from service.article import ArticleIn
from service.config import Settings
from service.errors import InputError, SummarizerError
from service.main import build_summarizer
from service.render import markdown
from service.result import SummaryResult

if TYPE_CHECKING:
    from service.batch_api import BatchApi

app = typer.Typer(
    help="Cited incident summaries of news articles.", no_args_is_help=True, add_completion=False
)

EngineOption = Annotated[
    Literal["auto", "llm", "extractive"] | None,
    typer.Option("--engine", help="Override SUMMARIZER_ENGINE for this run."),
]


def _settings(engine: str | None) -> Settings:
    try:
        return Settings(engine=engine) if engine else Settings()
    except ValueError as e:
        typer.echo(f"configuration error: {e}", err=True)
        raise typer.Exit(2) from e


def _read(path: str, as_html: bool, published_at: date | None) -> ArticleIn:
    """A file, standard input ("-") or an http(s) URL, fetched as the API fetches `url` (the SSRF guard on)."""
    if path.startswith(("http://", "https://")):
        return ArticleIn(url=path, published_at=published_at)
    raw = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    html = as_html or path.lower().endswith((".html", ".htm"))
    return (
        ArticleIn(html=raw, published_at=published_at)
        if html
        else ArticleIn(text=raw, published_at=published_at)
    )


async def _summarize_all(settings: Settings, articles: list[ArticleIn], refresh: bool) -> list[object]:
    summarizer = build_summarizer(settings)
    try:
        outcomes: list[object] = []
        for article in articles:
            try:
                outcomes.append(await summarizer.summarize(article, refresh=refresh))
            except SummarizerError as e:
                outcomes.append(e)
        return outcomes
    finally:
        await summarizer.aclose()


@app.command()
def summarize(
    files: Annotated[
        list[str],
        typer.Argument(help="Article files (.txt or .html), http(s) URLs, or - for standard input."),
    ],
    fmt: Annotated[Literal["json", "markdown"], typer.Option("--format", help="Output format.")] = "json",
    published_at: Annotated[
        str | None,
        typer.Option("--published-at", help="Publication date YYYY-MM-DD (anchors relative dates)."),
    ] = None,
    as_html: Annotated[bool, typer.Option("--html", help="Treat the input as HTML.")] = False,
    refresh: Annotated[
        bool, typer.Option("--no-cache", help="Recompute and overwrite cached results.")
    ] = False,
    engine: EngineOption = None,
) -> None:
    """Summarize articles and print the results (one JSON object, or a JSON array for several files)."""
    settings = _settings(engine)
    try:
        anchor = date.fromisoformat(published_at) if published_at else None
        articles = [_read(path, as_html, anchor) for path in files]
    except (OSError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    outcomes = asyncio.run(_summarize_all(settings, articles, refresh))
    failed = 0
    rendered: list[object] = []
    for path, outcome in zip(files, outcomes, strict=True):
        if isinstance(outcome, SummarizerError):
            failed += 1
            typer.echo(f"{path}: {type(outcome).__name__}: {outcome.message}", err=True)
        elif isinstance(outcome, SummaryResult):
            rendered.append(outcome)
    if fmt == "markdown":
        typer.echo(
            "\n---\n\n".join(markdown.render(r) for r in rendered if isinstance(r, SummaryResult)), nl=False
        )
    else:
        data = [r.model_dump(mode="json") for r in rendered if isinstance(r, SummaryResult)]
        if data:
            typer.echo(json.dumps(data[0] if len(files) == 1 else data, ensure_ascii=False, indent=2))
    if failed:
        only_input = all(isinstance(o, InputError) for o in outcomes if isinstance(o, SummarizerError))
        raise typer.Exit(2 if only_input else 1)


def _batch_api(settings: Settings) -> BatchApi:
    """The Batch API client of `batch --upstream-batch` (its own `openai` client, the one retry policy)."""
    from service.batch_api import BatchApi
    from service.upstream import Upstream

    return BatchApi(Upstream(settings))


RepairOption = Annotated[
    Literal["batch", "realtime"],
    typer.Option(
        "--repair",
        help="With --upstream-batch: repair failed answers in another batch (half price) or in real time.",
    ),
]


@app.command()
def batch(
    in_file: Annotated[
        Path,
        typer.Argument(
            help="Articles, one JSON object per line: id, text or html, title?, published_at?, source_url?; "
            "other fields are passed through to the output line's `extra`."
        ),
    ],
    out_file: Annotated[
        Path, typer.Argument(help="Results, one JSON object per line; appended to, resumable.")
    ],
    concurrency: Annotated[
        int, typer.Option(min=1, max=256, help="Articles summarized (or repaired in real time) at once.")
    ] = 4,
    retry_errors: Annotated[
        bool, typer.Option("--retry-errors", help="Try again the ids whose last line in OUT is an error.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Progress bar on standard error.")] = True,
    engine: EngineOption = None,
    upstream_batch: Annotated[
        bool,
        typer.Option(
            "--upstream-batch",
            help="Send the articles through the OpenAI Batch API (llm engine; half price, within 24 h). "
            "The job's state is kept beside OUT: run the same command again to resume it.",
        ),
    ] = False,
    repair: RepairOption = "batch",
    status: Annotated[
        bool, typer.Option("--status", help="Print the Batch API job of OUT (one JSON line per batch).")
    ] = False,
    cancel: Annotated[bool, typer.Option("--cancel", help="Cancel the Batch API job of OUT.")] = False,
) -> None:
    """Summarize a JSONL file of articles; skips ids already in OUT. Exits 1 when any article failed."""
    settings = _settings(engine)
    if status or cancel:
        _batch_job_command(settings, out_file, cancel=cancel)
        return
    if not in_file.is_file():
        typer.echo(f"error: {in_file} is not a file", err=True)
        raise typer.Exit(2)
    if upstream_batch:
        report = _run_upstream_batch(settings, in_file, out_file, repair, concurrency, retry_errors, progress)
    else:

        async def run() -> batch_run.BatchReport:
            summarizer = build_summarizer(settings)
            try:
                return await batch_run.run(
                    summarizer,
                    in_file,
                    out_file,
                    concurrency=concurrency,
                    retry_errors=retry_errors,
                    progress=progress,
                )
            finally:
                await summarizer.aclose()

        report = asyncio.run(run())
    summary = f"{report.done} summarized, {report.failed} failed, {report.skipped} skipped"
    summary += f"; {report.usage.prompt_tokens} prompt and {report.usage.completion_tokens} completion tokens"
    if report.cost_usd is not None:
        summary += f", ${report.cost_usd:.4f}"
    typer.echo(summary, err=True)
    if report.failed:
        raise typer.Exit(1)


def _needs_llm(settings: Settings) -> None:
    if settings.resolved_engine != "llm":
        typer.echo("error: the Batch API needs the llm engine (OPENAI_API_KEY or OPENAI_BASE_URL)", err=True)
        raise typer.Exit(2)


def _run_upstream_batch(
    settings: Settings,
    in_file: Path,
    out_file: Path,
    repair: Literal["batch", "realtime"],
    concurrency: int,
    retry_errors: bool,
    progress: bool,
) -> batch_run.BatchReport:
    from service import upstream_batch
    from service.engines.llm import LLMEngine
    from service.prompts import Prompts

    _needs_llm(settings)

    async def run() -> batch_run.BatchReport:
        engine = LLMEngine(settings, Prompts.load())
        summarizer = build_summarizer(settings, engine=engine)  # the API's cache key
        api = _batch_api(settings)
        try:
            return await upstream_batch.run(
                summarizer,
                engine,
                api,
                in_file,
                out_file,
                repair=repair,
                retry_errors=retry_errors,
                concurrency=concurrency,
                progress=progress,
            )
        finally:
            await api.aclose()
            await summarizer.aclose()

    try:
        return asyncio.run(run())
    except upstream_batch.JobMismatch as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e


def _batch_job_command(settings: Settings, out_file: Path, *, cancel: bool) -> None:
    """`batch --status` / `--cancel`: the Batch API job whose state is kept beside OUT."""
    from service import upstream_batch

    _needs_llm(settings)

    async def run() -> list[dict[str, object]] | list[str]:
        api = _batch_api(settings)
        try:
            if cancel:
                return await upstream_batch.cancel(api, out_file)
            return await upstream_batch.status(api, out_file)
        finally:
            await api.aclose()

    found = asyncio.run(run())
    if not found:
        typer.echo(f"no running Batch API job for {out_file}", err=True)
    for entry in found:
        typer.echo(entry if isinstance(entry, str) else json.dumps(entry))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: WEB_CONCURRENCY or 1).")
    ] = None,
    limit_concurrency: Annotated[
        int,
        typer.Option(min=1, help="Connections and requests a worker holds at once; beyond: 503 at once."),
    ] = 200,
    timeout_keep_alive: Annotated[
        int,
        typer.Option(
            min=1,
            help="Seconds a connection may stay idle, or take to send a complete request head, before "
            "it is closed.",
        ),
    ] = 5,
    max_head_bytes: Annotated[
        int, typer.Option(min=1024, help="Bytes a request head (request line and headers) may take.")
    ] = 16 * 1024,
    timeout_graceful_shutdown: Annotated[
        int, typer.Option(min=1, help="Seconds a stopping server waits for requests in flight.")
    ] = 30,
) -> None:
    """Run the HTTP API with uvicorn (JSON logs on stderr, one access line per request), with connection
    limits: the connections a worker holds, the time a connection may stay idle or take to send its request
    head, and the head's size (service/http_protocol.py; docs/deploy.md says what needs a proxy)."""
    import uvicorn

    from service import logs

    settings = _settings(None)
    logs.configure(settings.log_level)
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.workers,
        log_level=settings.log_level.lower(),
        log_config=None,  # the JSON logging above; each worker's create_app sets up its own
        access_log=False,  # the request middleware writes a richer access line
        proxy_headers=True,
        http="service.http_protocol:HeadLimitProtocol",  # httptools, with a bound on each request head
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=timeout_keep_alive,
        h11_max_incomplete_event_size=max_head_bytes,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
    )


@app.command(name="eval")
def evaluate(
    file: Annotated[
        Path, typer.Argument(help="Gold-annotated articles, one JSON object per line (SPEC §7).")
    ],
    engine: Annotated[Literal["extractive", "llm"], typer.Option(help="Engine to score.")] = "extractive",
) -> None:
    """Score an engine on gold-annotated articles; prints one JSON object of metrics."""
    from service.eval import main as run_eval

    raise typer.Exit(run_eval([str(file), "--engine", engine]))


if __name__ == "__main__":
    app()
