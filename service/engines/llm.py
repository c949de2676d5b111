"""The `llm` engine: prompt -> upstream model under a JSON schema -> parse -> grounding -> repair turns.

Each answer is parsed into an `IncidentSummary` and grounded against the article. An answer that is not JSON,
breaks the schema, cites badly or was cut off at the token limit becomes a repair turn: the answer goes back
as an assistant message, followed by the list of what failed. After `SUMMARIZER_MAX_REPAIRS` failed repairs
the engine raises `OutputError`; a refusal raises `Refusal` at once. Tokens of every call are summed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from service import grounding, incident_scope
from service.article import Article
from service.attribution import cite_speakers
from service.breaker import CircuitBreaker
from service.config import Settings, StructuredMode
from service.engines.base import EngineResult, Judge
from service.errors import OutputError, Refusal, UpstreamUnavailable, Violation
from service.prompt_echo import EchoCheck
from service.prompts import Prompts
from service.schema import (
    HEADLINE_MAX,
    IncidentSummary,
    SchemaDialect,
    schema_text,
    upstream_json_schema,
)
from service.text.shorten import shorten
from service.upstream import Clock, Sleep, Tally, Upstream

logger = logging.getLogger("service.upstream")

_SCHEMA_NAME = "incident_summary"
# A repair turn lists at most this many failures; the model fixes the rest in the next turn.
_MAX_VIOLATIONS_SHOWN = 20
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_FENCE_INSIDE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def schema_dialect(mode: StructuredMode) -> SchemaDialect:
    """How much of the schema the backend of a mode enforces: OpenAI's strict subset, or all of it."""
    return "openai_strict" if mode == "json_schema" else "full"


