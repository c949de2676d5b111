"""A summary as a Slack message: Block Kit blocks plus a plain-text fallback.

The Slack bot posts exactly what `render` returns, and `?format=slack` serves it. Every string that comes from
the model or the article is escaped (`&`, `<`, `>`, as Slack's formatting rules ask) and set with
`verbatim: true`, so model text can neither form links nor mention `@channel`. Each part is clipped to a
budget far inside Slack's limits (50 blocks, 3,000 characters a section, 150 a header, 10 fields of 2,000, 10
context elements), which keeps the whole message well under 12,000 characters however long the summary is;
slack_sdk's block models check the limits once more when the message is serialised.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from service.render.markdown import format_range
from service.result import DerivedOut, SummaryResult
from service.schema import Actor, Casualties, DateInfo, Dispute, IncidentSummary, Location

HEADER_CHARS = 150  # Slack's limit for a header's plain text
CONTEXT_ELEMENTS = 10  # Slack's limit for the elements of a context block

# Our budgets (characters after escaping), chosen so that the worst case stays near 8,000 characters of JSON.
_STATEMENT_CHARS = 420
_SUMMARY_CHARS = 2_400
_FIELD_CHARS = 400
_ITEM_CHARS = 150
_DISPUTES_CHARS = 1_200
_TOPIC_CHARS = 120
_POSITION_CHARS = 200
_POSITIONS_SHOWN = 3
_SOURCE_CHARS = 200
_FALLBACK_CHARS = 600
_MARKERS_SHOWN = 6
_MORE_LINE_CHARS = 30  # room kept for a "+N more …" line

_EVENT_TYPES = {
    "battles": "Battles",
    "explosions_remote_violence": "Explosions/Remote violence",
    "violence_against_civilians": "Violence against civilians",
    "protests": "Protests",
    "riots": "Riots",
    "strategic_developments": "Strategic developments",
    "other": "Other",
}


def escape(text: str) -> str:
    """Slack's three control characters as HTML entities (and nothing else, as Slack asks)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` on one line, escaped, and at most `limit` characters: cut at a word boundary when one is near,
    never inside an entity, with an ellipsis to mark the cut."""
    escaped = escape(" ".join(text.split()))
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    entity = cut.rfind("&", max(0, len(cut) - 4))
    if entity != -1 and ";" not in cut[entity:]:
        cut = cut[:entity]
    space = cut.rfind(" ")
    if space > limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _within(chunks: Sequence[str], limit: int, noun: str) -> str:
    """Whole chunks, one per line, while they fit in `limit`; the rest counted on a last line."""
    budget = limit - _MORE_LINE_CHARS
    kept: list[str] = []
    used = 0
    for chunk in chunks:
        if used + len(chunk) + 1 > budget:
            break
        kept.append(chunk)
        used += len(chunk) + 1
    if len(kept) < len(chunks):
        kept.append(f"_+{len(chunks) - len(kept)} more {noun}_")
    return "\n".join(kept)


def markers(citations: Sequence[str]) -> str:
    """Footnote markers such as `[S3, S5]`, in article order; long lists end with a count."""
    unique = sorted(set(citations), key=lambda sentence_id: int(sentence_id[1:]))
    shown = ", ".join(unique[:_MARKERS_SHOWN])
    extra = f" +{len(unique) - _MARKERS_SHOWN}" if len(unique) > _MARKERS_SHOWN else ""
    return f"[{shown}{extra}]"


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)


def _field(title: str, body: str) -> MarkdownTextObject:
    return _mrkdwn(f"*{title}*\n{body}")


# --- the parts -------------------------------------------------------------------------------------


def _statements(summary: IncidentSummary) -> str:
    lines = [f"• {clip(st.text, _STATEMENT_CHARS)} {markers(st.citations)}" for st in summary.summary]
    return _within(lines, _SUMMARY_CHARS, "statements")


def _day(iso: str) -> str:
    """ "2024-02-12" → "12 Feb 2024"; "--02-12" (year unknown) → "12 Feb"."""
    year, month, day = iso.rsplit("-", 2)
    if not (month.isdigit() and day.isdigit() and 1 <= int(month) <= 12):
        return escape(iso)
    parts = (str(int(day)), calendar.month_abbr[int(month)], year.strip("-"))
    return " ".join(part for part in parts if part)


def _date(date: DateInfo | None, published: DerivedOut | None) -> str:
    """The stated date; else the publication date the service dated the incident to (`meta.derived`)."""
    if date is None and published is not None:
        return f"{_day(published.value)}\n_Not stated in the article: its publication date_"
    if date is None:
        return "Not stated"
    span = _day(date.start) if date.start == date.end else f"{_day(date.start)} – {_day(date.end)}"
    precision = "" if date.precision == "day" else f" ({date.precision})"
    quoted = f"\n_“{clip(date.text, 80)}”_" if date.text.strip() else ""
    return f"{span}{precision} {markers(date.citations)}{quoted}"


def _place(location: Location) -> str:
    parts = list(dict.fromkeys(p for p in (location.name, location.admin1, location.country) if p))
    role = "" if location.role == "incident_site" else f" ({location.role.replace('_', ' ')})"
    return f"{clip(', '.join(parts), _ITEM_CHARS)}{role} {markers(location.citations)}"


def _places(locations: Sequence[Location]) -> str:
    ordered = sorted(locations, key=lambda loc: loc.role != "incident_site")
    return _within([_place(loc) for loc in ordered], _FIELD_CHARS - 20, "places") or "Not stated"


def _casualty(entry: Casualties) -> str:
    figures = (("killed", format_range(entry.killed)), ("injured", format_range(entry.injured)))
    counts = [f"{figure} {label}" for label, figure in figures if figure]
    source = f" (per {clip(entry.reported_by, 40)})" if entry.reported_by else ""
    return f"{clip(entry.group, 60)}: {', '.join(counts)}{source} {markers(entry.citations)}"


def _casualties(entries: Sequence[Casualties]) -> str:
    return _within([_casualty(c) for c in entries], _FIELD_CHARS - 20, "groups") or "None reported"


def _actor(actor: Actor) -> str:
    kind = actor.kind.replace("_", " ")
    return f"{clip(actor.name, 80)} — {kind}, {actor.role} {markers(actor.citations)}"


def _actors(actors: Sequence[Actor]) -> str:
    return _within([_actor(a) for a in actors], _FIELD_CHARS - 20, "actors") or "Not stated"


def _event_type(summary: IncidentSummary) -> str:
    label = _EVENT_TYPES[summary.event_type]
    if summary.sub_event_type:
        label += f" · {summary.sub_event_type.replace('_', ' ')}"
    return label


def _dispute(dispute: Dispute) -> str:
    lines = [f"*{clip(dispute.topic, _TOPIC_CHARS)}*"]
    for position in dispute.positions[:_POSITIONS_SHOWN]:
        source = clip(position.source, 50)
        lines.append(f"• {source}: {clip(position.position, _POSITION_CHARS)} {markers(position.citations)}")
    if len(dispute.positions) > _POSITIONS_SHOWN:
        lines.append(f"_+{len(dispute.positions) - _POSITIONS_SHOWN} more positions_")
    return "\n".join(lines)


def _disputes(disputes: Sequence[Dispute]) -> str:
    listed = _within([_dispute(d) for d in disputes], _DISPUTES_CHARS, "disputes")
    return f":warning: *Sources disagree*\n{listed}"


def cited_in_order(summary: IncidentSummary) -> list[str]:
    """The cited sentence ids, most telling first: each statement's citations in statement order, then the
    other fields' citations in article order. A reader checking a statement finds its sentences shown."""
    by_statements = [sentence_id for statement in summary.summary for sentence_id in statement.citations]
    in_article = sorted(set(summary.citation_ids()), key=lambda sentence_id: int(sentence_id[1:]))
    return list(dict.fromkeys([*by_statements, *in_article]))


