"""What the bot shows and refuses to show: the statements' cited sentences first, nothing public for `help`, a
text too short to be an article, a bare label or mention, or an article in a language the engine cannot read;
Block Kit within Slack's limits. Requests are signed as Slack signs them; Slack is the loopback fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.errors import UnsupportedLanguage
from service.render.slack_blocks import cited_in_order, render
from service.result import SentenceOut
from service.schema import Statement
from service.slack import input as slack_input
from service.slack import messages
from tests.conftest import AppClient, checkpoint_result, checkpoint_summary, result_of, sample_text
from tests.fakes.slack_api import RESPONSE_URL, FakeSlackApi, command_body
from tests.fakes.slack_bot import TOKEN, FakeSummarizer, bot_client, bot_settings, cited_ids, send

ARTICLE = sample_text("syria_checkpoint_shootout").strip()
ARABIC = (
    "قتل جنديان وأصيب ثلاثة آخرون في اشتباك عند حاجز قرب مدينة القامشلي يوم الاثنين. "
    "وأفادت وكالة سانا بأن دورية أمريكية تبادلت إطلاق النار مع عناصر من الدفاع الوطني."
)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(token=TOKEN) as api:
        yield api


# --- the cited sentences ----------------------------------------------------------------------------


def test_every_statements_sources_show_before_the_other_fields_sources() -> None:
    """Fourteen cited sentences: the other fields cite S1–S9, the statements S10, S12 and S14. In article
    order the statements' sentences fell into "+5 more"; now they come first."""
    sentences = [
        SentenceOut(id=f"S{i}", text=f"Sentence {i} of the article.", start=0, end=1) for i in range(1, 15)
    ]
    base = checkpoint_summary()
    summary = base.model_copy(
        update={
            "summary": [
                Statement(text="Two fighters were killed.", citations=["S12"]),
                Statement(text="The clash lasted two hours.", citations=["S10", "S14"]),
            ],
            "date": base.date.model_copy(update={"citations": ["S1", "S2", "S3"]}) if base.date else None,
            "locations": [loc.model_copy(update={"citations": ["S4", "S5"]}) for loc in base.locations],
            "actors": [a.model_copy(update={"citations": ["S6", "S7", "S8", "S9"]}) for a in base.actors],
            "casualties": [c.model_copy(update={"citations": ["S11", "S13"]}) for c in base.casualties],
            "claims": [],
            "disputes": [],
        }
    )
    message = render(result_of(summary, sentences))

    assert cited_in_order(summary)[:3] == ["S12", "S10", "S14"]
    assert cited_ids(message)[:3] == ["S12", "S10", "S14"]
    more = next(b for b in message["blocks"] if b["type"] == "context")["elements"][-1]["text"]
    assert more.startswith("_+5 more cited sentences:")
    assert not any(f"S{i}," in more or more.endswith(f"S{i}_") for i in (10, 12, 14))


# --- the input guard ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "notice"),
    [
        ("help", messages.USAGE),
        ("  HELP ", messages.USAGE),
        ("", messages.USAGE),
        ("Checkpoint shootout", messages.TOO_SHORT),
        ("Two soldiers were killed near Idlib on Monday.", messages.TOO_SHORT),
        ("<@U0ANALYST> <#C0INCIDENTS|incidents>", messages.ONLY_A_LABEL),
    ],
)
async def test_the_guard_answers_privately_and_posts_nothing(
    slack: FakeSlackApi, typed: str, notice: str
) -> None:
    settings = bot_settings(slack)
    summarizer = FakeSummarizer(settings)
    async with bot_client(settings, summarizer) as client:
        ack = await send(client, command_body(typed, slack.response_url(), escaped=False))

    assert ack.json() == {"text": notice, "response_type": "ephemeral"}
    assert summarizer.articles == []
    assert slack.received(RESPONSE_URL) == [] and slack.received("chat.postMessage") == []


def test_a_real_article_passes_the_guard() -> None:
    wanted = slack_input.from_command(ARTICLE)
    assert wanted.text == ARTICLE and wanted.notice is None


async def test_an_article_the_engine_cannot_read_is_refused_privately(
    slack: FakeSlackApi, app_client: AppClient, extractive_engine: object
) -> None:
    """The real service: the extractive engine refuses Arabic; the user hears why, the channel sees nothing."""
    async with app_client(bot_settings(slack)) as client:
        await send(client, command_body(ARABIC, slack.response_url()))
        [reply] = await slack.wait_for(RESPONSE_URL, timeout_s=30)

    assert reply.body["response_type"] == "ephemeral"
    assert "looks Arabic" in reply.body["text"] and "reads English only" in reply.body["text"]
    assert slack.received("chat.postMessage") == []


def test_the_language_notice_names_the_language() -> None:
    error = UnsupportedLanguage("ru", language="ru", engine="extractive")
    assert messages.error_message(error).startswith("Nothing was posted: the article looks Russian")


# --- Block Kit within Slack's limits -----------------------------------------------------------------


def _within_limits(message: dict[str, Any]) -> None:
    blocks = message["blocks"]
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            texts = [block["text"]] if "text" in block else []
            for text in [*texts, *block.get("fields", [])]:
                assert len(text["text"]) <= (3_000 if text in texts else 2_000)
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


async def test_posted_messages_stay_within_block_kit_limits(slack: FakeSlackApi) -> None:
    settings = bot_settings(slack)
    async with bot_client(settings, FakeSummarizer(settings)) as client:
        await send(client, command_body(ARTICLE, slack.response_url()))
        [reply] = await slack.wait_for(RESPONSE_URL)

    _within_limits(reply.body)
    _within_limits(render(checkpoint_result()))