def response_format(mode: StructuredMode, schema: dict[str, Any]) -> dict[str, Any]:
    """The `response_format` each structured-output mode sends (SPEC §5, docs/llm.md)."""
    if mode in ("json_schema", "json_schema_full"):
        return {
            "type": "json_schema",
            "json_schema": {"name": _SCHEMA_NAME, "strict": True, "schema": schema},
        }
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_object"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """One answer judged: a grounded summary, or the failures to feed back."""

    answer: str
    summary: IncidentSummary | None
    violations: tuple[Violation, ...]
    truncated: bool = False
    warnings: tuple[str, ...] = ()


def _path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "$"


def _schema_violations(error: ValidationError) -> tuple[Violation, ...]:
    found = []
    for item in error.errors(include_url=False, include_input=False):
        if item["type"] == "json_invalid":
            found.append(Violation("$", "invalid_json", f"the answer is not one JSON object: {item['msg']}"))
        else:
            found.append(Violation(_path(item["loc"]), item["type"], item["msg"]))
    return tuple(found)


_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)


def _strip_fence(content: str) -> str:
    """The JSON object of an answer: as it is, or out of a reasoning model's `<think>…</think>` block, a
    Markdown code fence with text around it, or prose around the object. The object itself is untouched; an
    answer without one is returned as it is (and fails as invalid JSON)."""
    text = _THINKING.sub("", content).strip()
    fenced = _FENCE.match(text) or _FENCE_INSIDE.search(text)
    if fenced:
        return fenced.group(1)
    if text.startswith("{"):
        return text
    start = text.find("{")
    if start < 0:
        return text
    try:
        _, end = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        return text
    return text[start:end]


class LLMEngine:
    """Satisfies `service.engines.base.Engine` with any OpenAI-compatible chat-completions endpoint."""

    name = "llm"

    def __init__(
        self,
        settings: Settings,
        prompts: Prompts,
        *,
        http_client: httpx.AsyncClient | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.model = settings.model
        # which deployment answers: part of the cache key, so another endpoint's answer is never served as a hit
        self.endpoint = settings.openai_base_url or "https://api.openai.com/v1"
        self._settings = settings
        self._prompts = prompts
        self._clock = clock
        schema = upstream_json_schema(schema_dialect(settings.structured_mode))
        self._response_format = response_format(settings.structured_mode, schema)
        self._schema_in_prompt = schema_text(schema) if settings.structured_mode == "json_object" else None
        self._echo = EchoCheck(prompts.system, prompts.repair.template)
        self._upstream = Upstream(
            settings, http_client=http_client, breaker=breaker, sleep=sleep, clock=clock
        )

    async def check_ready(self) -> None:
        if self._settings.openai_api_key is None and self._settings.openai_base_url is None:
            raise UpstreamUnavailable("no LLM endpoint configured: set OPENAI_API_KEY or OPENAI_BASE_URL")

    async def aclose(self) -> None:
        await self._upstream.aclose()

    async def summarize(
        self, article: Article, *, deadline_s: float | None = None, judge: Judge | None = None
    ) -> EngineResult:
        gate: Judge = judge or (lambda summary: grounding.check(summary, article))
        return await self.converse(article, self.first_messages(article), deadline_s=deadline_s, gate=gate)

    def first_messages(self, article: Article) -> list[dict[str, str]]:
        """The conversation's opening: the system prompt, and the user prompt with the article's sentences."""
        return [
            {"role": "system", "content": self._prompts.system},
            {
                "role": "user",
                "content": self._prompts.render_user(article, schema_json=self._schema_in_prompt),
            },
        ]

    def request_body(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """The chat-completions request body for `messages`: the model, the structured-output mode, the limits.
        The Batch API path (`service.upstream_batch`) sends the same bodies."""
        return {
            "model": self._settings.model,
            "messages": list(messages),
            "temperature": 0,
            "max_tokens": self._settings.max_output_tokens,
            "response_format": self._response_format,
        }

    async def converse(
        self,
        article: Article,
        messages: list[dict[str, str]],
        *,
        deadline_s: float | None,
        gate: Judge,
        tally: Tally | None = None,
        turn: int = 0,
    ) -> EngineResult:
        """Ask, judge, repair: from `messages` at repair turn `turn` (0: the first answer) until an answer is
        accepted or `SUMMARIZER_MAX_REPAIRS` repair turns failed (`OutputError`), within `deadline_s`
        (`SUMMARIZER_DEADLINE_S` when None). `tally` counts every call, including those made before (a Batch
        API round continued in real time)."""
        deadline = self._clock() + (self._settings.deadline_s if deadline_s is None else deadline_s)
        tally = tally or Tally()
        repairs = self._settings.max_repairs
        verdict: Verdict | None = None
        for current in range(turn, repairs + 1):
            completion = await self._upstream.chat(
                self.request_body(messages), deadline=deadline, tally=tally
            )
            verdict = self.judge_answer(completion, article, tally, gate)
            if verdict.summary is not None:
                return self.accepted(verdict, completion, tally, current)
            if current == repairs:
                break
            logger.warning("upstream: repair turn %d/%d because of %s", current + 1, repairs, rules(verdict))
            messages = self.repair_messages(messages, verdict)
        raise self.give_up(verdict, tally)

    def repair_messages(self, messages: list[dict[str, str]], verdict: Verdict) -> list[dict[str, str]]:
        """The conversation after a failed answer: the answer (unless cut off: the model is asked for a
        shorter one) and the repair prompt listing what failed."""
        shown = verdict.violations[:_MAX_VIOLATIONS_SHOWN]
        answer = [] if verdict.truncated else [{"role": "assistant", "content": verdict.answer}]
        return [*messages, *answer, {"role": "user", "content": self._prompts.render_repair(shown)}]

    def accepted(self, verdict: Verdict, completion: ChatCompletion, tally: Tally, turn: int) -> EngineResult:
        """The engine's result for an accepted answer at repair turn `turn`."""
        assert verdict.summary is not None
        repaired = (f"the model's answer needed {turn} repair turn(s)",) if turn else ()
        return EngineResult(
            verdict.summary,
            tally.attempts,
            tally.usage,
            (*repaired, *verdict.warnings),
            served_by=completion.model or None,
            system_fingerprint=completion.system_fingerprint,
        )

    def give_up(self, verdict: Verdict | None, tally: Tally) -> OutputError:
        """The error to raise for an answer still failing after every repair turn."""
        repairs = self._settings.max_repairs
        violations = verdict.violations if verdict is not None else ()
        logger.warning(
            "upstream: giving up after %d repair turn(s); last answer had %s",
            repairs,
            rules(verdict) if verdict is not None else "nothing",
        )
        return OutputError(
            f"the model's answer failed validation after {repairs} repair turn(s)",
            violations=violations,
            attempts=tally.attempts,
            usage=tally.usage,
        )

    def judge_answer(
        self, completion: ChatCompletion, article: Article, tally: Tally, gate: Judge
    ) -> Verdict:
        """One answer parsed, settled and judged by `gate` (and the checks only the model's answers need); a
        refusal raises `Refusal`."""
        max_tokens = self._settings.max_output_tokens
        if not completion.choices:
            return Verdict("", None, (Violation("$", "empty_answer", "the answer had no choices"),))
        choice = completion.choices[0]
        refusal = choice.message.refusal or (
            "content_filter" if choice.finish_reason == "content_filter" else ""
        )
        if refusal:
            logger.warning(
                "upstream: the model refused (%s)",
                "content filter" if not choice.message.refusal else "refusal",
            )
            raise Refusal(
                "the model refused to summarize the article",
                refusal=refusal,
                attempts=tally.attempts,
                usage=tally.usage,
            )
        answer = choice.message.content or ""
        if choice.finish_reason == "length":
            detail = (
                f"the answer was cut off at the {max_tokens}-token limit; write the whole object again, "
                "shorter: at most three summary statements, short texts, only the facts you can cite"
            )
            return Verdict(answer, None, (Violation("$", "truncated", detail),), truncated=True)
        if not answer.strip():
            return Verdict(answer, None, (Violation("$", "empty_answer", "answer with the JSON object"),))
        settled: tuple[str, ...] = ()
        try:
            summary = IncidentSummary.model_validate_json(_strip_fence(answer))
        except ValidationError as e:
            shortened = _with_short_headline(answer, e)
            if shortened is None:
                return Verdict(answer, None, _schema_violations(e))
            summary, settled = shortened
        summary, cited = cite_speakers(summary, article)
        settled += cited
        violations = (
            self._echo.violations(summary, article.text)
            + gate(summary)
            + grounding.headline_violations(summary, article)
            + incident_scope.violations(summary, article)
        )
        if violations:
            return Verdict(answer, None, tuple(violations))
        date_warning = incident_scope.date_reading_warning(summary.date, article)
        return Verdict(answer, summary, (), warnings=(*settled, *([date_warning] if date_warning else [])))


def _with_short_headline(
    answer: str, error: ValidationError
) -> tuple[IncidentSummary, tuple[str, ...]] | None:
    """An answer whose only fault is a headline over the limit (OpenAI's strict mode cannot enforce string
    lengths), with the headline cut at a word boundary and an ellipsis, and a warning; None otherwise. The
    headline states nothing the statements do not: a repair turn for its length would cost a whole call."""
    problems = error.errors(include_url=False, include_input=False)
    if any(p["type"] != "string_too_long" or tuple(p["loc"]) != ("headline",) for p in problems):
        return None
    data = json.loads(_strip_fence(answer))
    long = data["headline"]
    data["headline"] = shorten(long, HEADLINE_MAX)
    try:
        summary = IncidentSummary.model_validate(data)
    except ValidationError:
        return None
    return summary, (f"headline: shortened from {len(long)} to {HEADLINE_MAX} characters or fewer",)


def rules(verdict: Verdict) -> str:
    """`rule xN` per failed rule: why a repair happened, without the article's words."""
    counts = Counter(v.rule for v in verdict.violations)
    return ", ".join(f"{rule} x{n}" for rule, n in counts.most_common())
