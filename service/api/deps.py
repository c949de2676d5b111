"""Dependencies of the routes, as `Annotated` aliases.

All are `async def`: a plain function would cost a thread-pool hop on every request. FastAPI resolves every
dependency of every request anew (15-20 µs each, half of what the summarizer spends on a cache hit), so the
`/v1` routes have one chain: `rate_limit` needs `require_api_key`, which needs the bearer scheme (it puts the
security scheme in the OpenAPI document).

`admit` does the work of that chain before the request's body is read (`service.limits.RequestLimits` calls
it for every `/v1/` request): an unauthenticated or rate-limited caller costs no body read and no JSON parse.
It notes in the request's state that the request was admitted, and the chain then only reads what it found;
a route outside `/v1/` that uses the chain still gets the whole check."""

from __future__ import annotations

import hmac
import re
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.config import Settings
from service.errors import Unauthorized
from service.ratelimit import RateLimiter, client_digest
from service.summarizer import Summarizer
from service.view_links import ViewLinks


async def get_summarizer(request: Request) -> Summarizer:
    summarizer: Summarizer = request.app.state.summarizer
    return summarizer


SummarizerDep = Annotated[Summarizer, Depends(get_summarizer)]

_bearer = HTTPBearer(auto_error=False, description="One of the keys in API_KEYS, when API_KEYS is set.")
bearer_scheme = _bearer  # for routes that take a key or something else (the evidence page's token)

# The routes whose callers `admit` checks before their body is read: the `/v1` router's.
GUARDED_PREFIX = "/v1/"
# What `admit` found, kept in the request's own ASGI scope: `request.state` may be one dict shared by every
# request (the lifespan state, as asgi-lifespan hands it to the tests), so a mark there would outlive it.
_ADMITTED = "incident_summarizer.admitted"
_API_KEY = "incident_summarizer.api_key"
_LINK_SCOPE = "incident_summarizer.link_scope"
# The evidence page, which an evidence link's token opens without a key (service.api.view).
_EVIDENCE_PAGE = re.compile(r"/v1/summaries/(?P<id>[^/]+)/view")


def bearer_token(authorization: str | None) -> str | None:
    """The credentials of an `Authorization: Bearer <token>` header (the scheme in any case), else None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def matching_key(settings: Settings, offered: str | None) -> str | None:
    """The configured key `offered` is, or None when there are keys and it is none of them.

    Raises `Unauthorized` when keys are set and `offered` matches none; returns None when the API is open.
    Every key is compared in constant time, even after a match: timing reveals neither which key nor how
    much of one matched.
    """
    keys = settings.api_key_values()
    if not keys:
        return None
    if offered is None:
        raise Unauthorized("send `Authorization: Bearer <key>`")
    offered_bytes = offered.encode()
    matched = None
    for key in keys:
        if hmac.compare_digest(offered_bytes, key.encode()):
            matched = key
    if matched is None:
        raise Unauthorized("the API key is not valid")
    return matched


def client_of(request: Request, api_key: str | None) -> str:
    """The rate limiter's name of the caller: its API key, or its address when the API is open (behind a
    proxy, uvicorn's --proxy-headers makes this the forwarded address of a trusted proxy)."""
    if api_key is not None:
        return f"key:{api_key}"
    return f"addr:{request.client.host if request.client else 'unknown'}"


async def admit(request: Request) -> None:
    """For a `/v1/` request, before its body is read: the API key, then one rate-limit token.

    Raises `Unauthorized` or `ClientRateLimited`; marks the request admitted (in its ASGI scope).
    """
    if not request.url.path.startswith(GUARDED_PREFIX):
        return
    settings: Settings = request.app.state.settings
    link = _evidence_link(request)
    if settings.api_keys and link is not None:
        await open_by_link(request, *link)
        return
    api_key = matching_key(settings, bearer_token(request.headers.get("authorization")))
    request.scope[_API_KEY] = api_key
    await _take_token(request, api_key)
    request.scope[_ADMITTED] = True


def _evidence_link(request: Request) -> tuple[str, str] | None:
    """(summary id, token) of an evidence page opened with its link's signed token (a browser has no key to
    send), else None: only `GET /v1/summaries/{id}/view` with a non-empty `token`."""
    match = _EVIDENCE_PAGE.fullmatch(request.url.path)
    token = request.query_params.get("token")
    if request.method != "GET" or match is None or not token:
        return None
    return match["id"], token


async def open_by_link(request: Request, summary_id: str, token: str) -> str | None:
    """An evidence link's token instead of a key: one rate-limit token from the caller's address first (a
    forged token costs one too), then the token checked (`ViewLinkRejected`). Returns the result scope the
    token was signed for; done once per request (by `admit`, before the body is read)."""
    if _admitted(request):
        scope: str | None = request.scope.get(_LINK_SCOPE)
        return scope
    await _take_token(request, None)
    links: ViewLinks = request.app.state.view_links
    scope = links.verify(summary_id, token)
    request.scope[_API_KEY] = None
    request.scope[_LINK_SCOPE] = scope
    request.scope[_ADMITTED] = True
    return scope


async def _take_token(request: Request, api_key: str | None) -> None:
    """One token from the caller's bucket (`ClientRateLimited` when it is empty); nothing without a limiter."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is not None:
        await limiter.acquire(client_of(request, api_key))


def _admitted(request: Request) -> bool:
    return bool(request.scope.get(_ADMITTED, False))


async def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str | None:
    """When `API_KEYS` is set, `Authorization: Bearer KEY` must carry one of them (compared in constant time).

    Returns the matched key (the rate limiter's bucket) or None when the API is open. The settings come from
    the app's state, not from a dependency of their own (see above).
    """
    if _admitted(request):
        api_key: str | None = request.scope.get(_API_KEY)
        return api_key
    settings: Settings = request.app.state.settings
    matched = matching_key(settings, credentials.credentials if credentials is not None else None)
    request.scope[_API_KEY] = matched
    return matched


ApiKeyDep = Annotated[str | None, Depends(require_api_key)]


async def rate_limit(request: Request, api_key: ApiKeyDep) -> None:
    """One token from the caller's bucket: its API key's, or its address's when the API is open.

    Runs after `require_api_key`, so a request without a valid key is refused before it costs a token; a
    request `admit` let in has paid its token already.
    """
    if not _admitted(request):
        await _take_token(request, api_key)


async def result_scope(request: Request, api_key: ApiKeyDep) -> str | None:
    """Whose results a request sees: None (every key's: `RESULT_SCOPE=shared`) or, with `RESULT_SCOPE=key`, a
    digest of its API key (never the key itself), so that only the keys that asked for a result can read it."""
    settings: Settings = request.app.state.settings
    if settings.result_scope != "key" or api_key is None:
        return None
    return client_digest(f"scope:{api_key}")


ResultScopeDep = Annotated[str | None, Depends(result_scope)]


async def limit_refresh(request: Request) -> None:
    """One token from the caller's refresh bucket (`RATE_LIMIT_REFRESH_PER_MINUTE`): `Cache-Control: no-cache`
    recomputes and overwrites, so it costs more than a request. Raises `ClientRateLimited`."""
    limiter: RateLimiter | None = request.app.state.refresh_limiter
    if limiter is not None:
        await limiter.acquire("refresh:" + client_of(request, request.scope.get(_API_KEY)))
