"""The typed error hierarchy of the domain.

Data lives in attributes (limits, retry hints, violations, usage), so that `problems.py` — the one place that
knows about HTTP — can build a response, and the CLI and the Slack bot can build a message, from the same
error without parsing strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # of the prompt tokens, those the endpoint served from its prompt cache

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
        )


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed validation rule, precise enough to be fed back to a model as a repair instruction."""

    path: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}: {self.detail}"


class SummarizerError(Exception):
    """Base of every error the service raises on purpose.

    `retry_after` is the seconds after which trying again may succeed, for the errors that know it (a rate
    limit, an open circuit breaker); `problems.PROBLEMS` says which errors send it on as `Retry-After`.
    """

    message: str
    retry_after: float | None

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


# --- the caller's input ---------------------------------------------------------------------------


class InputError(SummarizerError):
    """The article cannot be summarized as given; the caller must change the request."""


class EmptyInput(InputError):
    pass


class ConflictingInput(InputError):
    """Both `text` and `html`, or neither."""


class InvalidText(InputError):
    """A text field holds what no text encoding can carry (a lone surrogate code point, as JSON's `\\udfff`)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class InputTooLarge(InputError):
    def __init__(self, message: str, *, limit: int, size: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.size = size


class NoSentences(InputError):
    pass


class TooManySentences(InputError):
    def __init__(self, message: str, *, limit: int, count: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.count = count


class InvalidOption(InputError):
    """A request option has a value the service cannot use (e.g. an unknown output format)."""


class UrlForbidden(InputError):
    """The URL may not be fetched: not http(s), or its host resolves to a loopback, private, link-local or
    other non-public address (`address_class` says which), at the first hop or after a redirect."""

    def __init__(self, message: str, *, url: str, address_class: str | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.address_class = address_class


class UrlTooLarge(InputError):
    """The page at the URL is larger than `URL_MAX_BYTES`."""

    def __init__(self, message: str, *, url: str, limit: int) -> None:
        super().__init__(message)
        self.url = url
        self.limit = limit


class UnsupportedLanguage(InputError):
    """The article is in a language the engine cannot read (the extractive engine reads English only)."""

    def __init__(self, message: str, *, language: str, engine: str) -> None:
        super().__init__(message)
        self.language = language
        self.engine = engine


class NotFound(SummarizerError):
    def __init__(self, message: str, *, summary_id: str) -> None:
        super().__init__(message)
        self.summary_id = summary_id


# --- the clients of the API -----------------------------------------------------------------------


class Unauthorized(SummarizerError):
    pass


class ViewLinkRejected(SummarizerError):
    """An evidence-page link whose token is forged, malformed, for another summary, or expired."""


class ClientRateLimited(SummarizerError):
    """A client sent more requests than its rate limit allows; `retry_after` says when it may again."""


# --- pages fetched for a `url` request -------------------------------------------------------------


class UrlFetchFailed(SummarizerError):
    """The page at the URL could not be fetched: DNS, connection, timeout, an HTTP error status, too many
    redirects, or a content type that is not HTML or text."""

    def __init__(self, message: str, *, url: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code


# --- delivery to Slack from the API ---------------------------------------------------------------


class DeliveryError(SummarizerError):
    """The summary was made but could not be posted where the request asked (`slack_error` is Slack's code)."""

    def __init__(self, message: str, *, slack_error: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.slack_error = slack_error


class DeliveryNotConfigured(DeliveryError):
    """A request asked for delivery to Slack, and no `SLACK_BOT_TOKEN` is configured."""


class DeliveryRefused(DeliveryError):
    """Slack refused the channel: unknown, archived, or the bot is not a member of it."""


class DeliveryRateLimited(DeliveryError):
    """Slack kept rate-limiting the post after the retries."""


# --- the upstream model ---------------------------------------------------------------------------


class UpstreamError(SummarizerError):
    """The LLM endpoint failed; `attempts` and `usage` count every call made before giving up."""

    def __init__(
        self, message: str, *, attempts: int = 0, usage: Usage | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.attempts = attempts
        self.usage = usage or Usage()


class UpstreamRateLimited(UpstreamError):
    """429 from upstream after every retry; `retry_after` is the server's hint, if it sent one."""


class UpstreamUnavailable(UpstreamError):
    """5xx or connection failures after every retry, or the circuit breaker is open."""


class UpstreamTimeout(UpstreamError):
    pass


class DeadlineExceeded(UpstreamTimeout):
    """The whole request ran out of `SUMMARIZER_DEADLINE_S`."""


class UpstreamRejected(UpstreamError):
    """400/401/403/404/422 from upstream: our request or our credentials are wrong; retrying will not help."""

    def __init__(self, message: str, *, status_code: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status_code = status_code


class BatchRequestFailed(UpstreamError):
    """The Batch API returned no answer for one request: its batch expired, failed or was cancelled, or the
    request itself failed (`code`: `batch_expired`, `batch_failed`, `batch_cancelled`, the error's code or
    `http_<status>`)."""

    def __init__(self, message: str, *, code: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code


# --- the model's output ---------------------------------------------------------------------------


class OutputError(SummarizerError):
    """The model's answer failed validation and every repair turn failed too."""

    def __init__(
        self,
        message: str,
        *,
        violations: Sequence[Violation] = (),
        attempts: int = 0,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message)
        self.violations = tuple(violations)
        self.attempts = attempts
        self.usage = usage or Usage()


class Refusal(OutputError):
    """The model refused to answer."""

    def __init__(self, message: str, *, refusal: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.refusal = refusal


# --- the service's own backends -------------------------------------------------------------------


class CacheUnavailable(SummarizerError):
    """The cache backend cannot serve (connection refused, timeout, ...); the summarizer treats it as a miss.

    `reported`: the backend logged it already (Redis: `service.cache.redis_guard`, at most once an interval),
    so the caller logs it at DEBUG only."""

    def __init__(self, message: str, *, reported: bool = False) -> None:
        super().__init__(message)
        self.reported = reported


_Costed = TypeVar("_Costed", bound=UpstreamError | OutputError)


def with_cost(error: _Costed, attempts: int, usage: Usage) -> _Costed:
    """A copy of `error` that says what the whole request cost (`attempts`, `usage`): errors are data once
    raised, never changed (a model chain adds up the deployments it tried)."""
    counted = type(error).__new__(type(error))
    counted.__dict__.update(error.__dict__)
    counted.args = error.args
    counted.attempts, counted.usage = attempts, usage
    return counted
