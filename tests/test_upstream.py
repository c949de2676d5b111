"""The upstream client and its ONE retry policy, against a real OpenAI-compatible server on loopback that
injects faults: what is retried, how long it waits, what it raises, how many calls it makes, and that the deadline
and the circuit breaker bound it all."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from service.breaker import BreakerState, CircuitBreaker
from service.config import Settings
from service.errors import (
    DeadlineExceeded,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
    Usage,
)
from service.upstream import Tally, Upstream, is_transient, retry_after_seconds
from tests.fakes.openai_server import (
    Answer,
    FaultServer,
    closed_mid_response,
    rate_limited,
    reset,
    server_error,
    slow,
)

SECRET_KEY = "sk-test-0123456789abcdefSECRET"


class RecordingSleep:
    """Records every backoff wait the policy asks for, and waits no real time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


def settings_for(server: FaultServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"engine": "llm", "openai_base_url": server.base_url, "cache_url": "memory://"}
    return Settings(**(values | overrides))


PARAMS: dict[str, Any] = {"model": "test-model", "messages": [{"role": "user", "content": "hello"}]}


async def call(upstream: Upstream, *, deadline_s: float = 30.0, tally: Tally | None = None) -> Tally:
    tally = tally if tally is not None else Tally()
    await upstream.chat(PARAMS, deadline=time.monotonic() + deadline_s, tally=tally)
    return tally


def ok(prompt: int = 7, completion: int = 3) -> Answer:
    return Answer('{"ok": true}', usage=(prompt, completion))


async def test_a_success_counts_one_attempt_and_its_usage(server: FaultServer, sleep: RecordingSleep) -> None:
    server.script(ok(11, 5))
    upstream = Upstream(settings_for(server), sleep=sleep)
    try:
        tally = await call(upstream)
    finally:
        await upstream.aclose()
    assert (tally.attempts, tally.usage) == (1, Usage(11, 5))
    assert server.calls == 1
    assert server.bodies[0]["model"] == "test-model"
    assert sleep.waits == []


@pytest.mark.parametrize(
    "fault",
    [rate_limited(), server_error(500), server_error(502), server_error(503), reset(), closed_mid_response()],
    ids=["429", "500", "502", "503", "connection-reset", "closed-mid-response"],
)
async def test_each_transient_fault_is_retried_then_succeeds(
    server: FaultServer, sleep: RecordingSleep, fault: Any
) -> None:
    server.script(fault, ok())
    upstream = Upstream(settings_for(server), sleep=sleep)
    try:
        tally = await call(upstream)
    finally:
        await upstream.aclose()
    assert server.calls == 2
    assert tally.attempts == 2
    assert len(sleep.waits) == 1


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        (rate_limited(retry_after="7"), UpstreamRateLimited),
        (server_error(500), UpstreamUnavailable),
        (server_error(502), UpstreamUnavailable),
        (server_error(503), UpstreamUnavailable),
        (reset(), UpstreamUnavailable),
        (closed_mid_response(), UpstreamUnavailable),
    ],
    ids=["429", "500", "502", "503", "connection-reset", "closed-mid-response"],
)
async def test_a_fault_that_persists_raises_its_typed_error_after_max_retries(
    server: FaultServer, sleep: RecordingSleep, fault: Any, error_type: type[Exception]
) -> None:
    server.script(*[fault] * 10)
    upstream = Upstream(settings_for(server, max_retries=2, breaker_failures=100), sleep=sleep)
    try:
        with pytest.raises(error_type) as caught:
            await call(upstream)
    finally:
        await upstream.aclose()
    assert server.calls == 3
    assert caught.value.attempts == 3  # type: ignore[attr-defined]
    assert caught.value.__cause__ is not None  # translated at the boundary, `raise ... from e`
    assert len(sleep.waits) == 2


async def test_429_after_retries_carries_the_servers_retry_after(
    server: FaultServer, sleep: RecordingSleep
) -> None:
    server.script(*[rate_limited(retry_after="7")] * 4)
    upstream = Upstream(settings_for(server, max_retries=1, retry_after_cap_s=1), sleep=sleep)
    try:
        with pytest.raises(UpstreamRateLimited) as caught:
            await call(upstream)
    finally:
        await upstream.aclose()
    assert caught.value.retry_after == 7
    assert sleep.waits == [] and server.calls == 1  # more than SUMMARIZER_RETRY_AFTER_CAP_S: no retry


