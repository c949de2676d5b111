"""The extractive engine end to end: the shipped samples' expected facts, grounding on every article, the
Engine interface."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from service import grounding
from service.article import Article, ArticleIn, prepare
from service.engines.base import EngineResult
from service.engines.extractive import ExtractiveEngine
from service.errors import DeadlineExceeded
from service.eval import names_match
from service.schema import IncidentSummary
from tests.conftest import DATA, SAMPLES, gold_records

GOLD = DATA / "gold_articles.jsonl"


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _sample_records() -> list[dict]:
    records = gold_records()
    for record in records:
        if "text" not in record:
            record["text"] = (SAMPLES / record["file"]).read_text(encoding="utf-8")
    return records


def _article(record: dict) -> Article:
    published = record.get("published_at")
    return prepare(
        ArticleIn(text=record["text"], published_at=date.fromisoformat(published) if published else None),
        max_chars=1_000_000,
    )


@pytest.fixture(scope="module")
def engine() -> ExtractiveEngine:
    return ExtractiveEngine()


def _total(summary: IncidentSummary, kind: str) -> int:
    return sum(
        (getattr(c, kind).best if getattr(c, kind).best is not None else getattr(c, kind).low or 0)
        for c in summary.casualties
        if getattr(c, kind) is not None
    )


@pytest.mark.parametrize("index", [0, 1])
def test_samples_match_expected_facts(engine: ExtractiveEngine, index: int) -> None:
    record = _sample_records()[index]
    gold = record["gold"]
    article = _article(record)
    summary = engine.summarize_sync(article)

    assert summary.date is not None
    assert (summary.date.start, summary.date.end) == (gold["start_date"], gold["end_date"])
    assert summary.date.text in " ".join(article.by_id[c].text for c in summary.date.citations)
    site = summary.locations[0]
    assert site.role == "incident_site"
    assert names_match(gold["place"], site.name)
    assert site.country == gold["country"]
    assert site.admin1 == gold["admin1"]
    killed, injured = _total(summary, "killed"), _total(summary, "injured")
    assert gold["deaths_low"] <= killed <= gold["deaths_high"]
    assert injured >= gold["injured_low"]
    assert gold["injured_high"] is None or injured <= gold["injured_high"]
    assert summary.event_type == gold["event_type"]
    for actor in gold["actors"]:
        assert any(names_match(actor, a.name) for a in summary.actors), (actor, summary.actors)


@pytest.mark.parametrize("index", [0, 1])
def test_samples_cite_only_article_sentences_and_never_boilerplate(
    engine: ExtractiveEngine, index: int
) -> None:
    record = _sample_records()[index]
    article = _article(record)
    summary = engine.summarize_sync(article)
    cited = summary.citation_ids()
    assert cited and all(c in article.by_id for c in cited)
    for cid in cited:
        text = article.by_id[cid].text
        assert not any(bad in text for bad in record["gold"]["never_cite"]), text
        assert not text.startswith("(Reporting by")
    assert grounding.check(summary, article) == []


@pytest.mark.parametrize("index", [0, 1])
def test_samples_have_a_claim_per_named_source_and_a_dispute(engine: ExtractiveEngine, index: int) -> None:
    record = _sample_records()[index]
    summary = engine.summarize_sync(_article(record))
    for source in record["gold"]["sources"]:
        assert any(names_match(source, claim.source) for claim in summary.claims), (source, summary.claims)
    assert summary.disputes
    for dispute in summary.disputes:
        assert len({p.source for p in dispute.positions}) >= 2


def test_shootout_sample_disputes_strike_count_and_who_fired_first(engine: ExtractiveEngine) -> None:
    summary = engine.summarize_sync(_article(_sample_records()[0]))
    topics = {d.topic: d for d in summary.disputes}
    strikes = next(d for topic, d in topics.items() if "strike" in topic)
    assert {p.source for p in strikes.positions} >= {"Turkish state news agency Anadolu"}
    fire = next(d for topic, d in topics.items() if "fire" in topic)
    sources = " ".join(p.source for p in fire.positions)
    assert "SANA" in sources and "Cuggins" in sources


@pytest.mark.parametrize("record", _records(GOLD), ids=lambda r: r["id"])
def test_every_gold_article_is_grounded_with_valid_citations(engine: ExtractiveEngine, record: dict) -> None:
    article = _article(record)
    summary = engine.summarize_sync(article)
    assert grounding.check(summary, article) == []
    assert 1 <= len(summary.summary) <= 5 and len(summary.headline) <= 120
    for cid in summary.citation_ids():
        assert not any(bad.lower() in article.by_id[cid].text.lower() for bad in record["gold"]["never_cite"])


def test_output_is_deterministic(engine: ExtractiveEngine) -> None:
    record = _records(GOLD)[0]
    first = engine.summarize_sync(_article(record)).model_dump()
    assert ExtractiveEngine().summarize_sync(_article(record)).model_dump() == first


def test_statement_numbers_are_backed_by_their_citations(engine: ExtractiveEngine) -> None:
    for record in _records(GOLD):
        article = _article(record)
        summary = engine.summarize_sync(article)
        for statement in summary.summary:
            cited = " ".join(article.by_id[c].text for c in statement.citations)
            assert statement.text.rstrip("…") in cited or statement.text[:60] in cited


async def test_async_interface_returns_an_engine_result(engine: ExtractiveEngine) -> None:
    await engine.check_ready()
    result = await engine.summarize(_article(_records(GOLD)[1]), deadline_s=30)
    assert isinstance(result, EngineResult)
    assert result.attempts == 1 and result.usage.prompt_tokens == 0
    assert engine.name == "extractive" and engine.model.startswith("extractive-")
    await engine.aclose()


async def test_a_deadline_too_short_raises_the_typed_error() -> None:
    engine = ExtractiveEngine()  # no time at all: the work, in a worker thread, cannot have finished
    with pytest.raises(DeadlineExceeded):
        await engine.summarize(_article(_records(GOLD)[1]), deadline_s=0)


def test_article_without_incident_still_gives_a_valid_summary(engine: ExtractiveEngine) -> None:
    article = prepare(
        ArticleIn(text="The committee met to discuss the budget. Members approved it."), max_chars=10_000
    )
    summary = engine.summarize_sync(article)
    assert summary.event_type == "other" and summary.sub_event_type is None
    assert summary.casualties == [] and summary.date is None
    assert grounding.check(summary, article) == []


def test_a_group_named_with_dotted_capital_i_is_read_not_crashed_on(engine: ExtractiveEngine) -> None:
    # "İ".lower() is two characters, so a look-up keyed by str.lower once raised KeyError on this sentence.
    text = (
        "KABUL, March 3 (Reuters) - A suicide bomber killed four people at a market in Kabul on Monday. "
        "İSLAMİC STATE said in a statement that its fighters carried out the attack."
    )
    summary = engine.summarize_sync(prepare(ArticleIn(text=text), max_chars=1_000_000))
    assert any(names_match(actor.name, "Islamic State") for actor in summary.actors)


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        # the agent of an attack noun or of a passive verb is the initiator; the passive subject the target
        ("Two fighters of the National Defence Forces were killed in an attack by ISIS cells near Palmyra, "
         "activists said.", {"National Defence Forces": "target", "ISIS": "initiator"}),
        ("Three soldiers were killed by Taliban fighters in Kandahar province on Monday, officials said.",
         {"Taliban": "initiator", "Three soldiers": "target"}),
        ("Six villagers were killed in a raid blamed on ADF rebels near Beni on Monday.", {"ADF": "initiator"}),
        # "by" after a place is no agent; a clause word ends the object ("killed when soldiers opened fire")
        ("Turkish-backed factions shelled villages held by the SDF near Tal Tamr on Monday, killing two.",
         {"SDF": "other"}),
        ("A farmer was shot dead when soldiers opened fire on a market in Bamenda on Monday.",
         {"soldiers": "initiator"}),
    ],
)  # fmt: skip
def test_actor_roles_follow_who_did_what_to_whom(
    engine: ExtractiveEngine, text: str, roles: dict[str, str]
) -> None:
    article = prepare(ArticleIn(text=text, published_at=date(2024, 3, 12)), max_chars=10_000)
    found = {actor.name: actor.role for actor in engine.summarize_sync(article).actors}
    assert {name: found.get(name) for name in roles} == roles, found
