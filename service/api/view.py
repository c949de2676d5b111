"""`GET /v1/summaries/{id}/view`: the evidence page (docs/evidence.md), and its static assets.

When `API_KEYS` is set the page opens with either a signed link's `?token=` (what the links in the JSON,
Markdown and Slack carry; a browser has no bearer key to send) or `Authorization: Bearer KEY`; a token that is
forged, for another summary or expired is a 403 problem. Either way the request takes a rate-limit token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles

from service.api import deps
from service.api.deps import SummarizerDep
from service.config import Settings
from service.problems import openapi_responses
from service.render.evidence import ASSETS_PATH, PAGE_HEADERS, STATIC_DIR, EvidencePage
from service.request_context import note_result

# The OpenAPI document lists the token as the alternative to the bearer key.
view_token_scheme = APIKeyQuery(
    name="token",
    auto_error=False,
    scheme_name="ViewLinkToken",
    description="The signed, expiring token of an evidence link (links.view), when API_KEYS is set.",
)


async def view_scope(
    request: Request,
    summary_id: str,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(deps.bearer_scheme)],
    token: Annotated[str | None, Depends(view_token_scheme)],
) -> str | None:
    """An open API: anyone. With API_KEYS: a valid token for this summary when one is given, else a valid
    bearer key. Then one rate-limit token (the key's bucket, or the address's for a token). Returns the
    result scope to read (RESULT_SCOPE=key): the one the token was signed for, or the bearer key's."""
    settings: Settings = request.app.state.settings
    if settings.api_keys and token:
        return await deps.open_by_link(request, summary_id, token)  # done by `admit` already
    api_key = await deps.require_api_key(request, credentials) if settings.api_keys else None
    await deps.rate_limit(request, api_key)
    return await deps.result_scope(request, api_key)


router = APIRouter(prefix="/v1", tags=["summaries"])


@router.get(
    "/summaries/{summary_id}/view",
    response_class=HTMLResponse,
    summary="The evidence page of a cached summary",
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}},
        **openapi_responses(401, 403, 404, 422, 429),
    },
)
async def view_summary(
    summary_id: str,
    request: Request,
    summarizer: SummarizerDep,
    scope: Annotated[str | None, Depends(view_scope)],
) -> HTMLResponse:
    """The article with every fact lit: the facts beside the article's sentences, each fact lighting the
    sentences it cites. 404 once the summary has expired from the cache or if it never existed."""
    result = await summarizer.get(summary_id, scope=scope)
    note_result(engine=result.meta.engine, cached=True)
    page: EvidencePage = request.app.state.evidence_page
    return HTMLResponse(page.render(result), headers=PAGE_HEADERS)


def assets() -> tuple[str, StaticFiles]:
    """The page's script and style sheet, served by the app (`app.mount(*assets())`); open, they hold no data."""
    return ASSETS_PATH, StaticFiles(directory=STATIC_DIR)
