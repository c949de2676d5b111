"""`POST /v1/summaries` and `GET /v1/summaries/{id}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from service.api import formats
from service.api.deps import ResultScopeDep, SummarizerDep, limit_refresh, rate_limit
from service.article import ArticleIn
from service.problems import openapi_responses
from service.request_context import note_result
from service.result import SummaryResult

# `rate_limit` depends on `require_api_key`: the key is checked first, then a token is taken.
router = APIRouter(prefix="/v1", tags=["summaries"], dependencies=[Depends(rate_limit)])

FormatQuery = Annotated[
    formats.Format | None,
    Query(alias="format", description="Rendering of the result; overrides the Accept header."),
]


@router.post(
    "/summaries",
    response_model=SummaryResult,
    summary="Summarize an article",
    responses={
        200: {"content": formats.openapi_content()},
        **openapi_responses(400, 401, 408, 413, 422, 429, 502, 503, 504),
    },
)
async def create_summary(
    article: ArticleIn,
    request: Request,
    summarizer: SummarizerDep,
    scope: ResultScopeDep,
    fmt: FormatQuery = None,
    cache_control: Annotated[
        str | None, Header(description="`no-cache` recomputes the summary and overwrites the cached one.")
    ] = None,
) -> Response:
    """A cited incident summary of one article (`text` or `html`). Served from the cache when the same
    article was summarized before with the same engine, model, prompt and schema."""
    refresh = "no-cache" in (cache_control or "").lower()
    if refresh:
        await limit_refresh(request)  # RATE_LIMIT_REFRESH_PER_MINUTE
    result = await summarizer.summarize(article, refresh=refresh, scope=scope)
    note_result(engine=result.meta.engine, cached=result.meta.cached)
    result = request.app.state.view_links.attach(result, scope)
    fmt_chosen = formats.negotiate(fmt, request.headers.get("accept"))
    return formats.render(result, fmt_chosen, headers={"Location": f"/v1/summaries/{result.id}"})


@router.get(
    "/summaries/{summary_id}",
    response_model=SummaryResult,
    summary="A cached summary",
    responses={200: {"content": formats.openapi_content()}, **openapi_responses(401, 404, 422, 429)},
)
async def read_summary(
    summary_id: str,
    request: Request,
    summarizer: SummarizerDep,
    scope: ResultScopeDep,
    fmt: FormatQuery = None,
) -> Response:
    """The summary with this id while it is cached; 404 once it has expired or if it never existed (or, with
    RESULT_SCOPE=key, if this key never asked for it)."""
    result = await summarizer.get(summary_id, scope=scope)
    note_result(engine=result.meta.engine, cached=True)
    result = request.app.state.view_links.attach(result, scope)
    fmt_chosen = formats.negotiate(fmt, request.headers.get("accept"))
    return formats.render(result, fmt_chosen)
