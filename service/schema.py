"""The incident summary (SPEC §3, `schema_version` "1") and the strict JSON schema sent upstream.

The pydantic models are the single source of truth: the API documents them, every engine fills them, and
`upstream_json_schema()` derives from them the schema sent upstream, with every constraint the backend enforces.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SCHEMA_VERSION = "1"

SentenceId = Annotated[str, StringConstraints(pattern=r"^S[1-9][0-9]*$")]
Citations = Annotated[
    list[SentenceId],
    Field(min_length=1, description="Ids of the article sentences (S1..Sn) that support this item."),
]
IsoDate = Annotated[
    str,
    StringConstraints(pattern=r"^([0-9]{4}|-)-[0-9]{2}-[0-9]{2}$"),
    Field(description='"YYYY-MM-DD", or "--MM-DD" when the year cannot be known.'),
]

EventType = Literal[
    "battles",
    "explosions_remote_violence",
    "violence_against_civilians",
    "protests",
    "riots",
    "strategic_developments",
    "other",
]

SUB_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "battles": ("armed_clash", "government_regains_territory", "non_state_actor_overtakes_territory"),
    "explosions_remote_violence": (
        "chemical_weapon",
        "air_drone_strike",
        "suicide_bomb",
        "shelling_artillery_missile_attack",
        "remote_explosive_landmine_ied",
        "grenade",
    ),
    "violence_against_civilians": ("sexual_violence", "attack", "abduction_forced_disappearance"),
    "protests": ("peaceful_protest", "protest_with_intervention", "excessive_force_against_protesters"),
    "riots": ("violent_demonstration", "mob_violence"),
    "strategic_developments": (
        "agreement",
        "arrests",
        "change_to_group_activity",
        "disrupted_weapons_use",
        "headquarters_or_base_established",
        "looting_property_destruction",
        "non_violent_transfer_of_territory",
        "other",
    ),
    "other": (),
}

SubEventType = Literal[
    "armed_clash",
    "government_regains_territory",
    "non_state_actor_overtakes_territory",
    "chemical_weapon",
    "air_drone_strike",
    "suicide_bomb",
    "shelling_artillery_missile_attack",
    "remote_explosive_landmine_ied",
    "grenade",
    "sexual_violence",
    "attack",
    "abduction_forced_disappearance",
    "peaceful_protest",
    "protest_with_intervention",
    "excessive_force_against_protesters",
    "violent_demonstration",
    "mob_violence",
    "agreement",
    "arrests",
    "change_to_group_activity",
    "disrupted_weapons_use",
    "headquarters_or_base_established",
    "looting_property_destruction",
    "non_violent_transfer_of_territory",
    "other",
]

Precision = Literal["day", "week", "month", "year", "unknown"]
LocationRole = Literal["incident_site", "nearby", "origin", "other"]
ActorKind = Literal[
    "state_forces",
    "rebel_group",
    "political_militia",
    "identity_militia",
    "rioters",
    "protesters",
    "civilians",
    "external_forces",
    "other",
]
ActorRole = Literal["initiator", "target", "mediator", "responder", "reporter", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Statement(_Strict):
    text: str = Field(description="One factual sentence of the summary, in the summary's own words.")
    citations: Citations


class DateInfo(_Strict):
    start: IsoDate
    end: IsoDate
    precision: Precision
    text: str = Field(description="The words of the article that give the date, copied exactly.")
    citations: Citations

    @model_validator(mode="after")
    def _calendar_days(self) -> DateInfo:
        """The pattern admits "2024-13-45": every date must be a day of the calendar (a leap year stands in
        for an unknown one, so "--02-29" is one)."""
        for iso in (self.start, self.end):
            try:
                date.fromisoformat("2000" + iso[1:] if iso.startswith("--") else iso)
            except ValueError:
                raise ValueError(f"{iso!r} is not a day of the calendar") from None
        return self


class Location(_Strict):
    name: str = Field(description="The place as the article names it.")
    admin1: str | None = Field(description="First-level administrative division (province, governorate).")
    country: str | None
    role: LocationRole
    citations: Citations


class Actor(_Strict):
    name: str = Field(description="The actor as the article names it.")
    kind: ActorKind = Field(description="ACLED inter code of the actor.")
    role: ActorRole
    affiliation: str | None = Field(description="The state or organisation the actor belongs to, if stated.")
    citations: Citations


class Range(_Strict):
    low: int | None = Field(ge=0, description="Lowest figure reported (vague words map as ACLED does).")
    best: int | None = Field(ge=0, description="Best single estimate.")
    high: int | None = Field(ge=0, description="Highest figure reported; null when open-ended ('at least').")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        values = [v for v in (self.low, self.best, self.high) if v is not None]
        if values != sorted(values):
            raise ValueError("range must satisfy low <= best <= high")
        if not values:
            raise ValueError("range needs at least one figure; use null for an unknown count")
        return self


class Casualties(_Strict):
    group: str = Field(description="Who was killed or injured (e.g. 'civilians', 'Syrian army soldiers').")
    killed: Range | None
    injured: Range | None
    reported_by: str | None = Field(description="The source that reports these figures, if the article says.")
    citations: Citations


class Claim(_Strict):
    source: str = Field(description="Who asserts it (an agency, a ministry, eyewitnesses).")
    statement: str
    citations: Citations


class Position(_Strict):
    source: str
    position: str
    citations: Citations


class Dispute(_Strict):
    topic: str = Field(description="The fact the sources disagree on.")
    positions: list[Position] = Field(min_length=2)


HEADLINE_MAX = 120


class IncidentSummary(_Strict):
    headline: str = Field(max_length=HEADLINE_MAX)
    summary: list[Statement] = Field(min_length=1, max_length=5)
    event_type: EventType
    sub_event_type: SubEventType | None
    date: DateInfo | None
    locations: list[Location]
    actors: list[Actor]
    casualties: list[Casualties]
    claims: list[Claim]
    disputes: list[Dispute]

    @model_validator(mode="after")
    def _sub_type_belongs_to_type(self) -> IncidentSummary:
        if self.sub_event_type is not None and self.sub_event_type not in SUB_EVENT_TYPES[self.event_type]:
            allowed = ", ".join(SUB_EVENT_TYPES[self.event_type]) or "none (use null)"
            raise ValueError(
                f"sub_event_type {self.sub_event_type!r} does not belong to event_type "
                f"{self.event_type!r}; allowed: {allowed}"
            )
        return self

    def citation_ids(self) -> list[str]:
        """Every sentence id cited anywhere in the summary, in order of appearance."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, BaseModel):
                for name in type(node).model_fields:
                    value = getattr(node, name)
                    if name == "citations":
                        found.extend(value)
                    else:
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self)
        return found


