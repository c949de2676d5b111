"""ACLED event type and sub-type from weighted cue words.

Each cue votes for one (type, sub-type); votes count more in the opening sentences (where news states what
happened) and less in background ones; a negated cue ("not caused by shooting") does not vote. A non-violent
confrontation — patrols blocking or ramming each other, a collision — is strategic_developments / other
unless shots, strikes or deaths outvote it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources

from service.article import Sentence
from service.engines.extractive import cues
from service.schema import SUB_EVENT_TYPES
from service.text.alternation import by_first_letter
from service.text.fold import folded_pattern

# Security forces as the target of an attack: an armed clash, unless a bomb, shell or strike was the means
# (then the remote violence is what ACLED codes). Not a sub-type of its own: `classify` settles it.
_SECURITY_TARGET = "security_target"


@dataclass(frozen=True, slots=True)
class Cue:
    """One row of `service/data/event_cues.json`: the words that vote (the alternatives of `pattern`, lower
    case, run on the case-folded sentence: "IED" matches "ied" too), the (type, sub-type) they vote for, how
    much, and the trigger words without which the pattern cannot match.

    A cue's pattern runs only on sentences with a word (of `cues.words`) that begins with one of its triggers
    (a trigger of several words counts by its first). Each alternative has a trigger as a literal word that
    opens the match or follows a space in it; the rarer that word, the fewer sentences the pattern runs on
    ("attacked civilians" is looked for only where "civilians" is)."""

    pattern: re.Pattern[str]
    event_type: str
    sub_event_type: str
    weight: float
    triggers: tuple[str, ...]


def _load_cues() -> tuple[Cue, ...]:
    rows = json.loads(resources.files("service").joinpath("data", "event_cues.json").read_text("utf-8"))
    return tuple(
        Cue(
            folded_pattern(rf"\b(?:{by_first_letter('|'.join(row['patterns']))})"),
            row["event_type"],
            row["sub_event_type"],
            row["weight"],
            tuple(row["triggers"]),
        )
        for row in rows
    )


_CUES = _load_cues()
_CUES_BY_STEM: dict[str, set[int]] = {}
for _index, _cue in enumerate(_CUES):
    for _trigger in _cue.triggers:
        _CUES_BY_STEM.setdefault(re.split(r"[ -]", _trigger)[0], set()).add(_index)
_STEMS_BY_HEAD: dict[str, list[str]] = {}
for _stem in _CUES_BY_STEM:
    if not re.fullmatch(r"[a-z0-9]{3,}", _stem):  # `_candidate_cues` looks up words by their first 3 letters
        raise ValueError(f"a trigger must begin with a word of 3 letters or more: {_stem!r}")
    _STEMS_BY_HEAD.setdefault(_stem[:3], []).append(_stem)
_HEADS = frozenset(_STEMS_BY_HEAD)


def _candidate_cues(text: str) -> list[int]:
    """Indexes of the cues whose trigger words begin a word of `text`, in cue order. The words are
    `cues.words` (cached: the actor rules split the same sentences), each looked up by its first three
    letters, which every trigger has."""
    found: set[int] = set()
    for word in cues.words(text):
        head = word[:3]
        if head in _HEADS:
            for stem in _STEMS_BY_HEAD[head]:
                if word.startswith(stem):
                    found.update(_CUES_BY_STEM[stem])
    return sorted(found)


_NEGATED = folded_pattern(r"\b(?:not|no|never|without|neither|nor)\b(?:\s+\w+){0,3}\s*$")
_ARMED = re.compile(
    r"\b(?:soldiers|troops|forces|army|police|militants|fighters|rebels|militia\w*|patrol)\b", re.I
)


def _weight(position: int) -> float:
    return 2.5 if position == 0 else 1.6 if position < 3 else 1.0 if position < 8 else 0.6


def classify(sentences: list[Sentence], killed: int = 0) -> tuple[str, str | None]:
    """(event_type, sub_event_type) with the sub-type always one of the type's own."""
    by_sub: dict[tuple[str, str], float] = defaultdict(float)
    for position, sentence in enumerate(sentences):
        text = sentence.text
        candidates = _candidate_cues(text)
        if not candidates:
            continue  # no cue can match: the sentence casts no vote
        factor = _weight(position) * (0.4 if cues.is_background(text) else 1.0)
        folded = cues.folded(text)
        # Overlapping cues: the longest phrase votes ("fired tear gas at protesters" over "protesters").
        matches = [(m, _CUES[index]) for index in candidates for m in _CUES[index].pattern.finditer(folded)]
        taken: list[tuple[int, int]] = []
        for m, cue in sorted(matches, key=lambda item: item[0].start() - item[0].end()):
            if any(start < m.end() and m.start() < end for start, end in taken):
                continue
            taken.append(m.span())
            if not _NEGATED.search(folded[max(0, m.start() - 40) : m.start()]):
                by_sub[(cue.event_type, cue.sub_event_type)] += cue.weight * factor
    if not by_sub:
        return "other", None
    # An attack on security forces is a clash, or the remote violence that hit them.
    target = by_sub.pop(("battles", _SECURITY_TARGET), 0.0)
    if target:
        means = [key for key in by_sub if key[0] == "explosions_remote_violence" and by_sub[key] > 0]
        if means and sum(by_sub[key] for key in means) >= 0.5 * target:
            by_sub[max(means, key=lambda key: by_sub[key])] += target
        else:
            by_sub[("battles", "armed_clash")] += target
    # Violence against civilians needs no armed opponent; an attack on civilians amid a clash is a battle.
    if (
        by_sub[("violence_against_civilians", "attack")]
        and by_sub[("battles", "armed_clash")] > by_sub[("violence_against_civilians", "attack")]
    ):
        by_sub[("battles", "armed_clash")] += by_sub.pop(("violence_against_civilians", "attack"))
    # Civilians killed by a strike, shell or bomb: ACLED codes the remote violence, not the attack on them.
    remote = [key for key in by_sub if key[0] == "explosions_remote_violence" and by_sub[key] > 0]
    attack = by_sub.get(("violence_against_civilians", "attack"), 0.0)
    if remote and attack and sum(by_sub[key] for key in remote) >= 0.5 * attack:
        strongest = max(remote, key=lambda key: by_sub[key])
        by_sub[strongest] += by_sub.pop(("violence_against_civilians", "attack"))
    if killed and ("strategic_developments", "other") in by_sub:
        by_sub[("strategic_developments", "other")] *= 0.3  # deaths make it more than a confrontation
    if ("battles", "non_state_actor_overtakes_territory") in by_sub and not any(
        _ARMED.search(s.text) for s in sentences[:3]
    ):
        del by_sub[("battles", "non_state_actor_overtakes_territory")]
    # Force against a protest qualifies the protest: it decides the sub-type whenever it is reported.
    for qualified in ("excessive_force_against_protesters", "protest_with_intervention"):
        if by_sub.get(("protests", qualified), 0.0) > 0:
            by_sub[("protests", qualified)] += by_sub.pop(("protests", "peaceful_protest"), 0.0)
            break
    by_sub = {key: score for key, score in by_sub.items() if score > 0}  # look-ups above added zeros
    if not by_sub:
        return "other", None
    by_type: dict[str, float] = defaultdict(float)
    for (kind, _), score in by_sub.items():
        by_type[kind] += score
    chosen = max(by_type, key=lambda kind: by_type[kind])
    subs = [(score, sub) for (kind, sub), score in by_sub.items() if kind == chosen]
    best_sub: str | None = max(subs)[1] if subs else None
    if best_sub is not None and best_sub not in SUB_EVENT_TYPES[chosen]:
        best_sub = None
    return chosen, best_sub