async def test_503_after_retries_carries_the_servers_retry_after(
    server: FaultServer, sleep: RecordingSleep
) -> None:
    server.script(*[server_error(503, retry_after="12")] * 2)
    upstream = Upstream(settings_for(server, max_retries=1), sleep=sleep)
    try:
        with pytest.raises(UpstreamUnavailable) as caught:
            await call(upstream)
    finally:
        await upstream.aclose()
    assert caught.value.retry_after == 12
    assert server.calls == 2


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [
        ({"retry_after": "2.5"}, 2.5),
        ({"retry_after_ms": "1500"}, 1.5),
        ({"retry_after_ms": "250", "retry_after": "9"}, 0.25),  # the precise header wins
    ],
    ids=["seconds", "milliseconds", "ms-wins"],
)
async def test_retry_after_is_honoured(
    server: FaultServer, sleep: RecordingSleep, headers: dict[str, str], expected_wait: float
) -> None:
    server.script(rate_limited(**headers), ok())
    upstream = Upstream(settings_for(server, retry_after_cap_s=4), sleep=sleep)
    try:
        await call(upstream)
    finally:
        await upstream.aclose()
    assert sleep.waits == [pytest.approx(expected_wait)]
    assert server.calls == 2


def test_retry_after_as_an_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    waited = retry_after_seconds(httpx.Headers({"Retry-After": format_datetime(when, usegmt=True)}))
    assert waited is not None and 28 <= waited <= 30
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Headers({})) is None


async def test_backoff_without_a_hint_is_exponential_with_full_jitter(
    server: FaultServer, sleep: RecordingSleep
) -> None:
    server.script(*[server_error(500)] * 4)
    upstream = Upstream(settings_for(server, max_retries=3, breaker_failures=100), sleep=sleep)
    try:
        with pytest.raises(UpstreamUnavailable):
            await call(upstream)
    finally:
        await upstream.aclose()
    windows = [0.5 * 2**n for n in range(3)]  # 0.5, 1, 2 s: each wait is random in [0, window]
    assert len(sleep.waits) == 3
    assert all(0 <= wait <= window for wait, window in zip(sleep.waits, windows, strict=True))


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (400, "SUMMARIZER_STRUCTURED_MODE"),
        (401, "check OPENAI_API_KEY"),
        (403, "OPENAI_API_KEY"),
        (404, "check OPENAI_BASE_URL and SUMMARIZER_MODEL"),
        (422, "SUMMARIZER_STRUCTURED_MODE"),
    ],
)
async def test_a_rejection_is_not_retried_and_tells_the_operator_what_to_check(
    server: FaultServer, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture, status: int, hint: str
) -> None:
    server.script(server_error(status), ok())
    upstream = Upstream(settings_for(server, openai_api_key=SECRET_KEY), sleep=sleep)
    try:
        with (
            caplog.at_level(logging.INFO, logger="service.upstream"),
            pytest.raises(UpstreamRejected) as caught,
        ):
            await call(upstream)
    finally:
        await upstream.aclose()
    assert caught.value.status_code == status
    assert server.calls == 1
    assert sleep.waits == []
    assert f"upstream rejected the request: {status} — " in caplog.text
    assert hint in caplog.text
    assert SECRET_KEY not in caplog.text


async def test_a_slow_answer_times_out_per_call_and_is_retried(
    server: FaultServer, sleep: RecordingSleep
) -> None:
    server.script(slow(2.0, ok()), ok())
    upstream = Upstream(settings_for(server, timeout_s=0.3), sleep=sleep)
    try:
        tally = await call(upstream)
    finally:
        await upstream.aclose()
    assert server.calls == 2 and tally.attempts == 2


async def test_timeouts_that_persist_raise_upstream_timeout(
    server: FaultServer, sleep: RecordingSleep
) -> None:
    server.script(*[slow(2.0, ok())] * 3)
    upstream = Upstream(settings_for(server, timeout_s=0.2, max_retries=1, breaker_failures=100), sleep=sleep)
    try:
        with pytest.raises(UpstreamTimeout) as caught:
            await call(upstream)
    finally:
        await upstream.aclose()
    assert not isinstance(caught.value, DeadlineExceeded)
    assert server.calls == 2


class ClockedTransport(httpx.AsyncBaseTransport):
    """The real transport, recording each request's read timeout; a request that times out moves the injected
    clock on by that timeout, the time it took."""

    def __init__(self, clock: FakeClock) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._clock = clock
        self.read_timeouts: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        read = request.extensions["timeout"]["read"]
        self.read_timeouts.append(read)
        try:
            return await self._inner.handle_async_request(request)
        except httpx.TimeoutException:
            self._clock.now += read
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_the_deadline_bounds_a_slow_call(server: FaultServer, sleep: RecordingSleep) -> None:
    server.script(slow(3.0, ok()))
    clock = FakeClock()
    transport = ClockedTransport(clock)
    async with httpx.AsyncClient(transport=transport) as client:
        upstream = Upstream(settings_for(server, timeout_s=10), http_client=client, sleep=sleep, clock=clock)
        with pytest.raises(DeadlineExceeded) as caught:
            await upstream.chat(PARAMS, deadline=clock.now + 0.6, tally=Tally())
        await upstream.aclose()
    assert transport.read_timeouts == [
        0.6
    ]  # the time left before the deadline, not the 10 s per-call timeout
    assert sleep.waits == []  # no retry: no time was left for one
    assert server.calls == 1 and caught.value.attempts == 1


