"""Dependencies of the routes, as `Annotated` aliases."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.config import Settings
from service.errors import Unauthorized
from service.summarizer import Summarizer


def get_summarizer(request: Request) -> Summarizer:
    summarizer: Summarizer = request.app.state.summarizer
    return summarizer


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SummarizerDep = Annotated[Summarizer, Depends(get_summarizer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="One of the keys in API_KEYS, when API_KEYS is set.")


def require_api_key(
    settings: SettingsDep,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    """When `API_KEYS` is set, `Authorization: Bearer KEY` must carry one of them (compared in constant time).

    Returns the matched key (the rate limiter's bucket) or None when the API is open.
    """
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
