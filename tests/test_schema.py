"""The summary schema: validation rules, and the strict JSON schema sent upstream."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError

from service import schema as schema_module
from service.schema import (
    CHECKED_ONLY_BY_THE_SERVICE,
    SUB_EVENT_TYPES,
    IncidentSummary,
    Range,
    SchemaDialect,
    SubEventType,
    upstream_json_schema,
)
from tests.conftest import strict_mode_problems, summary_data


def test_upstream_schema_is_accepted_by_strict_mode() -> None:
    schema = upstream_json_schema()
    assert strict_mode_problems(schema) == []
    # optional fields are unions with null, and they are still required
    actor = schema["$defs"]["Actor"]
    assert actor["properties"]["affiliation"] == {"type": ["string", "null"]}
    assert "affiliation" in actor["required"]
    assert set(schema["required"]) == set(IncidentSummary.model_fields)


def test_strict_checker_catches_what_strict_mode_rejects() -> None:
    bad = {
        "type": "object",
        "properties": {"a": {"type": "string", "default": "x"}, "b": {"allOf": [{"type": "string"}]}},
        "required": ["a"],
    }
    problems = strict_mode_problems(bad)
    assert any("additionalProperties" in p for p in problems)
    assert any("every property must be required" in p for p in problems)
    assert any("default" in p for p in problems)
    assert any("allOf" in p for p in problems)


def _summary(**overrides: Any) -> dict[str, Any]:
    base = summary_data(headline="Clash near Kamyshly", event_type="battles", sub_event_type="armed_clash")
    return base | overrides


def test_a_valid_summary_parses() -> None:
    summary = IncidentSummary.model_validate(_summary())
    assert summary.citation_ids() == ["S1"]


@pytest.mark.parametrize(
    ("event_type", "sub_event_type"),
    [("battles", "air_drone_strike"), ("other", "other"), ("protests", "armed_clash")],
)
def test_sub_type_must_belong_to_event_type(event_type: str, sub_event_type: str) -> None:
    with pytest.raises(ValidationError, match="does not belong"):
        IncidentSummary.model_validate(_summary(event_type=event_type, sub_event_type=sub_event_type))


def test_every_sub_type_of_spec_is_accepted_under_its_type() -> None:
    for event_type, subs in SUB_EVENT_TYPES.items():
        for sub in subs:
            IncidentSummary.model_validate(_summary(event_type=event_type, sub_event_type=sub))
    assert sum(len(s) for s in SUB_EVENT_TYPES.values()) == 25
    # the enum sent upstream lists exactly the sub-types of the table (`other` serves two types)
    assert set(get_args(SubEventType)) == set().union(*SUB_EVENT_TYPES.values())


@pytest.mark.parametrize(
    "bad",
    [
        {"summary": []},
        {"summary": [{"text": "x", "citations": []}]},
        {"summary": [{"text": "x", "citations": ["s1"]}]},
        {"headline": "x" * 121},
        {"summary": [{"text": "x", "citations": ["S1"]}] * 6},
        {"date": {"start": "12 Feb", "end": "--02-12", "precision": "day", "text": "x", "citations": ["S1"]}},
        {"extra_field": 1},
    ],
)
def test_invalid_summaries_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        IncidentSummary.model_validate(_summary(**bad))


def test_no_year_date_form_is_valid() -> None:
    date = {
        "start": "--02-12",
        "end": "--02-12",
        "precision": "day",
        "text": "February 12",
        "citations": ["S2"],
    }
    assert IncidentSummary.model_validate(_summary(date=date)).date is not None


def test_range_must_be_ordered_and_not_empty() -> None:
    assert Range(low=4, best=4, high=None).high is None
    with pytest.raises(ValidationError):
        Range(low=5, best=2, high=None)
    with pytest.raises(ValidationError):
        Range(low=None, best=None, high=None)
    with pytest.raises(ValidationError):
        Range(low=-1, best=None, high=None)


_CONSTRAINT_KEYWORDS = (
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
)


def constraints(schema: dict[str, Any]) -> dict[str, Any]:
    """Every constraint of a JSON schema as {"path: keyword": value}, following references; the path names
    properties and writes list items as "[]" (an enum's null, which nullability adds, is left out)."""
    found: dict[str, Any] = {}
    defs = schema.get("$defs", {})

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            walk(defs[node["$ref"].rsplit("/", 1)[-1]], path)
        for keyword in _CONSTRAINT_KEYWORDS:
            if keyword in node:
                value = node[keyword]
                found[f"{path}: {keyword}"] = (
                    [v for v in value if v is not None] if keyword == "enum" else value
                )
        for option in node.get("anyOf", []):
            walk(option, path)
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{name}" if path else name)
        if "items" in node:
            walk(node["items"], f"{path}[]")

    walk(schema, "")
    return found


@pytest.mark.parametrize("dialect", ["openai_strict", "full"])
def test_every_constraint_is_sent_or_checked_only_by_the_service(dialect: SchemaDialect) -> None:
    """A backend that enforces the schema enforces every rule the service validates, except those listed."""
    ours = constraints(IncidentSummary.model_json_schema(mode="validation"))
    sent = constraints(upstream_json_schema(dialect))
    listed = CHECKED_ONLY_BY_THE_SERVICE[dialect]
    unsent = {key for key, value in ours.items() if sent.get(key) != value}
    assert unsent == {key for key in listed if ":" in key}
    assert set(sent) <= set(ours)  # nothing sent that the service would not itself enforce
    validators = {
        f"{model.__name__}.{name}"
        for model in vars(schema_module).values()
        if isinstance(model, type)
        and issubclass(model, schema_module.BaseModel)
        and model.__module__ == schema_module.__name__
        for name in model.__pydantic_decorators__.model_validators
    }
    assert validators == {key for key in listed if ":" not in key}


def test_the_constraints_a_strict_backend_enforces_are_sent() -> None:
    """The constraints whose absence let schema-perfect answers fail: an empty citation list, a dispute with
    one position, six summary statements, a negative count."""
    sent = constraints(upstream_json_schema("openai_strict"))
    assert sent["summary[].citations: minItems"] == 1
    assert sent["disputes[].positions: minItems"] == 2
    assert (sent["summary: minItems"], sent["summary: maxItems"]) == (1, 5)
    assert sent["casualties[].killed.low: minimum"] == 0
    assert "headline: maxLength" not in sent
    assert constraints(upstream_json_schema("full"))["headline: maxLength"] == 120


@pytest.mark.parametrize("iso", ["2024-13-45", "2023-02-29", "--13-01", "--02-30"])
def test_a_date_that_is_no_day_of_the_calendar_is_rejected(iso: str) -> None:
    """The pattern admits these; the date rules after it (and the service's date reading) need real days."""
    date = {"start": iso, "end": iso, "precision": "day", "text": "on Monday", "citations": ["S1"]}
    with pytest.raises(ValidationError, match="not a day of the calendar"):
        IncidentSummary.model_validate(_summary(date=date))
    leap = {**date, "start": "--02-29", "end": "2024-02-29"}
    assert IncidentSummary.model_validate(_summary(date=leap)).date is not None
