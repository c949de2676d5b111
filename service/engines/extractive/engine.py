"""The built-in `extractive` engine: rules and small data packages, no network, no model weights.

Deterministic: the same article gives the same summary. Gazetteer and lexicons load lazily, once per engine
instance (about 3 s, off the event loop: `check_ready` warms them). Every summary passes
`service.grounding.check`: whatever a rule got wrong is dropped before it leaves the engine.
"""

from __future__ import annotations

import asyncio
import gc
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from service import grounding
from service.article import Article, Sentence
from service.engines.base import EngineResult, Judge
from service.engines.extractive import casualties as casualty_rules
from service.engines.extractive import claims as claim_rules
from service.engines.extractive import digest
from service.engines.extractive.actors import ActorLexicon, find_actors
from service.engines.extractive.casualty_tally import tally
from service.engines.extractive.dates import DateMention, date_mentions, pick_event_date
from service.engines.extractive.event_type import classify
from service.engines.extractive.gazetteer import Gazetteer
from service.engines.extractive.other_days import dated_elsewhere
from service.engines.extractive.places import find_locations
from service.engines.extractive.sentences import citable, find_dateline
from service.engines.extractive.sources import find_attributions
from service.errors import DeadlineExceeded, NoSentences
from service.schema import Casualties, DateInfo, IncidentSummary, Range

MODEL = "extractive-6"  # bump when the rules or their data change: it is part of the cache key
_STATE_WORDS = re.compile(
    r"\b(?:army|military|armed forces|government|ministry|minister|police|governor|president|security forces"
    r"|security media cell|defen[cs]e)\b",
    re.IGNORECASE,
)
_PATH = re.compile(
    r"^(?P<field>\w+)(?:\[(?P<index>\d+)\])?(?:\.positions\[(?P<position>\d+)\])?(?P<rest>.*)$"
)


@dataclass(frozen=True, slots=True)
class _Resources:
    gazetteer: Gazetteer
    actors: ActorLexicon


def _total(entries: list[Casualties], kind: str) -> int:
    total = 0
    for entry in entries:
        rng: Range | None = getattr(entry, kind)
        if rng is not None:
            total += rng.best if rng.best is not None else (rng.low or 0)
    return total


_LOAD_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _load_resources(min_town_population: int) -> _Resources:
    """The gazetteer and actor lexicon, built once per process on first use (about 3 s and 200 MB) and shared
    by every engine: they are read-only reference data, like compiled patterns, not clients. Two apps in one
    process (tests, the CLI next to a server) would otherwise each pay for them."""
    gazetteer = Gazetteer(min_town_population)
    resources = _Resources(gazetteer, ActorLexicon(gazetteer))
    # Half a million objects that live as long as the process: out of the cyclic garbage collector's sight
    # (`gc.freeze`), so that its full collections do not walk them again and again while articles are read.
    gc.freeze()
    return resources


def load_reference_data(min_town_population: int = 5000) -> _Resources:
    """The gazetteer and actor lexicon (built once per process, on first use): for other parts of the service
    that read an article's places the way this engine does (`service.derived`)."""
    with _LOAD_LOCK:
        return _load_resources(min_town_population)


class ExtractiveEngine:
    """Fills the IncidentSummary schema from the article alone; see the package's modules for each rule."""

    name = "extractive"

    def __init__(self, *, min_town_population: int = 5000) -> None:
        self.model = MODEL
        self._min_town_population = min_town_population

    def _load(self) -> _Resources:
        # one build, even when the first requests arrive together on several threads
        return load_reference_data(self._min_town_population)

    def summarize_sync(self, article: Article, judge: Judge | None = None) -> IncidentSummary:
        """The summary of one prepared article: pure, deterministic, CPU only. What `judge` (by default
        `grounding.check`) rejects is dropped."""
        resources = self._load()
        gazetteer = resources.gazetteer
        sentences = citable(article)
        if not sentences:
            raise NoSentences("the article has only credit lines (bylines), no sentence that could be cited")
        dateline = find_dateline(sentences)
        mentions = date_mentions(sentences, article.published_at, dateline, list(article.sentences))
        date = pick_event_date(mentions)
        locations = find_locations(sentences, gazetteer, dateline, gazetteer.not_places)
        site = next((loc for loc in locations if loc.role == "incident_site"), None)
        incident_cc = gazetteer.nationality(site.country) if site is not None and site.country else None

        def affiliation(text: str) -> str | None:
            """The side a source speaks for: a state, a named armed group, or the incident country's state."""
            side = gazetteer.nationality(text) or resources.actors.group_of(text)
            return side or (incident_cc if _STATE_WORDS.search(text) else None)

        attributions = find_attributions(sentences)
        reports = casualty_rules.incident_reports(sentences, attributions)
        reports = _this_incident(_preferred(reports, article), date, mentions)
        entries, figure_disputes = tally(reports)
        killed, injured = _total(entries, "killed"), _total(entries, "injured")
        event_type, sub_type = classify(sentences, killed)
        disputes = [
            *figure_disputes,
            *claim_rules.count_disputes(sentences, attributions),
            *claim_rules.account_disputes(attributions, affiliation),
        ]
        summary = IncidentSummary(
            headline=digest.headline(event_type, sub_type, locations, killed, injured, entries),
            summary=digest.statements(sentences, dateline, date, locations, entries),
            event_type=event_type,
            sub_event_type=sub_type,
            date=date,
            locations=locations,
            actors=find_actors(sentences, resources.actors, incident_cc),
            casualties=entries,
            claims=claim_rules.find_claims(attributions),
            disputes=disputes,
        )
        return _grounded(summary, article, judge or (lambda candidate: grounding.check(candidate, article)))

    async def summarize(
        self, article: Article, *, deadline_s: float | None = None, judge: Judge | None = None
    ) -> EngineResult:
        try:
            summary = await asyncio.wait_for(
                asyncio.to_thread(self.summarize_sync, article, judge), deadline_s
            )
        except TimeoutError as e:
            raise DeadlineExceeded(f"the extractive engine did not finish within {deadline_s} s") from e
        return EngineResult(summary=summary, attempts=1)

    async def check_ready(self) -> None:
        """Loads the gazetteer (off the event loop) so that the first request does not pay for it."""
        await asyncio.to_thread(self._load)

    async def aclose(self) -> None:
        return None


