"""Block Kit rendering (`service.render.slack_blocks`): what a summary looks like in Slack, Slack's limits on a
summary far longer than any real one, and escaping of model text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from service.render.slack_blocks import render
from service.result import DerivedOut, SentenceOut, SummaryResult
from service.schema import (
    Actor,
    Casualties,
    Claim,
    DateInfo,
    Dispute,
    IncidentSummary,
    Location,
    Position,
    Range,
    Statement,
)
from tests.conftest import CHECKPOINT_HEADLINE, checkpoint_result, checkpoint_summary, result_of


def long_result() -> SummaryResult:
    """Far more than any real summary: long text full of `&<>`, 60 cited sentences, dozens of everything."""
    noise = "Tom & Jerry <b>fought</b> at the A&B depot > 3 km away; "
    ids = [f"S{i}" for i in range(1, 61)]
    sentences = [SentenceOut(id=i, text=noise * 30, start=0, end=len(noise) * 30) for i in ids]
    summary = IncidentSummary(
        headline=(noise * 3)[:120],
        summary=[Statement(text=noise * 60, citations=ids[k * 12 : k * 12 + 12]) for k in range(5)],
        event_type="explosions_remote_violence",
        sub_event_type="shelling_artillery_missile_attack",
        date=DateInfo(start="2024-02-01", end="2024-02-29", precision="month", text=noise * 5, citations=ids),
        locations=[
            Location(name=noise * 3, admin1=noise, country="Syria", role="incident_site", citations=ids[:3])
            for _ in range(25)
        ],
        actors=[
            Actor(name=noise * 4, kind="rebel_group", role="initiator", affiliation=noise, citations=[i])
            for i in ids[:40]
        ],
        casualties=[
            Casualties(
                group=noise * 2,
                killed=Range(low=k, best=k + 1, high=k + 5),
                injured=Range(low=k, best=None, high=None),
                reported_by=noise,
                citations=ids[k : k + 2],
            )
            for k in range(30)
        ],
        claims=[Claim(source=noise, statement=noise * 10, citations=[i]) for i in ids[:20]],
        disputes=[
            Dispute(
                topic=noise * 4,
                positions=[Position(source=noise, position=noise * 8, citations=[i]) for i in ids[:6]],
            )
            for _ in range(8)
        ],
    )
    return result_of(summary, sentences)


# --- helpers ---------------------------------------------------------------------------------------


def texts(node: Any) -> Iterator[str]:
    """Every string under a `text` key (text objects, fields, elements) and the fallback text."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from texts(item)


def blocks_of(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in message["blocks"] if b["type"] == kind]


def assert_within_slack_limits(message: dict[str, Any]) -> None:
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(0 < len(f["text"]) <= 2000 for f in block.get("fields", []))
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 3000 for e in block["elements"])
    assert 0 < len(message["text"]) <= 1000
    assert len(json.dumps(message, ensure_ascii=False)) < 10_000  # Slack's ceiling is 12,000


ENTITY_OR_PLAIN = re.compile(r"&(?!amp;|lt;|gt;)|[<>]")


# --- content ---------------------------------------------------------------------------------------


def test_checkpoint_summary_renders_headline_statements_fields_disputes_and_cited_sentences() -> None:
    result = checkpoint_result()
    message = render(result)

    [header] = blocks_of(message, "header")
    assert header["text"]["text"] == CHECKPOINT_HEADLINE
    statements, fields, disputes = blocks_of(message, "section")
    lines = statements["text"]["text"].split("\n")
    assert lines[0] == (
        "• A US-led coalition patrol exchanged fire with National Defense Forces at their checkpoint near "
        "Kamyshly. [S2, S3, S5]"
    )
    assert lines[1].endswith("returned it in self-defense. [S6, S7]")
    assert lines[2].endswith("US aircraft struck afterwards. [S12, S13]")  # in article order, once each
    assert len(lines) == 3

    by_title = {f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1] for f in fields["fields"]}
    assert set(by_title) == {"*Date*", "*Event type*", "*Place*", "*Casualties*", "*Actors*"}
    assert by_title["*Date*"] == "12 Feb [S2]\n_“today February 12th”_"
    assert by_title["*Event type*"] == "Battles · armed clash"
    assert by_title["*Place*"].split("\n") == [
        "Kamyshly, Al-Hasakah, Syria [S2]",  # the incident site first
        "Khirbat-Amo, Syria (nearby) [S3]",
    ]
    assert by_title["*Casualties*"].split("\n") == [
        "civilians: 1 killed, 1 injured (per SANA) [S13]",
        "Syrian army: at least 1 injured (per eyewitnesses) [S10]",
    ]
    assert "Russian military police — external forces, mediator [S9]" in by_title["*Actors*"]

    assert "*Who opened fire first*" in disputes["text"]["text"]
    assert "• SANA: US forces opened fire. [S13]" in disputes["text"]["text"]

    sources, footer = blocks_of(message, "context")
    # the statements' sentences first, in statement order; then the other fields' in article order
    cited = ["S2", "S3", "S5", "S6", "S7", "S13", "S12", "S9", "S10"]
    assert [e["text"].split(" ", 1)[0] for e in sources["elements"]] == [f"*{i}*" for i in cited]
    s13 = next(s for s in result.sentences if s.id == "S13")
    assert sources["elements"][cited.index("S13")]["text"].startswith(f"*S13* {s13.text[:100]}")
    assert not any(e["text"].startswith("*S1* ") for e in sources["elements"])  # "BREAKING: …" is not cited
    assert "gpt-4o-mini" in footer["elements"][0]["text"] and result.id in footer["elements"][0]["text"]

    assert message["text"].startswith(CHECKPOINT_HEADLINE + " — A US-led coalition patrol")
    assert_within_slack_limits(message)


