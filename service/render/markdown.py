"""A summary as Markdown: statements with their citations, the facts, and the cited sentences."""

from __future__ import annotations

from service.result import SummaryResult
from service.schema import Range

_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>!&|#"})


def _md(text: str | None) -> str:
    """Model and article text as literal Markdown: no link, image, HTML, emphasis or code can form."""
    return " ".join((text or "").split()).translate(_SPECIAL)


def _cite(citations: list[str]) -> str:
    return " " + "".join(f"[{c}]" for c in citations)


def format_range(rng: Range | None) -> str | None:
    """ "1", "2–5", "at least 4", "up to 10"."""
    if rng is None:
        return None
    if rng.low is not None and rng.high is not None:
        return str(rng.low) if rng.low == rng.high else f"{rng.low}–{rng.high}"
    if rng.low is not None:
        return f"at least {rng.low}"
    if rng.high is not None:
        return f"up to {rng.high}"
    return str(rng.best)


def render(result: SummaryResult) -> str:
    s = result.summary
    lines = [f"# {_md(s.headline)}", ""]
    lines += [f"- {_md(st.text)}{_cite(st.citations)}" for st in s.summary]
    event = s.event_type + (f" / {s.sub_event_type}" if s.sub_event_type else "")
    lines += ["", "## Facts", "", f"- **Event type:** {event}"]
    if s.date:
        span = s.date.start if s.date.start == s.date.end else f"{s.date.start} – {s.date.end}"
        lines.append(
            f'- **Date:** {span} ({s.date.precision}; "{_md(s.date.text)}"){_cite(s.date.citations)}'
        )
    elif published := result.meta.derived_at("date"):
        lines.append(f"- **Date:** {_md(published.value)} (not stated in the article: its publication date)")
    for loc in s.locations:
        where = ", ".join(_md(part) for part in (loc.name, loc.admin1, loc.country) if part)
        lines.append(f"- **Place ({loc.role.replace('_', ' ')}):** {where}{_cite(loc.citations)}")
    for actor in s.actors:
        extra = f", {_md(actor.affiliation)}" if actor.affiliation else ""
        lines.append(
            f"- **Actor:** {_md(actor.name)} ({actor.kind}, {actor.role}{extra}){_cite(actor.citations)}"
        )
    for cas in s.casualties:
        parts = [
            f"{label} {text}"
            for label, text in (("killed", format_range(cas.killed)), ("injured", format_range(cas.injured)))
            if text
        ]
        source = f", per {_md(cas.reported_by)}" if cas.reported_by else ""
        lines.append(f"- **Casualties, {_md(cas.group)}:** {'; '.join(parts)}{source}{_cite(cas.citations)}")
    if s.claims:
        lines += ["", "## Claims", ""]
        lines += [f"- **{_md(c.source)}:** {_md(c.statement)}{_cite(c.citations)}" for c in s.claims]
    if s.disputes:
        lines += ["", "## Disputes", ""]
        for d in s.disputes:
            lines.append(f"- **{_md(d.topic)}**")
            lines += [f"  - {_md(p.source)}: {_md(p.position)}{_cite(p.citations)}" for p in d.positions]
    cited = set(s.citation_ids())
    lines += ["", "## Cited sentences", ""]
    lines += [f"- [{sent.id}] {_md(sent.text)}" for sent in result.sentences if sent.id in cited]
    meta = result.meta
    lines += [
        "",
        f"_{meta.engine} engine, model {meta.model}" + (", degraded" if meta.degraded else "") + "_",
    ]
    if result.links.view:  # our own URL (PUBLIC_BASE_URL + id + token); parentheses encoded for the link
        lines += ["", f"[View the evidence]({result.links.view.replace('(', '%28').replace(')', '%29')})"]
    return "\n".join(lines) + "\n"
