"""The circuit breaker: opens after N consecutive failures, fails fast for the cool-down, then lets one trial
call through (half-open); its verdict closes or re-opens it. Time is a fake clock."""

from __future__ import annotations

import pytest

from service.breaker import BreakerState, CircuitBreaker
from service.config import Settings
from service.errors import UpstreamUnavailable


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.record_failure(breaker.acquire())


def test_stays_closed_below_the_threshold_and_a_success_resets_the_count(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failures=3, cooldown_s=10, clock=clock)
    fail(breaker, 2)
    breaker.record_success(breaker.acquire())
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.acquire() is False


def test_opens_after_consecutive_failures_and_fails_fast_with_the_remaining_cooldown(
    clock: FakeClock,
) -> None:
    breaker = CircuitBreaker(failures=3, cooldown_s=10, clock=clock)
    fail(breaker, 3)
    assert breaker.state is BreakerState.OPEN
    clock.now += 4
    with pytest.raises(UpstreamUnavailable) as caught:
        breaker.acquire()
    assert caught.value.retry_after == pytest.approx(6)
    assert "circuit breaker open" in caught.value.message


def test_half_open_lets_exactly_one_trial_through_and_its_success_closes(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failures=2, cooldown_s=5, clock=clock)
    fail(breaker, 2)
    clock.now += 5
    assert breaker.state is BreakerState.HALF_OPEN
    trial = breaker.acquire()
    assert trial is True
    with pytest.raises(UpstreamUnavailable):  # a second caller while the trial is in flight
        breaker.acquire()
    breaker.record_success(trial)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.acquire() is False


def test_a_failed_trial_opens_the_breaker_for_a_whole_new_cooldown(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failures=2, cooldown_s=5, clock=clock)
    fail(breaker, 2)
    clock.now += 6
    breaker.record_failure(breaker.acquire())
    assert breaker.state is BreakerState.OPEN
    assert breaker.remaining_cooldown() == pytest.approx(5)
    clock.now += 5
    assert breaker.state is BreakerState.HALF_OPEN


def test_a_cancelled_trial_lets_the_next_caller_try(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failures=1, cooldown_s=1, clock=clock)
    fail(breaker, 1)
    clock.now += 1
    breaker.release(breaker.acquire())
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.acquire() is True


def test_a_late_failure_of_an_ordinary_call_does_not_free_the_trial_slot(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failures=1, cooldown_s=1, clock=clock)
    started_before_opening = breaker.acquire()
    fail(breaker, 1)
    clock.now += 1
    breaker.acquire()  # the trial
    breaker.record_failure(started_before_opening)
    with pytest.raises(UpstreamUnavailable):
        breaker.acquire()


def test_built_from_settings(clock: FakeClock) -> None:
    breaker = CircuitBreaker.from_settings(
        Settings(breaker_failures=2, breaker_cooldown_s=7, cache_url="memory://"), clock=clock
    )
    fail(breaker, 2)
    assert breaker.remaining_cooldown() == pytest.approx(7)


def test_rejects_a_nonsense_configuration() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failures=0, cooldown_s=1)
