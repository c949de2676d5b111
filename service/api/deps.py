"""Dependencies of the routes, as `Annotated` aliases.

All are `async def`: a plain function would cost a thread-pool hop on every request. FastAPI resolves every
dependency of every request anew (15-20 µs each, half of what the summarizer spends on a cache hit), so the
`/v1` routes have one chain: `rate_limit` needs `require_api_key`, which needs the bearer scheme (it puts the
security scheme in the OpenAPI document)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.config import Settings
from service.errors import Unauthorized
from service.ratelimit import RateLimiter
from service.summarizer import Summarizer


async def get_summarizer(request: Request) -> Summarizer:
    summarizer: Summarizer = request.app.state.summarizer
    return summarizer


SummarizerDep = Annotated[Summarizer, Depends(get_summarizer)]

_bearer = HTTPBearer(auto_error=False, description="One of the keys in API_KEYS, when API_KEYS is set.")
bearer_scheme = _bearer  # for routes that take a key or something else (the evidence page's token)


async def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str | None:
    """When `API_KEYS` is set, `Authorization: Bearer KEY` must carry one of them (compared in constant time).

    Returns the matched key (the rate limiter's bucket) or None when the API is open. The settings come from
    the app's state, not from a dependency of their own (see above).
    """
    settings: Settings = request.app.state.settings
    keys = settings.api_key_values()
    if not keys:
        return None
    if credentials is None:
        raise Unauthorized("send `Authorization: Bearer <key>`")
    offered = credentials.credentials.encode()
    matched = None
    for key in keys:  # every key is compared, so timing reveals neither which key nor how much matched
        if hmac.compare_digest(offered, key.encode()):
            matched = key
    if matched is None:
        raise Unauthorized("the API key is not valid")
    request.state.api_key = matched
    return matched


ApiKeyDep = Annotated[str | None, Depends(require_api_key)]


async def rate_limit(request: Request, api_key: ApiKeyDep) -> None:
    """One token from the caller's bucket: its API key's, or its address's when the API is open.

    Runs after `require_api_key`, so a request without a valid key is refused before it costs a token.
    """
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is None:
        return
    if api_key is not None:
        client = f"key:{api_key}"
    else:  # behind a proxy, uvicorn's --proxy-headers makes this the forwarded address
        client = f"addr:{request.client.host if request.client else 'unknown'}"
    await limiter.acquire(client)