_TERMINAL = (".", "!", "?", '"', "”", "’", "'", ")", "]", ":")


def _title_line(sentence: Sentence, text: str) -> bool:
    """A headline: a line of its own without a sentence's final stop (the story's title, or another story's
    title listed under it)."""
    alone = (sentence.start == 0 or text[sentence.start - 1] == "\n") and (
        sentence.end >= len(text)
        or text[sentence.end] == "\n"
        or text[sentence.end :].lstrip(" \t")[:1] in ("\n", "")
    )
    return alone and not sentence.text.rstrip().endswith(_TERMINAL)


def _preferred(reports: list[casualty_rules.Report], article: Article) -> list[casualty_rules.Report]:
    """The figures of the lede and the body, else of the headlines, else those told of another incident
    ("in a separate attack"): a headline's rounder or older figure never outvotes the body's."""
    title = {r.sentence.id for r in reports if _title_line(r.sentence, article.text)}
    other = {r.sentence.id for r in reports if casualty_rules.other_incident(r.sentence)}
    for tier in (
        [r for r in reports if r.sentence.id not in title and r.sentence.id not in other],
        [r for r in reports if r.sentence.id not in other],
    ):
        if tier:
            return tier
    return reports


def _this_incident(
    reports: list[casualty_rules.Report], date: DateInfo | None, mentions: list[DateMention]
) -> list[casualty_rules.Report]:
    """The reports not given in sentences about other days; all of them when every one is (then the date
    picked for the incident is the doubtful part)."""
    cited = {r.sentence.id for r in reports}
    if len(cited) < 2 or date is None:
        return reports  # one sentence: all or nothing, and nothing would fall back on all
    elsewhere = dated_elsewhere(cited, date, mentions)
    return [r for r in reports if r.sentence.id not in elsewhere] or reports


def _grounded(summary: IncidentSummary, article: Article, judge: Judge) -> IncidentSummary:
    """Drop (or fall back on) whatever `judge` rejects until nothing is rejected."""
    for _ in range(8):
        violations = judge(summary)
        if not violations:
            return summary
        data: dict[str, Any] = summary.model_dump()
        drop: dict[str, set[int]] = {}
        for violation in violations:
            m = _PATH.match(violation.path)
            if m is None:
                continue
            field, index = m.group("field"), int(m.group("index") or 0)
            if field == "date":
                data["date"] = None
            elif field == "summary":
                cited = data["summary"][index]["citations"]
                data["summary"][index]["text"] = " ".join(
                    article.by_id[c].text for c in cited if c in article.by_id
                )
            elif field == "casualties" and m.group("rest") == ".reported_by":
                data["casualties"][index]["reported_by"] = None
            elif field == "disputes" and m.group("position") is not None:
                data["disputes"][index]["positions"][int(m.group("position"))] = None
            elif field in data and isinstance(data[field], list):
                drop.setdefault(field, set()).add(index)
        for field, indexes in drop.items():
            data[field] = [item for i, item in enumerate(data[field]) if i not in indexes]
        data["disputes"] = [
            {**d, "positions": [p for p in d["positions"] if p is not None]}
            for d in data["disputes"]
            if len([p for p in d["positions"] if p is not None]) >= 2
        ]
        if not data["summary"]:
            first = article.sentences[0]
            data["summary"] = [{"text": first.text, "citations": [first.id]}]
        summary = IncidentSummary.model_validate(data)
    return summary
