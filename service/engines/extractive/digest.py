"""Headline and summary statements: what happened, where, to whom, in the article's own key sentences.

The headline is composed from the facts already found (event, site, country, toll). The statements are the
highest-scoring sentences — incident words, the event's date, site and casualty figures, the lede — in
article order, with the dateline cut off and long sentences trimmed at a clause boundary.
"""

from __future__ import annotations

import re

from service.article import Sentence
from service.engines.extractive import cues
from service.engines.extractive.sentences import Dateline
from service.schema import Casualties, DateInfo, Location, Statement
from service.text.shorten import shorten

_LABELS = {
    "armed_clash": "Armed clash", "government_regains_territory": "Government forces retake territory",
    "non_state_actor_overtakes_territory": "Armed group takes territory", "chemical_weapon": "Chemical attack",
    "air_drone_strike": "Air or drone strike", "suicide_bomb": "Suicide bombing",
    "shelling_artillery_missile_attack": "Shelling or missile attack",
    "remote_explosive_landmine_ied": "Explosive device blast", "grenade": "Grenade attack",
    "sexual_violence": "Sexual violence", "attack": "Attack on civilians",
    "abduction_forced_disappearance": "Abduction", "peaceful_protest": "Protest",
    "protest_with_intervention": "Protest dispersed", "excessive_force_against_protesters": "Force used on protesters",
    "violent_demonstration": "Riot", "mob_violence": "Mob violence", "agreement": "Agreement", "arrests": "Arrests",
    "change_to_group_activity": "Armed group activity", "disrupted_weapons_use": "Weapons seized or defused",
    "headquarters_or_base_established": "Base established", "looting_property_destruction": "Looting or destruction",
    "non_violent_transfer_of_territory": "Territory changes hands", "other": "Non-violent confrontation",
}  # fmt: skip
_SPACES = re.compile(r"\s+")
_MAX_STATEMENT = 320
_MAX_STATEMENTS = 4


def headline(event_type: str, sub_type: str | None, locations: list[Location], killed: int, injured: int,
             casualties: list[Casualties]) -> str:  # fmt: skip
    label = _LABELS.get(sub_type or "", "Incident") if event_type != "other" else "Incident"
    site = next((loc for loc in locations if loc.role == "incident_site"), None)
    where = ""
    if site is not None:
        where = f" in {site.name}" + (
            f", {site.country}" if site.country and site.country != site.name else ""
        )
    toll = []
    if killed:
        toll.append(f"{killed} killed")
    if injured:
        toll.append(f"{injured} injured")
    text = label + where + (": " + ", ".join(toll) if toll and casualties else "")
    return shorten(text, 120)


def _trim(text: str) -> str:
    if len(text) <= _MAX_STATEMENT:
        return text
    cut = max(text.rfind(sep, 0, _MAX_STATEMENT) for sep in ("; ", ", ", " – ", " — "))
    if cut < 80:
        cut = text.rfind(" ", 0, _MAX_STATEMENT)
    return text[:cut].rstrip(" ,;–—") + "…"


def statements(sentences: list[Sentence], dateline: Dateline | None, date: DateInfo | None,
               locations: list[Location], casualties: list[Casualties]) -> list[Statement]:  # fmt: skip
    key_ids: dict[str, float] = {}
    if date is not None:
        key_ids[date.citations[0]] = key_ids.get(date.citations[0], 0) + 2.0
    for loc in locations[:1]:
        for sid in loc.citations[:1]:
            key_ids[sid] = key_ids.get(sid, 0) + 2.0
    for cas in casualties:
        key_ids[cas.citations[-1]] = key_ids.get(cas.citations[-1], 0) + 2.5
    scored: list[tuple[float, int, Sentence]] = []
    for position, sentence in enumerate(sentences):
        words = len(sentence.text.split())
        if words < 5:
            continue
        score = min(cues.incident_hits(sentence.text), 4) * 0.8 + key_ids.get(sentence.id, 0.0)
        score += 2.0 if position < 2 else 1.0 if position < 4 else 0.0
        if cues.is_background(sentence.text):
            score -= 2.0
        if sentence.text.count("“") + sentence.text.count('"') >= 2:
            score -= 0.5
        scored.append((score, position, sentence))
    chosen = sorted(sorted(scored, reverse=True)[:_MAX_STATEMENTS], key=lambda item: item[1])
    if not chosen and sentences:
        chosen = [(0.0, 0, sentences[0])]
    result = []
    for _, _, sentence in chosen:
        text = sentence.text
        if dateline is not None and dateline.sentence_id == sentence.id:
            text = text[dateline.end :]
        text = _SPACES.sub(" ", text).strip()
        result.append(Statement(text=_trim(text) or sentence.text, citations=[sentence.id]))
    return result
