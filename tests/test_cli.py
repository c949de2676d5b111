"""The console script: summarize files and standard input, report errors with a non-zero exit."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.conftest import DATA, SAMPLES, gold_records

runner = CliRunner()


def test_summarize_a_sample_prints_a_cited_summary() -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLES / "syria_checkpoint_shootout.txt")])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    sentences = {s["id"]: s["text"] for s in body["sentences"]}
    cited = [c for st in body["summary"]["summary"] for c in st["citations"]]
    assert cited and all(c in sentences for c in cited)
    never_cite = gold_records()[0]["gold"]["never_cite"]
    assert not any(p in sentences[c] for c in cited for p in never_cite)
    assert body["meta"]["engine"] == "extractive"
    assert Path("data/cache.sqlite3").exists()  # the default cache, in the working directory


def test_summarize_several_files_prints_an_array_and_markdown_works() -> None:
    files = [str(p) for p in sorted(SAMPLES.glob("*.txt"))]
    as_json = runner.invoke(app, ["summarize", *files])
    assert as_json.exit_code == 0, as_json.output
    assert len(json.loads(as_json.stdout)) == len(files)
    as_md = runner.invoke(app, ["summarize", "--format", "markdown", files[0]])
    assert as_md.exit_code == 0 and as_md.stdout.startswith("# ")
    assert "## Cited sentences" in as_md.stdout


def test_summarize_reads_standard_input() -> None:
    text = "Two soldiers were killed on Monday when gunmen attacked a checkpoint near Idlib, officials said."
    result = runner.invoke(app, ["summarize", "-", "--published-at", "2024-03-06"], input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sentences"][0]["text"] == text


def test_bad_input_exits_2_with_a_message() -> None:
    result = runner.invoke(app, ["summarize", "-"], input="   ")
    assert result.exit_code == 2
    assert "EmptyInput" in result.stderr
    missing = runner.invoke(app, ["summarize", "no-such-file.txt"])
    assert missing.exit_code == 2 and "no-such-file.txt" in missing.stderr


@pytest.fixture
def page_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A stored news page served on 127.0.0.1 from a thread (the CLI runs its own event loop), which
    URL_ALLOWLIST lets the CLI fetch."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(DATA / "html"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("URL_ALLOWLIST", "127.0.0.1/32")
    try:
        yield f"http://127.0.0.1:{server.server_port}/wordpress_checkpoint_clash.html"
    finally:
        server.shutdown()
        server.server_close()


def test_summarize_fetches_a_url_and_reads_its_publication_date(page_url: str) -> None:
    result = runner.invoke(app, ["summarize", "--no-cache", page_url])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert "Tal Tamr" in " ".join(s["text"] for s in body["sentences"])
    assert body["summary"]["date"]["start"] == "2024-03-05"  # "on Tuesday evening" of a page dated 2024-03-06


def test_a_url_the_guard_refuses_is_an_input_error() -> None:
    result = runner.invoke(app, ["summarize", "http://127.0.0.1:9/page.html"])
    assert result.exit_code == 2 and "UrlForbidden" in result.stderr


def test_published_at_anchors_an_html_file_too(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        (DATA / "html" / "wordpress_checkpoint_clash.html").read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = runner.invoke(app, ["summarize", "--no-cache", "--published-at", "2024-03-14", str(page)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["date"]["start"] == "2024-03-12"
