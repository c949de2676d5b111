"""The incident summary (SPEC §3, `schema_version` "1") and the strict JSON schema sent upstream.

The pydantic models are the single source of truth: the API documents them, every engine fills them, and
`upstream_json_schema()` derives from them the schema OpenAI Structured Outputs accepts in strict mode.
"""

from __future__ import annotations

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


class IncidentSummary(_Strict):
    headline: str = Field(max_length=120)
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

# Keywords OpenAI strict mode rejects or ignores; validation enforces them on our side instead.
_UNSUPPORTED = frozenset(
    {"default", "maxLength", "minLength", "minItems", "maxItems", "minimum", "maximum", "title"}
)


def _strictify(node: Any) -> Any:
    """Every object closed and fully required; unsupported keywords dropped (property *names* are kept)."""
    if isinstance(node, list):
        return [_strictify(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "$defs"):
            out[key] = {name: _strictify(sub) for name, sub in value.items()}
        elif key not in _UNSUPPORTED:
            out[key] = _strictify(value)
    if out.get("type") == "object":
        out["required"] = list(out.get("properties", {}))
        out["additionalProperties"] = False
    return out


def upstream_json_schema() -> dict[str, Any]:
    """The IncidentSummary schema in the form OpenAI Structured Outputs accepts with `strict: true`."""
    result: dict[str, Any] = _strictify(IncidentSummary.model_json_schema(mode="validation"))
    return result
