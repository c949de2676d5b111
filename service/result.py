"""The API's answer: the summary, the sentences it cites, and how it was made."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.schema import IncidentSummary


class SentenceOut(BaseModel):
    id: str = Field(description="Stable sentence id, S1..Sn, in article order.")
    text: str = Field(description="The sentence as it stands in the normalised article text.")
    start: int = Field(description="Offset of the first character in the normalised article text.")
    end: int = Field(description="Offset one past the last character (half-open).")
    paragraph: int | None = Field(
        None,
        description="The paragraph of the article the sentence is in (0, 1, …); null in results stored before "
        "paragraphs were recorded.",
    )


class UsageOut(BaseModel):
    prompt_tokens: int = Field(0, description="Tokens sent upstream, summed over every call.")
    completion_tokens: int = Field(0, description="Tokens the model wrote, summed over every call.")
    cached_tokens: int = Field(
        0, description="Of the prompt tokens, those the endpoint served from its prompt cache (when it says)."
    )


class DerivedOut(BaseModel):
    path: str = Field(
        description="The field the service derived, e.g. `locations[0].country`, or `date`: the incident's date "
        "when the article states none (`summary.date` stays null)."
    )
    value: str = Field(description="The value it derived (for `date`, an ISO date).")
    basis: str = Field(description="What it was derived from (the article does not state it).")


class Meta(BaseModel):
    engine: str = Field(description="The engine that wrote the summary: llm or extractive.")
    model: str = Field(
        description="The model that answered, as the endpoint names it (else the model asked for), or the "
        "extractive engine's version."
    )
    system_fingerprint: str | None = Field(
        None, description="The endpoint's fingerprint of the backend that answered, when it sends one."
    )
    prompt_version: str = Field(description="Hash of the prompt files used (part of the cache key).")
    schema_version: str = Field(description="Version of the summary schema (SPEC §3).")
    cached: bool = Field(description="True when served from the cache without computing.")
    attempts: int = Field(description="Upstream calls made, failed ones included (1 for extractive).")
    usage: UsageOut = Field(description="Tokens summed over every upstream call.")
    cost_usd: float | None = Field(
        None,
        description="What the upstream calls cost, at the SUMMARIZER_PRICES rate of the model that answered "
        "(none when no price is set).",
    )
    latency_ms: float = Field(description="Time spent serving this request.")
    warnings: list[str] = Field(description="Non-fatal notes (e.g. why the fallback engine answered).")
    degraded: bool = Field(description="True when the fallback engine answered because the LLM failed.")
    derived: list[DerivedOut] = Field(
        default_factory=list,
        description="Fields the service derived rather than the article stated: a country or province from its "
        "gazetteer, the publication date as the date of an incident the article does not date "
        "(docs/llm.md, 'Stated and derived facts').",
    )

    def derived_at(self, path: str) -> DerivedOut | None:
        """The fact derived for `path` ("date"), if any."""
        return next((d for d in self.derived if d.path == path), None)


class Links(BaseModel):
    view: str | None = Field(
        None,
        description="The evidence page: the article with every fact lit (docs/evidence.md); a signed link that "
        "expires when API_KEYS is set; null when PUBLIC_BASE_URL is not set.",
    )


class SummaryResult(BaseModel):
    """A validated, cited summary of one article."""

    id: str = Field(description="The result's id; GET /v1/summaries/{id} returns it while it is cached.")
    summary: IncidentSummary = Field(description="The incident summary; every fact cites sentence ids.")
    sentences: list[SentenceOut] = Field(description="The article's citable sentences, S1..Sn.")
    meta: Meta = Field(description="How the summary was made.")
    links: Links = Field(default_factory=Links, description="Where else the result can be seen.")
