"""One toll per incident from the figures its sentences give (`casualties.incident_reports`).

Figures of one group (civilians, state forces, armed group) in different sentences are reports of the same
deaths: one figure per group is kept, the highest and most specific, and another source's different figure
becomes a dispute. Different groups add up, and so do groups listed in one sentence ("a child, three women").
"""

from __future__ import annotations

import re
from functools import lru_cache

from service.engines.extractive.casualties import Report
from service.schema import Casualties, Dispute, Position

_CATEGORIES = (
    ("civilians", re.compile(r"civilian|villager|resident|child|women|woman|farmer|worshipper|student|passenger"
                             r"|journalist|protester|demonstrator|pilgrim|family|girl|boy|men\b|man\b|driver|worker"
                             r"|employee|teacher|doctor|nurse|trader|vendor|shopkeeper|herder|fisherm|miner|motorist"
                             r"|guest|pupil|mourner|shopper|travell?er|tourist|bystander", re.I)),
    ("state forces", re.compile(r"soldier|troop|police|officer|army|security|guard|personnel|servicem|military"
                                r"|gendarme|marine|conscript|regime|loyalist|pro-government", re.I)),
    ("armed group", re.compile(r"militant|attacker|gunm|rebel|insurgent|fighter|jihadist|bandit|terrorist|assailant"
                               r"|extremist|militia|guerrilla|separatist|faction|islamic state|isis|\bis\b|taliban"
                               r"|shabaab|boko haram|houthi|cartel|\bgroup\b", re.I)),
)  # fmt: skip


@lru_cache(maxsize=4096)  # asked for every report, and again for every entry
def category(group: str) -> str:
    """Civilians, state forces, armed group, or "unspecified" ("people", "others")."""
    return next((name for name, pattern in _CATEGORIES if pattern.search(group)), "unspecified")


_COMPANIONS = re.compile(
    r"\b(?:colleagues|comrades|companions|associates|relatives|bodyguards|aides)\b", re.I
)


def _value(r: Report) -> int:
    c = r.count
    return c.best if c.best is not None else (c.low if c.low is not None else c.high or 0)


_VAGUE_WORD = re.compile(
    r"\b(?:several|dozens|scores|hundreds|thousands|many|numerous|a number of|a few)\b", re.IGNORECASE
)


def _vague(r: Report) -> bool:
    return r.count.high is None and r.count.low == r.count.best and bool(
        _VAGUE_WORD.search(r.sentence.text)
    )  # fmt: skip


def _cites(report: Report) -> list[str]:
    cited = [*report.source.citations] if report.source else []
    return list(dict.fromkeys([*cited, report.sentence.id]))


def _best(reports: list[Report]) -> list[Report]:
    """The figures to report for one group: those of one sentence ("five soldiers, two policemen and ..."
    are different people and add up), the sentence with exact figures before vague ones, then the highest
    sum, then the earliest. The largest figure comes first."""
    by_sentence: dict[str, list[Report]] = {}
    for r in reports:
        by_sentence.setdefault(r.sentence.id, []).append(r)
    ranked = list(by_sentence.values())
    chosen = max(
        enumerate(ranked),
        key=lambda ir: (not all(map(_vague, ir[1])), sum(map(_value, ir[1])), -ir[0]),
    )[1]
    return sorted(chosen, key=_value, reverse=True)


def tally(reports: list[Report]) -> tuple[list[Casualties], list[Dispute]]:
    """Casualty entries and disputes between sources' figures.

    Reports of one group (civilians, state forces, armed group) in different sentences are the same deaths:
    one figure per group is kept. Different groups add up ("three policemen" + "two of the attackers"). An
    unspecified toll ("21 people") that exceeds the groups' sum stands for all of them and replaces them."""
    chosen: list[Report] = []
    disputes: list[Dispute] = []
    for kind in ("killed", "injured"):
        by_group: dict[str, list[Report]] = {}
        for r in reports:
            if r.kind == kind:
                by_group.setdefault(category(r.group), []).append(r)
        if not by_group:
            continue
        best = {name: _best(rs) for name, rs in by_group.items()}
        named = [r for name, rs in best.items() if name != "unspecified" for r in rs]
        overall = best["unspecified"][0] if "unspecified" in best else None
        # Companions listed beside named ones in one sentence are other people ("a commander with his six
        # colleagues"); elsewhere, an unspecified figure larger than the named ones' sum is the overall toll.
        listed = (
            overall is not None
            and _COMPANIONS.search(overall.group) is not None
            and any(r.sentence.id == overall.sentence.id for r in named)
        )
        if listed and overall is not None:
            picked = [*named, overall]
        else:
            picked = [overall] if overall is not None and _value(overall) > sum(map(_value, named)) else named
        chosen.extend(picked)
        if picked == [overall] and overall is not None:
            disputes.extend(_figure_disputes(kind, overall, [r for rs in by_group.values() for r in rs]))
        else:
            # In the order the groups first appear (a set difference here made the disputes' order depend
            # on PYTHONHASHSEED, so one article gave different summaries in different processes).
            for name in [name for name in by_group if name != "unspecified"]:
                disputes.extend(_figure_disputes(kind, best[name][0], by_group[name]))
    entries: dict[tuple[str, str, int], Casualties] = {}
    for r in chosen:
        # One entry per sentence and category ("3 soldiers killed and 5 wounded"), a second one where the
        # sentence lists two groups of that category ("a child, three women, ...").
        slot = 0
        while (current := entries.get((r.sentence.id, category(r.group), slot))) is not None and (
            getattr(current, r.kind) is not None
        ):
            slot += 1
        key = (r.sentence.id, category(r.group), slot)
        counts = {
            "killed": current.killed if current else None,
            "injured": current.injured if current else None,
        }
        counts[r.kind] = r.count
        entries[key] = Casualties(
            group=current.group if current else r.group, killed=counts["killed"], injured=counts["injured"],
            reported_by=r.source.source if r.source else (current.reported_by if current else None),
            citations=list(dict.fromkeys([*(current.citations if current else []), *_cites(r)])),
        )  # fmt: skip
    return list(entries.values()), disputes


def _figure_disputes(kind: str, chosen: Report, reports: list[Report]) -> list[Dispute]:
    """Sources that give a different figure for the same group than the chosen one."""
    if chosen.source is None:
        return []
    positions = [
        Position(source=chosen.source.source, position=f"{_value(chosen)} {kind}", citations=_cites(chosen))
    ]
    seen = {chosen.source.source}
    for r in reports:
        if r.source is None or r.source.source in seen or _value(r) == _value(chosen):
            continue
        seen.add(r.source.source)
        positions.append(
            Position(source=r.source.source, position=f"{_value(r)} {kind}", citations=_cites(r))
        )
    if len(positions) < 2:
        return []
    return [Dispute(topic=f"number of {chosen.group} {kind}", positions=positions[:4])]
