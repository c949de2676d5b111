"""The evidence page: a summary's facts beside the article's sentences, as one HTML document.

Server-rendered with Jinja2, autoescaping on for every value; the page's behaviour is `static/evidence.js` and
its look `static/evidence.css`, both served by the app itself (no inline script or style, nothing from another
origin), so the page works offline under a strict Content-Security-Policy (`CONTENT_SECURITY_POLICY`). Every
invisible or bidi control character in article or model text is shown as a visible `⟨U+202E⟩` marker, so an
override cannot reorder what the reader sees.
"""

from __future__ import annotations

import calendar
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from service.render.markdown import format_range
from service.result import DerivedOut, Meta, SummaryResult
from service.schema import IncidentSummary

STATIC_DIR = Path(__file__).resolve().parent / "static"
# The page lives at /v1/summaries/{id}/view: its assets are three levels up, so a path prefix added by a
# proxy keeps working.
ASSETS_PATH = "/assets/evidence"
_ASSETS_FROM_PAGE = "../../../assets/evidence"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'none'",
        "connect-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the token in the page's URL goes nowhere else
    "Cache-Control": "private, no-store",
}


def _visible_controls(text: str) -> str:
    """Control and format characters (bidi overrides, zero-width spaces) as visible `⟨U+XXXX⟩` markers."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        f"⟨U+{ord(ch):04X}⟩" if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" else ch
        for ch in text
    )


def _finalize(value: object) -> object:
    return _visible_controls(value) if isinstance(value, str) else value


def _day(iso: str) -> str:
    """ "2024-02-12" → "12 February 2024"; "--02-12" (the year unknown) → "12 February, year not stated"."""
    year, month, day = iso.rsplit("-", 2)
    name = calendar.month_name[int(month)]
    return f"{int(day)} {name} {year}" if year != "-" else f"{int(day)} {name}, year not stated"


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact as the page lists it: what it says, the sentences it cites, and what of it was derived."""

    key: str  # unique on the page: "casualties-0"
    text: str
    cites: list[str]
    derived: list[str] = field(default_factory=list)  # "country: Syria (derived from …)"

    @property
    def ordered_cites(self) -> list[str]:
        """The cited ids once each, in article order."""
        return sorted(set(self.cites), key=lambda sentence_id: int(sentence_id[1:]))

    @property
    def cites_attr(self) -> str:
        return " ".join(self.ordered_cites)


@dataclass(frozen=True, slots=True)
class FactGroup:
    title: str
    facts: list[Fact]


def _derived_notes(derived: list[DerivedOut], prefix: str) -> list[str]:
    return [
        f"{d.path.removeprefix(prefix)}: {d.value} (derived: {d.basis})"
        for d in derived
        if d.path.startswith(prefix)
    ]


def fact_groups(summary: IncidentSummary, meta: Meta) -> list[FactGroup]:
    """The summary's cited facts, grouped as the page shows them (empty groups left out)."""
    derived = meta.derived
    groups = [
        FactGroup(
            "Summary",
            [Fact(f"summary-{i}", st.text, st.citations) for i, st in enumerate(summary.summary)],
        )
    ]
    if summary.date is not None:
        d = summary.date
        span = _day(d.start) if d.start == d.end else f"{_day(d.start)} – {_day(d.end)}"
        precision = "" if d.precision == "day" else f" ({d.precision})"
        text = f"{span}{precision}: “{d.text}”"
        groups.append(FactGroup("Date", [Fact("date", text, d.citations, _derived_notes(derived, "date."))]))
    elif published := meta.derived_at("date"):
        note = f"date: {_day(published.value)} (derived: {published.basis})"
        groups.append(FactGroup("Date", [Fact("date", "Not stated in the article", [], [note])]))
    places = []
    for i, loc in enumerate(summary.locations):
        prefix = f"locations[{i}]."
        notes = _derived_notes(derived, prefix)
        derived_fields = {d.path.removeprefix(prefix) for d in derived if d.path.startswith(prefix)}
        stated = [loc.name] + [
            value
            for name in ("admin1", "country")
            if (value := getattr(loc, name)) and name not in derived_fields
        ]
        text = f"{', '.join(stated)} ({loc.role.replace('_', ' ')})"
        places.append(Fact(f"place-{i}", text, loc.citations, notes))
    actors = []
    for i, actor in enumerate(summary.actors):
        affiliation = f", {actor.affiliation}" if actor.affiliation else ""
        text = f"{actor.name} ({actor.kind.replace('_', ' ')}, {actor.role}{affiliation})"
        actors.append(Fact(f"actor-{i}", text, actor.citations, _derived_notes(derived, f"actors[{i}].")))
    casualties = []
    for i, cas in enumerate(summary.casualties):
        counts = [
            f"{label} {figure}"
            for label, figure in (
                ("killed", format_range(cas.killed)),
                ("injured", format_range(cas.injured)),
            )
            if figure
        ]
        source = f", per {cas.reported_by}" if cas.reported_by else ""
        text = f"{cas.group}: {'; '.join(counts)}{source}"
        casualties.append(Fact(f"casualties-{i}", text, cas.citations))
    claims = [
        Fact(f"claim-{i}", f"{c.source}: {c.statement}", c.citations) for i, c in enumerate(summary.claims)
    ]
    disputes = [
        Fact(f"dispute-{i}-{j}", f"{d.topic} — {p.source}: {p.position}", p.citations)
        for i, d in enumerate(summary.disputes)
        for j, p in enumerate(d.positions)
    ]
    groups += [
        FactGroup(title, facts)
        for title, facts in (
            ("Places", places),
            ("Actors", actors),
            ("Casualties", casualties),
            ("Claims", claims),
            ("Disputes", disputes),
        )
        if facts
    ]
    return groups


class EvidencePage:
    """Renders the page; one per app (the template is compiled once)."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("service.render", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._template = self._env.get_template("evidence.html")

    def render(self, result: SummaryResult) -> str:
        summary = result.summary
        cited = set(summary.citation_ids())
        return self._template.render(
            result=result,
            summary=summary,
            event_type=summary.event_type.replace("_", " ")
            + (f" / {summary.sub_event_type.replace('_', ' ')}" if summary.sub_event_type else ""),
            groups=fact_groups(summary, result.meta),
            cited=cited,
            assets=_ASSETS_FROM_PAGE,
        )
