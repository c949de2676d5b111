"""Markdown rendering: every fact with its citations, and model or article text kept literal."""

from __future__ import annotations

import re

from service.render.markdown import format_range, render
from service.result import DerivedOut, Meta, SentenceOut, SummaryResult, UsageOut
from service.schema import IncidentSummary, Range


def _result(headline: str, statement: str, sentence: str) -> SummaryResult:
    summary = IncidentSummary.model_validate(
        {
            "headline": headline,
            "summary": [{"text": statement, "citations": ["S1"]}],
            "event_type": "battles",
            "sub_event_type": "armed_clash",
            "date": None,
            "locations": [
                {
                    "name": "Idlib",
                    "admin1": "Idlib",
                    "country": "Syria",
                    "role": "incident_site",
                    "citations": ["S1"],
                }
            ],
            "actors": [],
            "casualties": [
                {
                    "group": "soldiers",
                    "killed": {"low": 4, "best": 4, "high": None},
                    "injured": None,
                    "reported_by": "officials",
                    "citations": ["S1"],
                }
            ],
            "claims": [{"source": "officials", "statement": "Four died.", "citations": ["S1"]}],
            "disputes": [],
        }
    )
    meta = Meta(
        engine="extractive",
        model="x",
        prompt_version="none",
        schema_version="1",
        cached=False,
        attempts=1,
        usage=UsageOut(),
        latency_ms=1.0,
        warnings=[],
        degraded=False,
    )
    return SummaryResult(
        id="0" * 32,
        summary=summary,
        sentences=[SentenceOut(id="S1", text=sentence, start=0, end=len(sentence))],
        meta=meta,
    )


def test_facts_and_citations_are_rendered() -> None:
    text = render(
        _result("Clash in Idlib", "Four soldiers died.", "Four soldiers died in Idlib, officials said.")
    )
    assert text.startswith("# Clash in Idlib\n")
    assert "- Four soldiers died. [S1]" in text
    assert "**Casualties, soldiers:** killed at least 4, per officials [S1]" in text
    assert "**Place (incident site):** Idlib, Idlib, Syria [S1]" in text
    assert "Four soldiers died in Idlib, officials said." in text


def test_a_date_derived_from_the_publication_date_is_shown_as_not_stated() -> None:
    undated = _result("Clash in Idlib", "Four soldiers died.", "Four soldiers died in Idlib, officials said.")
    assert "**Date:**" not in render(undated)
    published = DerivedOut(path="date", value="2024-03-06", basis="the article's publication date")
    dated = undated.model_copy(update={"meta": undated.meta.model_copy(update={"derived": [published]})})
    assert "- **Date:** 2024-03-06 (not stated in the article: its publication date)\n" in render(dated)


def test_model_and_article_text_cannot_form_links_images_or_html() -> None:
    hostile = (
        "![x](https://evil.example/p.png) <img src=x onerror=alert(1)> [click](javascript:alert(1)) `code`"
    )
    text = render(_result(hostile[:120], hostile, hostile))
    assert not re.search(r"(?<!\\)!\[", text)
    assert not re.search(r"(?<!\\)<img", text)
    assert not re.search(r"(?<!\\)\[click(?<!\\)\]", text)
    assert "\\<img" in text and "\\!\\[x\\]" in text


def test_ranges() -> None:
    assert format_range(Range(low=2, best=2, high=2)) == "2"
    assert format_range(Range(low=2, best=None, high=5)) == "2–5"
    assert format_range(Range(low=None, best=10, high=10)) == "up to 10"
    assert format_range(None) is None