async def test_no_wait_starts_that_would_outlive_the_deadline(
    server: FaultServer, sleep: RecordingSleep
) -> None:
    server.script(rate_limited(retry_after="5"), ok())
    upstream = Upstream(settings_for(server, retry_after_cap_s=30), sleep=sleep)
    try:
        with pytest.raises(UpstreamRateLimited) as caught:
            await call(upstream, deadline_s=2.0)
    finally:
        await upstream.aclose()
    assert sleep.waits == []
    assert server.calls == 1
    assert caught.value.retry_after == 5


async def test_no_call_starts_after_the_deadline(server: FaultServer, sleep: RecordingSleep) -> None:
    upstream = Upstream(settings_for(server), sleep=sleep)
    try:
        with pytest.raises(DeadlineExceeded) as caught:
            await call(upstream, deadline_s=0.0)
    finally:
        await upstream.aclose()
    assert server.calls == 0 and caught.value.attempts == 0


async def test_attempts_and_usage_accumulate_in_the_callers_tally(
    server: FaultServer, sleep: RecordingSleep
) -> None:
    server.script(ok(10, 1), server_error(502), ok(20, 2))
    upstream = Upstream(settings_for(server), sleep=sleep)
    tally = Tally()
    try:
        await call(upstream, tally=tally)
        await call(upstream, tally=tally)
    finally:
        await upstream.aclose()
    assert (tally.attempts, tally.usage) == (3, Usage(30, 3))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_breaker_opens_fails_fast_then_half_opens(
    server: FaultServer, sleep: RecordingSleep
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=2, cooldown_s=30, clock=clock)
    upstream = Upstream(settings_for(server, max_retries=3), sleep=sleep, breaker=breaker)
    server.script(*[server_error(503)] * 10)
    try:
        with pytest.raises(UpstreamUnavailable) as first:
            await call(upstream)
        assert server.calls == 2  # the breaker opened on the 2nd failure and stopped the retries
        assert breaker.state is BreakerState.OPEN
        assert first.value.attempts == 2

        clock.now += 10
        with pytest.raises(UpstreamUnavailable) as fast:
            await call(upstream)
        assert server.calls == 2  # failed fast: no call
        assert fast.value.retry_after == pytest.approx(20)

        clock.now += 20
        server.clear()
        server.script(ok())
        await call(upstream)  # the half-open trial succeeds
        assert server.calls == 3
        assert breaker.state is BreakerState.CLOSED
    finally:
        await upstream.aclose()


async def test_rate_limits_and_rejections_do_not_trip_the_breaker(
    server: FaultServer, sleep: RecordingSleep
) -> None:
    breaker = CircuitBreaker(failures=2, cooldown_s=30)
    upstream = Upstream(settings_for(server, max_retries=3), sleep=sleep, breaker=breaker)
    server.script(rate_limited(), rate_limited(), rate_limited(), ok(), server_error(401))
    try:
        await call(upstream)
        with pytest.raises(UpstreamRejected):
            await call(upstream)
    finally:
        await upstream.aclose()
    assert breaker.state is BreakerState.CLOSED
    assert server.calls == 5


async def test_retries_are_logged_with_their_reason_and_never_the_prompt_or_key(
    server: FaultServer, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(server_error(502), rate_limited(retry_after="1"), reset(), ok())
    upstream = Upstream(settings_for(server, openai_api_key=SECRET_KEY), sleep=sleep)
    try:
        with caplog.at_level(logging.DEBUG):
            await call(upstream)
    finally:
        await upstream.aclose()
    messages = [r.getMessage() for r in caplog.records if r.name == "service.upstream"]
    assert any("retry 1/3 after HTTP 502" in m for m in messages)
    assert any("retry 2/3 after HTTP 429" in m and "server asked for 1.00 s" in m for m in messages)
    assert any("retry 3/3 after connection error" in m for m in messages)
    assert SECRET_KEY not in caplog.text
    assert "hello" not in "\n".join(messages)


async def test_the_key_is_sent_and_a_base_url_alone_needs_none(server: FaultServer) -> None:
    server.script(ok(), ok())
    with_key = Upstream(settings_for(server, openai_api_key=SECRET_KEY))
    without_key = Upstream(settings_for(server))
    try:
        await call(with_key)
        await call(without_key)
    finally:
        await with_key.aclose()
        await without_key.aclose()
    assert server.requests[0].headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert server.requests[1].headers["Authorization"] == "Bearer not-needed"


async def test_an_injected_http_client_is_used_and_left_open(server: FaultServer) -> None:
    server.script(ok(), ok())
    async with httpx.AsyncClient() as client:
        upstream = Upstream(settings_for(server), http_client=client)
        await call(upstream)
        await upstream.aclose()
        response = await client.get(server.base_url.replace("/v1", "/health"))  # still usable
    assert response.status_code == 404
    assert server.calls == 1


def test_what_counts_as_transient() -> None:
    assert not is_transient(ValueError("not an upstream error"))
