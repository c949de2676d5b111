"""The one place that maps errors to HTTP: RFC 9457 `application/problem+json` with stable `type` URIs.

Every error a request can meet ends here — domain errors, request validation, routing errors and, as a last
resort, unexpected exceptions — so no request produces a bare 500 or an HTML error page. `PROBLEMS` gives each
domain error its problem by class ancestry; the batch command and the Slack bot name errors by the same problems.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from service import errors

log = logging.getLogger("service.problems")

TYPE_PREFIX = "urn:incident-summarizer:problem:"
MEDIA_TYPE = "application/problem+json"
DEFAULT_RETRY_AFTER_S = 5

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """One problem type. `members` name the error's data sent as extension members (read by `_MEMBERS`;
    `retry_after` goes out as the `Retry-After` header too); `headers` are sent as they are."""

    status: int
    slug: str
    title: str
    members: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug


# The problem of each error class. An error whose class has no entry takes its nearest ancestor's (`kind_of`),
# so the order of the entries does not matter. The Slack bot words its messages by the same problems.
PROBLEMS: dict[type[errors.SummarizerError], ProblemKind] = {
    errors.SummarizerError: ProblemKind(500, "internal-error", "Internal error"),
    # the caller's input
    errors.InputError: ProblemKind(422, "invalid-input", "The article cannot be summarized"),
    errors.EmptyInput: ProblemKind(422, "empty-input", "The article is empty"),
    errors.ConflictingInput: ProblemKind(422, "conflicting-input", "Send either text or html"),
    errors.InvalidText: ProblemKind(
        422, "invalid-text", "The article holds text that cannot be encoded", ("field",)
    ),
    errors.InputTooLarge: ProblemKind(413, "input-too-large", "The article is too large", ("limit",)),
    errors.NoSentences: ProblemKind(422, "no-sentences", "The article has no sentences"),
    errors.TooManySentences: ProblemKind(
        413, "too-many-sentences", "The article has too many sentences", ("limit",)
    ),
    errors.InvalidOption: ProblemKind(422, "invalid-option", "A request option is invalid"),
    errors.NotFound: ProblemKind(404, "not-found", "No such summary"),
    errors.UrlForbidden: ProblemKind(
        422, "url-forbidden", "The URL may not be fetched", ("url", "address_class")
    ),
    errors.UrlTooLarge: ProblemKind(413, "url-too-large", "The page is too large", ("url", "limit")),
    errors.UnsupportedLanguage: ProblemKind(
        422, "unsupported-language", "The engine cannot read the article's language", ("language", "engine")
    ),
    errors.UrlFetchFailed: ProblemKind(
        502, "url-fetch-failed", "The page could not be fetched", ("url", "page_status")
    ),
    errors.DeliveryError: ProblemKind(
        502, "delivery-failed", "The summary could not be posted to Slack", ("slack_error",)
    ),
    errors.DeliveryNotConfigured: ProblemKind(
        422, "delivery-not-configured", "Delivery to Slack is not configured", ("slack_error",)
    ),
    errors.DeliveryRefused: ProblemKind(
        422, "delivery-refused", "Slack refused the channel", ("slack_error",)
    ),
    errors.DeliveryRateLimited: ProblemKind(
        503, "delivery-rate-limited", "Slack is rate-limiting the bot", ("slack_error", "retry_after")
    ),
    # the clients of the API
    errors.Unauthorized: ProblemKind(
        401, "unauthorized", "A valid API key is required", headers=(("WWW-Authenticate", "Bearer"),)
    ),
    errors.ViewLinkRejected: ProblemKind(403, "view-link-rejected", "The evidence link is not valid"),
    errors.ClientRateLimited: ProblemKind(429, "rate-limited", "Too many requests", ("retry_after",)),
    # the upstream model
    errors.UpstreamError: ProblemKind(
        502, "upstream-error", "The model endpoint failed", ("attempts", "usage")
    ),
    errors.UpstreamRateLimited: ProblemKind(
        503, "upstream-rate-limited", "The model is rate-limiting us", ("retry_after", "attempts", "usage")
    ),
    errors.UpstreamUnavailable: ProblemKind(
        503, "upstream-unavailable", "The model is unavailable", ("retry_after", "attempts", "usage")
    ),
    errors.UpstreamTimeout: ProblemKind(
        504, "upstream-timeout", "The model timed out", ("attempts", "usage")
    ),
    errors.DeadlineExceeded: ProblemKind(
        504, "deadline-exceeded", "No summary within the deadline", ("attempts", "usage")
    ),
    errors.UpstreamRejected: ProblemKind(
        502,
        "upstream-rejected",
        "The model endpoint rejected our request",
        ("attempts", "usage", "upstream_status"),
    ),
    errors.BatchRequestFailed: ProblemKind(
        502,
        "upstream-batch-failed",
        "The Batch API returned no answer for this article",
        ("attempts", "usage"),
    ),
    # the model's output
    errors.OutputError: ProblemKind(
        502,
        "unrepairable-output",
        "The model's summary failed validation",
        ("attempts", "usage", "violations"),
    ),
    errors.Refusal: ProblemKind(
        502, "model-refused", "The model refused to summarize the article", ("attempts", "usage")
    ),
}
VALIDATION = ProblemKind(422, "invalid-request", "The request is invalid")
INTERNAL = PROBLEMS[errors.SummarizerError]
NOT_READY = ProblemKind(503, "not-ready", "The service is not ready")
REQUEST_TIMEOUT = ProblemKind(408, "request-timeout", "The request body arrived too slowly")


def nearest(table: Mapping[type, T], cls: type) -> T | None:
    """The entry of `cls` or of its nearest ancestor (in method resolution order), as starlette looks up
    exception handlers: the order of the table does not matter."""
    return next((table[base] for base in cls.__mro__ if base in table), None)


def kind_of(error: errors.SummarizerError) -> ProblemKind:
    return nearest(PROBLEMS, type(error)) or INTERNAL


def _retry_after(seconds: float | None) -> int:
    return max(1, math.ceil(seconds)) if seconds is not None else DEFAULT_RETRY_AFTER_S


# How each extension member named in `ProblemKind.members` is read from the error.
_MEMBERS: dict[str, Callable[[Any], Any]] = {
    "limit": lambda error: error.limit,
    "field": lambda error: error.field,
    "retry_after": lambda error: _retry_after(error.retry_after),
    "attempts": lambda error: error.attempts,
    "usage": lambda error: dataclasses.asdict(error.usage),
    "upstream_status": lambda error: error.status_code,
    "url": lambda error: error.url,
    "address_class": lambda error: error.address_class,
    "page_status": lambda error: error.status_code,
    "language": lambda error: error.language,
    "engine": lambda error: error.engine,
    "slack_error": lambda error: error.slack_error,
    # path and rule only: a detail may quote the model's answer, which may quote anything
    "violations": lambda error: [{"path": v.path, "rule": v.rule} for v in error.violations[:20]],
}


def problem_response(
    kind: ProblemKind,
    detail: str,
    request: Request | None = None,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": kind.type, "title": kind.title, "status": status or kind.status}
    body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status or kind.status, headers=headers, media_type=MEDIA_TYPE)


def error_response(error: errors.SummarizerError, request: Request | None = None) -> JSONResponse:
    """The problem response for a domain error; its attributes become extension members."""
    kind = kind_of(error)
    extensions = {name: _MEMBERS[name](error) for name in kind.members}
    headers = dict(kind.headers)
    if "retry_after" in extensions:
        headers["Retry-After"] = str(extensions["retry_after"])
    if kind.status >= 500:
        log.warning("%s -> %d %s", type(error).__name__, kind.status, kind.slug)
    return problem_response(kind, error.message, request, headers=headers or None, **extensions)


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.SummarizerError)
    return error_response(exc, request)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()[:20]
    ]
    detail = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems[:3])
    return problem_response(VALIDATION, detail or "invalid request", request, errors=problems)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug = {
        400: "malformed-body",
        404: "not-found",
        405: "method-not-allowed",
        406: "not-acceptable",
        413: "input-too-large",
    }.get(exc.status_code, f"http-{exc.status_code}")
    kind = ProblemKind(exc.status_code, slug, str(exc.detail))
    return problem_response(kind, str(exc.detail), request, headers=dict(exc.headers or {}) or None)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(INTERNAL, "an unexpected error occurred; it has been logged", request)


Handler = Callable[[Request, Exception], Coroutine[Any, Any, Response]]


def exception_handlers() -> dict[int | type[Exception], Handler]:
    return {
        errors.SummarizerError: _domain,
        RequestValidationError: _validation,
        StarletteHTTPException: _http,
        Exception: _unexpected,
    }


def openapi_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries documenting problem responses for the given statuses."""
    schema = {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
        },
        "additionalProperties": True,
    }
    return {
        status: {"description": "Problem details (RFC 9457)", "content": {MEDIA_TYPE: {"schema": schema}}}
        for status in statuses
    }