def test_optional_parts_are_omitted_or_marked_when_absent() -> None:
    summary = checkpoint_summary().model_copy(update={"date": None, "casualties": [], "disputes": []})
    message = render(result_of(summary, checkpoint_result().sentences, degraded=True))

    assert len(blocks_of(message, "section")) == 2  # no disputes section
    fields = {
        f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1] for f in message["blocks"][2]["fields"]
    }
    assert fields["*Date*"] == "Not stated"
    assert fields["*Casualties*"] == "None reported"
    assert (
        ":warning: Written by the fallback engine" in blocks_of(message, "context")[-1]["elements"][0]["text"]
    )


def test_a_date_derived_from_the_publication_date_is_shown_as_not_stated() -> None:
    result = result_of(checkpoint_summary().model_copy(update={"date": None}), checkpoint_result().sentences)
    published = DerivedOut(path="date", value="2024-02-12", basis="the article's publication date")
    result = result.model_copy(update={"meta": result.meta.model_copy(update={"derived": [published]})})
    [date_field] = [f for f in render(result)["blocks"][2]["fields"] if f["text"].startswith("*Date*")]
    assert date_field["text"] == "*Date*\n12 Feb 2024\n_Not stated in the article: its publication date_"


def test_dates_ranges_and_event_types_are_spelled_out() -> None:
    summary = checkpoint_summary().model_copy(
        update={
            "event_type": "explosions_remote_violence",
            "sub_event_type": "air_drone_strike",
            "date": DateInfo(
                start="2024-02-05", end="2024-02-11", precision="week", text="last week", citations=["S2"]
            ),
            "casualties": [
                Casualties(
                    group="fighters",
                    killed=Range(low=2, best=None, high=5),
                    injured=Range(low=None, best=None, high=10),
                    reported_by=None,
                    citations=["S13"],
                ),
            ],
        }
    )
    fields = render(result_of(summary, checkpoint_result().sentences))["blocks"][2]["fields"]
    as_text = "\n".join(f["text"] for f in fields)
    assert "5 Feb 2024 – 11 Feb 2024 (week) [S2]" in as_text
    assert "Explosions/Remote violence · air drone strike" in as_text
    assert "fighters: 2–5 killed, up to 10 injured [S13]" in as_text


# --- limits and escaping ---------------------------------------------------------------------------


def test_a_huge_summary_stays_within_every_slack_limit() -> None:
    message = render(long_result())

    assert_within_slack_limits(message)
    statements = blocks_of(message, "section")[0]["text"]["text"]
    assert statements.count("\n• ") + 1 == 5  # every statement kept, each clipped
    assert "[S1, S2, S3, S4, S5, S6 +6]" in statements
    sources = blocks_of(message, "context")[0]["elements"]
    assert len(sources) == 10
    assert sources[-1]["text"].startswith("_+51 more cited sentences: S10, S11,")
    fields = {f["text"].split("\n", 1)[0] for f in blocks_of(message, "section")[1]["fields"]}
    assert fields == {"*Date*", "*Event type*", "*Place*", "*Casualties*", "*Actors*"}
    assert "more actors_" in json.dumps(message)  # the overflow is counted, not dropped silently


def test_model_text_is_escaped_everywhere_and_clipping_never_splits_an_entity() -> None:
    for message in (render(long_result()), render(checkpoint_result())):
        for text in texts(message):
            assert not ENTITY_OR_PLAIN.search(text), text


def test_control_sequences_in_model_text_cannot_link_or_mention() -> None:
    summary = checkpoint_summary().model_copy(
        update={
            "headline": "Strike on A&B depot <!channel>",
            "summary": [Statement(text="See <https://evil.example|this> & <@U123>.", citations=["S2"])],
        }
    )
    message = render(result_of(summary, checkpoint_result().sentences))

    assert message["blocks"][0]["text"]["text"] == "Strike on A&amp;B depot &lt;!channel&gt;"
    assert (
        "See &lt;https://evil.example|this&gt; &amp; &lt;@U123&gt;. [S2]"
        in message["blocks"][1]["text"]["text"]
    )
    assert message["text"].startswith("Strike on A&amp;B depot &lt;!channel&gt; — See &lt;https")
    mrkdwn = [obj for obj in _text_objects(message) if obj["type"] == "mrkdwn"]
    assert mrkdwn and all(obj.get("verbatim") is True for obj in mrkdwn)


def _text_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in {"mrkdwn", "plain_text"}:
            yield node
        for value in node.values():
            yield from _text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _text_objects(item)
