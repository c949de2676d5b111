"""The upstream model: the `openai` client (its own retries off) and the ONE retry policy of the service.

`Upstream.chat()` makes one logical chat-completion call. Transient failures (429, 5xx, timeouts, connection
errors) are retried by tenacity with exponential backoff and full jitter, or after the server's
`Retry-After` / `retry-after-ms` (capped by `SUMMARIZER_RETRY_AFTER_CAP_S`), at most `SUMMARIZER_MAX_RETRIES`
times, and only inside the caller's deadline: no wait or call starts that cannot end before it, and each
call's timeout is `min(SUMMARIZER_TIMEOUT_S, remaining)`. A circuit breaker guards every call.

Every openai exception is translated here into a `service.errors` type that carries the attempts and usage
counted so far in the caller's `Tally`. Logs say why a retry happened; never the prompt, the answer or a key.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import openai
from openai.types.chat import ChatCompletion
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_random_exponential

from service.breaker import CircuitBreaker
from service.config import Settings
from service.errors import (
    DeadlineExceeded,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
    Usage,
    with_cost,
)

logger = logging.getLogger("service.upstream")

# Backoff without a Retry-After hint: full jitter, a random wait in [0, min(_BACKOFF_MAX_S, base * 2**n)].
_BACKOFF_BASE_S = 0.5
_BACKOFF_MAX_S = 8.0
# No call starts with less time than this left before the deadline: it could not finish.
_MIN_CALL_S = 0.25

_REJECTION_HINTS = {
    400: "check SUMMARIZER_MODEL, SUMMARIZER_STRUCTURED_MODE and SUMMARIZER_MAX_TOKENS against the endpoint",
    401: "check OPENAI_API_KEY",
    403: "check that OPENAI_API_KEY may use SUMMARIZER_MODEL",
    404: "check OPENAI_BASE_URL and SUMMARIZER_MODEL",
    422: "check SUMMARIZER_STRUCTURED_MODE against what the endpoint supports",
}

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
_T = TypeVar("_T")


@dataclass
class Tally:
    """What one summary cost so far: every upstream HTTP call (retries included) and the tokens reported."""

    attempts: int = 0
    usage: Usage = field(default_factory=Usage)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The server's wait hint: `retry-after-ms`, else `Retry-After` in seconds or as an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    return value if math.isfinite(value) and value >= 0 else None


def _hinted_wait(error: BaseException | None) -> float | None:
    if isinstance(error, openai.APIStatusError):
        return retry_after_seconds(error.response.headers)
    return None


def is_transient(error: BaseException) -> bool:
    """429, 5xx, timeouts and connection errors are worth another try; everything else is not, nor a 429
    that says the account's quota is spent (`insufficient_quota`: no wait helps)."""
    if isinstance(error, openai.APIConnectionError):  # APITimeoutError is one too
        return True
    if not isinstance(error, openai.APIStatusError):
        return False
    if error.status_code == 429:
        return (
            _error_field(error.body, "code") != "insufficient_quota"
            and _error_field(error.body, "type") != "insufficient_quota"
        )
    return error.status_code >= 500


def _is_server_failure(error: BaseException) -> bool:
    """What the circuit breaker counts: the upstream is down or not answering (429 means it is up)."""
    return is_transient(error) and not (isinstance(error, openai.APIStatusError) and error.status_code == 429)


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "failure"
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}"
    if isinstance(error, openai.APITimeoutError):
        return "timeout"
    if isinstance(error, openai.APIConnectionError):
        cause = error.__cause__
        return f"connection error ({type(cause).__name__ if cause else 'unknown'})"
    return type(error).__name__


class _WaitRetryAfterOrJitter:
    """tenacity wait: the server's hint (capped) when it gave one, else exponential backoff, full jitter."""

    def __init__(self, cap_s: float) -> None:
        self._cap_s = cap_s
        self._jitter = wait_random_exponential(multiplier=_BACKOFF_BASE_S, max=_BACKOFF_MAX_S)

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = _hinted_wait(error)
        if hinted is not None:
            return min(hinted, self._cap_s)
        return float(self._jitter(retry_state))