def _sources(result: SummaryResult) -> list[MarkdownTextObject]:
    """The cited sentences (`cited_in_order`): one context element each, the overflow counted in the last."""
    by_id = {s.id: s for s in result.sentences}
    sentences = [by_id[i] for i in cited_in_order(result.summary) if i in by_id]
    shown = sentences if len(sentences) <= CONTEXT_ELEMENTS else sentences[: CONTEXT_ELEMENTS - 1]
    elements = [_mrkdwn(f"*{s.id}* {clip(s.text, _SOURCE_CHARS)}") for s in shown]
    rest = sentences[len(shown) :]
    if rest:
        ids = ", ".join(s.id for s in rest[:10]) + (", …" if len(rest) > 10 else "")
        elements.append(_mrkdwn(f"_+{len(rest)} more cited sentences: {ids}_"))
    return elements


def _footer(result: SummaryResult) -> str:
    meta = result.meta
    line = f"{clip(meta.engine, 30)} · {clip(meta.model, 60)} · id `{clip(result.id, 80)}`"
    if meta.degraded:
        line = ":warning: Written by the fallback engine because the LLM failed. " + line
    return line


def _fallback(summary: IncidentSummary) -> str:
    return clip(" ".join([summary.headline, "—", *(st.text for st in summary.summary)]), _FALLBACK_CHARS)


VIEW_EVIDENCE_ACTION_ID = "view_evidence"  # the Slack app acknowledges its clicks


def _view_evidence(result: SummaryResult) -> list[Block]:
    """A "View evidence" button opening the evidence page, when the result has a link to it."""
    if not result.links.view:
        return []
    button = ButtonElement(text="View evidence", url=result.links.view, action_id=VIEW_EVIDENCE_ACTION_ID)
    return [ActionsBlock(elements=[button])]


def render(result: SummaryResult) -> dict[str, Any]:
    """`{"text": fallback, "blocks": [...]}`, ready for chat.postMessage or a response_url."""
    summary = result.summary
    headline = clip(summary.headline, HEADER_CHARS) or "Incident summary"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=headline, emoji=True)),
        SectionBlock(text=_mrkdwn(_statements(summary))),
        SectionBlock(
            fields=[
                _field("Date", _date(summary.date, result.meta.derived_at("date"))),
                _field("Event type", _event_type(summary)),
                _field("Place", _places(summary.locations)),
                _field("Casualties", _casualties(summary.casualties)),
                _field("Actors", _actors(summary.actors)),
            ]
        ),
    ]
    if summary.disputes:
        blocks.append(SectionBlock(text=_mrkdwn(_disputes(summary.disputes))))
    sources = _sources(result)
    if sources:
        blocks += [DividerBlock(), ContextBlock(elements=sources)]
    blocks.append(ContextBlock(elements=[_mrkdwn(_footer(result))]))
    blocks += _view_evidence(result)
    return {"text": _fallback(summary), "blocks": [block.to_dict() for block in blocks]}


_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def with_requester(message: dict[str, Any], user_id: str | None) -> dict[str, Any]:
    """`message` (from `render`) with a last context line naming who asked for it: "Requested by @user".
    Only a well-formed Slack user id becomes a mention; anything else adds nothing."""
    if not user_id or not _SLACK_USER_ID.match(user_id):
        return message
    line = ContextBlock(elements=[MarkdownTextObject(text=f"Requested by <@{user_id}>")])
    return {**message, "blocks": [*message["blocks"], line.to_dict()]}
