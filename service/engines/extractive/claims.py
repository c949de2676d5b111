"""Claims (who asserts what) and disputes (where sources contradict each other).

Every attribution is a claim. Disputes come in three forms:
- figures: sources give different casualty counts (from `casualties.tally`);
- counts of the incident's own events: "at least one strike" (US Air Force) vs "two air strikes" (Anadolu);
- accounts: sources of different states blame each other, or one accuses ("US forces opened fire", "violates
  agreements") while another defends ("returned fire in self-defense", "departed to de-escalate").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.article import Sentence
from service.engines.extractive import cues
from service.engines.extractive.sources import Attribution, side_of
from service.schema import Claim, Dispute, Position
from service.text.alternation import by_first_letter
from service.text.fold import fold_case, folded_pattern
from service.text.numbers import find_quantities

_MAX_CLAIMS = 15
_PER_SOURCE = 2
# Stance words: lower-case patterns matched on the case-folded text (`casefold`), 3x faster than re.I.
# The alternatives are grouped by first letter (`alternation`): the same matches, one test per letter.
_ACCUSE = folded_pattern(
    r"\b(?:"
    + by_first_letter(
        r"opened fire|fired (?:on|at)|attacked|violat\w*|provocat\w*|provok\w*|aggression|aggressive|targeted"
        r"|tried to (?:prevent|block)|blocked|rammed|blame[sd]?|accus\w+|responsible for|illegal|unprovoked"
        r"|shelled|bombed|war crime\w*|massacre\w*"
    )
    + r")\b"
)
_DEFEND = folded_pattern(
    r"\b(?:"
    + by_first_letter(
        r"self-?defen[cs]e|returned fire|came under fire|de-?escalat\w*|do not seek escalation|defend themselves"
        r"|in response|necessary measures|denie[sd]|deny|retaliat\w*|(?:was|were) (?:attacked|ambushed|fired upon)"
        r"|departed the area|withdrew|pulled back|acted in accordance"
    )
    + r")\b"
)
_FIRE = re.compile(r"\b(?:opened fire|returned fire|came under fire|fired (?:on|at)|fire first)\b", re.I)
_EVENT_NOUN = re.compile(
    r"^\s*(?:(?:more|separate|further|other|\w+ed)\s+)?(?P<noun>air ?strikes?|airstrikes?|strikes?|raids?|air raids?"
    r"|rockets?|missiles?|drones?|shells?|mortar (?:rounds|shells)|explosions?|blasts?|attacks?)\b",
    re.IGNORECASE,
)
# Every noun of `_EVENT_NOUN` holds one of these (on the case-folded text): a sentence with none counts no event.
_EVENT_STEM = folded_pattern(r"strike|raid|rocket|missile|drone|shell|mortar|explosion|blast|attack")
_SUBJECT = re.compile(r"^(?:The\s+)?(?P<np>(?:[A-Z][\w.'’-]*\s+){0,4}[A-Z][\w.'’-]*)\s+[a-z]")


def find_claims(attributions: dict[str, list[Attribution]]) -> list[Claim]:
    """Claims in article order, at most `_PER_SOURCE` per source so that every source is heard."""
    claims: list[Claim] = []
    seen: set[tuple[str, str]] = set()
    per_source: dict[str, int] = {}
    for items in attributions.values():
        for a in items:
            if per_source.get(a.source, 0) >= _PER_SOURCE:  # (before `statement`, which takes some reading)
                continue
            statement = a.statement  # (a property that reads the sentence: once, not twice)
            key = (a.source, statement)
            if key in seen:
                continue
            seen.add(key)
            per_source[a.source] = per_source.get(a.source, 0) + 1
            claims.append(Claim(source=a.source, statement=statement, citations=list(a.citations)))
            if len(claims) == _MAX_CLAIMS:  # the rest would be cut
                return claims
    return claims


def _stance(attribution: Attribution) -> str | None:
    text = fold_case(attribution.text)
    if _DEFEND.search(text):
        return "defends"
    if _ACCUSE.search(text):
        return "accuses"
    return None


def account_disputes(
    attributions: dict[str, list[Attribution]], affiliation_of: Callable[[str], str | None]
) -> list[Dispute]:
    """Sources of different states with opposing accounts: one accuses, the other accuses back or defends.
    A source's side (`sources.side_of`) is looked up only where it takes a stance."""
    by_side: dict[str, list[tuple[str, Attribution]]] = {}
    for items in attributions.values():
        for a in items:
            if (stance := _stance(a)) and (state := side_of(a, affiliation_of)):
                by_side.setdefault(state, []).append((stance, a))
    if len(by_side) < 2 or not any(st == "accuses" for side in by_side.values() for st, _ in side):
        return []
    positions: list[Position] = []
    fire = False
    for side in by_side.values():
        stance, chosen = next(((st, a) for st, a in side if st == "accuses"), side[0])
        fire |= bool(_FIRE.search(chosen.text))
        positions.append(
            Position(
                source=chosen.source,
                position=f"{stance}: {chosen.statement}",
                citations=list(chosen.citations),
            )
        )
    topic = "who opened fire first" if fire else "who is responsible for the incident"
    return [Dispute(topic=topic, positions=positions[:4])]


def _family(noun: str) -> str:
    noun = (
        noun.lower()
        .replace("air strike", "strike")
        .replace("airstrike", "strike")
        .replace("air raid", "raid")
    )
    return noun.rstrip("s") or noun


def count_disputes(sentences: list[Sentence], attributions: dict[str, list[Attribution]]) -> list[Dispute]:
    """Different counts of the incident's own events (strikes, rockets, attacks) from different holders."""
    accounts: dict[str, dict[str, tuple[int, str, Sentence, list[str]]]] = {}
    for sentence in sentences:
        holder_items = attributions.get(sentence.id)
        if holder_items:
            holder, citations = holder_items[0].source, list(holder_items[0].citations)
        elif m := _SUBJECT.match(sentence.text):
            holder, citations = m.group("np"), [sentence.id]
        else:
            continue
        if _EVENT_STEM.search(cues.folded(sentence.text)) is None:
            continue  # no event noun for a count to go with
        for q in find_quantities(sentence.text):
            noun = _EVENT_NOUN.match(sentence.text[q.end :])
            value = q.best if q.best is not None else q.low
            if noun is None or value is None:
                continue
            family = _family(noun.group("noun"))
            accounts.setdefault(family, {}).setdefault(holder, (value, q.text, sentence, citations))
    disputes: list[Dispute] = []
    for family, holders in accounts.items():
        if len({value for value, *_ in holders.values()}) < 2:
            continue
        positions = [
            Position(source=holder, position=f"{text} {family}(s)", citations=citations)
            for holder, (_, text, _, citations) in holders.items()
        ]
        disputes.append(Dispute(topic=f"number of {family}s", positions=positions[:4]))
    return disputes