class _StopBeforeDeadline(stop_base):
    """tenacity stop: no wait starts when the call after it could not start before the deadline."""

    def __init__(self, deadline: float, clock: Clock, cap_s: float) -> None:
        self._deadline = deadline
        self._clock = clock
        self._cap_s = cap_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = _hinted_wait(error)
        if hinted is not None and (
            hinted > self._cap_s or self._clock() + hinted + _MIN_CALL_S > self._deadline
        ):
            # the server asks for longer than the cap or than this request has left (`Retry-After: 3600`):
            # failing now, with that Retry-After, beats holding the client to fail later all the same
            logger.warning(
                "upstream: not retrying after %s: the server asks for %.0f s, more than the cap or the time left",
                _describe(error),
                hinted,
            )
            return True
        late = self._clock() + retry_state.upcoming_sleep + _MIN_CALL_S > self._deadline
        if late:
            logger.warning(
                "upstream: not retrying after %s: waiting %.2f s would leave no time before the deadline",
                _describe(error),
                retry_state.upcoming_sleep,
            )
        return late


class Upstream:
    """One OpenAI-compatible endpoint, its retry policy and its circuit breaker."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx.AsyncClient | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=settings.openai_base_url,
            max_retries=0,
            timeout=settings.timeout_s,
            http_client=http_client,  # type: ignore[arg-type]  # openai 3 types it as httpx2, takes either
        )
        self._owns_http_client = http_client is None
        self._settings = settings
        self._breaker = breaker or CircuitBreaker.from_settings(settings, clock=clock)
        self._sleep = sleep
        self._clock = clock

    async def aclose(self) -> None:
        if self._owns_http_client:
            await self._client.close()

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The SDK client (its own retries off): for calls other than chat, made through `call`."""
        return self._client

    def _policy(self, deadline: float) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=_WaitRetryAfterOrJitter(self._settings.retry_after_cap_s),
            stop=stop_after_attempt(self._settings.max_retries + 1)
            | _StopBeforeDeadline(deadline, self._clock, self._settings.retry_after_cap_s),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )

    async def chat(self, params: dict[str, Any], *, deadline: float, tally: Tally) -> ChatCompletion:
        """One chat completion with retries; `deadline` is a `clock()` time. Raises `UpstreamError`s."""
        return await self.call(
            lambda: self._call_once(params, deadline, tally), deadline=deadline, tally=tally
        )

    async def call(
        self, operation: Callable[[], Awaitable[_T]], *, deadline: float, tally: Tally | None = None
    ) -> _T:
        """`operation` (one SDK call) under the retry policy, its openai errors translated into
        `UpstreamError`s: chat completions, and the Files and Batches calls of `service.batch_api`."""
        tally = tally or Tally()
        policy = self._policy(deadline)
        try:
            async for attempt in policy:
                with attempt:
                    return await operation()
        except openai.OpenAIError as e:
            if is_transient(e):
                # a chat's tally counts the request's calls; a Files or Batches call counts its own tries
                calls = tally.attempts or policy.statistics.get("attempt_number", 1)
                logger.warning("upstream: giving up after %d calls; last: %s", calls, _describe(e))
            raise self._translate(e, deadline, tally) from e
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def deadline(self, seconds: float | None = None) -> float:
        """The `clock()` time a call started now must end by, retries included: `seconds` (by default
        `SUMMARIZER_DEADLINE_S`) from now."""
        return self._clock() + (self._settings.deadline_s if seconds is None else seconds)

    async def _call_once(self, params: dict[str, Any], deadline: float, tally: Tally) -> ChatCompletion:
        remaining = deadline - self._clock()
        if remaining < _MIN_CALL_S:
            raise DeadlineExceeded(
                "the request deadline passed before the upstream call could start",
                attempts=tally.attempts,
                usage=tally.usage,
            )
        try:
            trial = self._breaker.acquire()
        except UpstreamUnavailable as e:  # failing fast: the same error, with what this summary cost so far
            raise with_cost(e, tally.attempts, tally.usage) from e
        tally.attempts += 1
        try:
            completion = await self._client.chat.completions.create(
                **params, timeout=min(self._settings.timeout_s, remaining)
            )
        except openai.OpenAIError as e:
            if _is_server_failure(e):
                self._breaker.record_failure(trial)
            else:
                self._breaker.record_success(trial)
            raise
        except BaseException:  # cancelled by the caller's deadline: no verdict on the upstream
            self._breaker.release(trial)
            raise
        self._breaker.record_success(trial)
        return checked_completion(completion, tally)

    def _log_retry(self, retry_state: RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = _hinted_wait(error)
        logger.warning(
            "upstream: retry %d/%d after %s in %.2f s%s",
            retry_state.attempt_number,
            self._settings.max_retries,
            _describe(error),
            retry_state.upcoming_sleep,
            f" (server asked for {hinted:.2f} s)" if hinted is not None else "",
        )

    def _translate(self, error: openai.OpenAIError, deadline: float, tally: Tally) -> UpstreamError:
        counted: dict[str, Any] = {"attempts": tally.attempts, "usage": tally.usage}
        if isinstance(error, openai.APITimeoutError):
            if deadline - self._clock() < _MIN_CALL_S:
                return DeadlineExceeded(
                    "the request deadline passed while waiting for the upstream model", **counted
                )
            return UpstreamTimeout(
                f"the upstream model did not answer within {self._settings.timeout_s:g} s", **counted
            )
        if isinstance(error, openai.APIConnectionError):
            return UpstreamUnavailable(f"cannot reach the upstream model: {_describe(error)}", **counted)
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            hinted = retry_after_seconds(error.response.headers)
            if status == 429:
                return UpstreamRateLimited(
                    "the upstream model is rate limiting", retry_after=hinted, **counted
                )
            if status >= 500:
                return UpstreamUnavailable(
                    f"the upstream model failed with HTTP {status}", retry_after=hinted, **counted
                )
            hint = _REJECTION_HINTS.get(status, "check the endpoint's documentation for this status")
            if _too_long(error.body):
                hint = (
                    "the prompt and the article exceed the model's context window; send a shorter article, "
                    "or use a model with a longer context (SUMMARIZER_MODEL)"
                )
            logger.error(
                "upstream rejected the request: %d — %s (error code %s, type %s)",
                status,
                hint,
                _error_field(error.body, "code"),
                _error_field(error.body, "type"),
            )
            return UpstreamRejected(
                f"the upstream model rejected the request with HTTP {status}: {hint}",
                status_code=status,
                **counted,
            )
        return UpstreamUnavailable(f"unexpected upstream failure: {type(error).__name__}", **counted)


def _too_long(body: object) -> bool:
    """The rejection says the request exceeds the model's context (OpenAI's code, vLLM's and llama.cpp's
    wording)."""
    return _error_field(body, "code") == "context_length_exceeded" or bool(
        _CONTEXT_WORDS.search(_error_field(body, "message"))
    )


_CONTEXT_WORDS = re.compile(r"context (?:length|window|size)|maximum context|too many tokens", re.IGNORECASE)


def _error_field(body: object, name: str) -> str:
    """A field of OpenAI's error body ({"error": {"code", "type", ...}}); its message may quote secrets."""
    error = body.get("error", body) if isinstance(body, dict) else None
    value = error.get(name) if isinstance(error, dict) else None
    return str(value) if value is not None else "-"


def checked_completion(completion: object, tally: Tally) -> ChatCompletion:
    """A 2xx answer as the chat completion it must be, its usage counted (a field a server leaves out counts
    0); anything else is the endpoint's failure, never a crash and never a reason to ask the model again: a web
    page or text (a base URL pointing at a web UI), an `{"error": …}` object sent with status 200, a body
    without `choices`."""
    if not isinstance(completion, ChatCompletion):
        raise UpstreamError(
            f"the endpoint answered with {type(completion).__name__}, not a chat completion; check OPENAI_BASE_URL",
            attempts=tally.attempts,
            usage=tally.usage,
        )
    if completion.usage is not None:
        details = completion.usage.prompt_tokens_details
        cached = (details.cached_tokens if details is not None else None) or 0
        tally.usage += Usage(
            completion.usage.prompt_tokens or 0, completion.usage.completion_tokens or 0, cached
        )
    error = (completion.model_extra or {}).get("error")
    if error is not None:
        raise _error_in_200(error, tally)
    if not isinstance(completion.choices, list):
        raise UpstreamError(
            "the endpoint answered a JSON object without `choices`, not a chat completion",
            attempts=tally.attempts,
            usage=tally.usage,
        )
    return completion


def _error_in_200(error: object, tally: Tally) -> UpstreamError:
    """The upstream error an `{"error": {...}}` body sent with status 200 stands for, by its type or code."""
    fields = error if isinstance(error, dict) else {"message": str(error)}
    kind = f"{fields.get('type') or ''} {fields.get('code') or ''}".lower()
    message = f"the endpoint answered 200 with an error: {str(fields.get('message') or kind)[:200]}"
    if "rate_limit" in kind or "quota" in kind:
        return UpstreamRateLimited(message, attempts=tally.attempts, usage=tally.usage)
    if "server" in kind or "overloaded" in kind or "unavailable" in kind:
        return UpstreamUnavailable(message, attempts=tally.attempts, usage=tally.usage)
    return UpstreamRejected(message, status_code=200, attempts=tally.attempts, usage=tally.usage)