# --- the schema sent upstream -------------------------------------------------------------------

# How much of JSON Schema the backend enforces while it decodes:
# - "openai_strict": OpenAI Structured Outputs with `strict: true` (and servers that copy it): enum, pattern,
#   minItems/maxItems, minimum/maximum, but no string lengths.
# - "full": grammar-constrained servers that take the whole schema (vLLM with xgrammar/guidance, llama.cpp,
#   the schema written into the prompt): string lengths too.
SchemaDialect = Literal["openai_strict", "full"]

# Keywords never sent: annotations the model does not need (the prompt carries the rules) and defaults.
_NEVER_SENT = frozenset({"default", "title", "description"})
_NOT_IN_OPENAI_STRICT = frozenset({"minLength", "maxLength"})

# What the service checks and the backend does not enforce, by dialect: constraints as "path: keyword" (the
# path in property names, "[]" for list items) and the models' own validators as "Model.validator". A backend
# that enforces the schema cannot prevent these; validation and repair turns catch them.
# `tests/test_schema.py` checks that every constraint and validator of `IncidentSummary` is either sent or
# listed here.
_BEYOND_JSON_SCHEMA = {
    "Range._ordered": "low <= best <= high, and at least one figure",
    "DateInfo._calendar_days": "start and end are days of the calendar",
    "IncidentSummary._sub_type_belongs_to_type": "sub_event_type belongs to event_type",
}
CHECKED_ONLY_BY_THE_SERVICE: dict[SchemaDialect, dict[str, str]] = {
    "openai_strict": {
        **_BEYOND_JSON_SCHEMA,
        "headline: maxLength": "OpenAI strict mode has no string lengths",
    },
    "full": _BEYOND_JSON_SCHEMA,
}


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [{type: T, …}, {type: null}]` written as `type: [T, "null"]` (an enum gains null): the same
    meaning in fewer tokens. A nullable reference stays an `anyOf`."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return node
    (other,) = [o for o in options if o != {"type": "null"}]
    if not isinstance(other.get("type"), str):
        return node
    merged = {**other, "type": [other["type"], "null"]}
    if "enum" in merged:
        merged["enum"] = [*merged["enum"], None]
    return {**{k: v for k, v in node.items() if k != "anyOf"}, **merged}


def _upstream(node: Any, dropped: frozenset[str]) -> Any:
    """Every object closed and fully required; `dropped` keywords left out (property *names* are kept)."""
    if isinstance(node, list):
        return [_upstream(item, dropped) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "$defs"):
            out[key] = {name: _upstream(sub, dropped) for name, sub in value.items()}
        elif key not in dropped:
            out[key] = _upstream(value, dropped)
    if out.get("type") == "object":
        out["required"] = list(out.get("properties", {}))
        out["additionalProperties"] = False
    if "properties" in out:  # every list of citations is the same: one definition, referenced
        for name, sub in out["properties"].items():
            if name == "citations":
                out["properties"][name] = {"$ref": "#/$defs/Citations"}
            else:
                out["properties"][name] = _nullable(sub)
    return out


def upstream_json_schema(dialect: SchemaDialect = "openai_strict") -> dict[str, Any]:
    """The IncidentSummary schema as a backend of `dialect` enforces it: every object closed and fully
    required (OpenAI `strict: true`), every constraint the backend can enforce kept, annotations dropped."""
    dropped = _NEVER_SENT | (_NOT_IN_OPENAI_STRICT if dialect == "openai_strict" else frozenset())
    source = IncidentSummary.model_json_schema(mode="validation")
    citations = source["$defs"]["Statement"]["properties"]["citations"]
    result: dict[str, Any] = _upstream(source, dropped)
    result["$defs"]["Citations"] = _upstream(citations, dropped)
    dates = result["$defs"]["DateInfo"]["properties"]  # start and end: one definition, referenced
    result["$defs"]["IsoDate"] = dates["start"]
    dates["start"] = dates["end"] = {"$ref": "#/$defs/IsoDate"}
    return result


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as JSON text, compact (what the prompt carries in `json_object` mode, and what the token
    budget of docs/llm.md counts)."""
    return json.dumps(schema, separators=(",", ":"))
