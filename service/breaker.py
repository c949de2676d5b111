"""Circuit breakers: `Breaker`, the state machine, and `CircuitBreaker`, the upstream model's.

After `failures` consecutive failed upstream calls the breaker opens: every call fails fast with
`UpstreamUnavailable(retry_after=<remaining cool-down>)` for `cooldown_s` seconds. Then it is half-open: one
trial call goes through (others still fail fast); its success closes the breaker, its failure opens it again.

One breaker is shared by every request of a process (the engine owns it). It is used from one event loop and
never awaits, so it needs no lock. The clock is injected so tests can move time. `Breaker` alone (no
exceptions, no logs) also guards Redis (`service.cache.redis_guard`).
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

from service.config import Settings
from service.errors import UpstreamUnavailable

logger = logging.getLogger("service.upstream")

# How long a caller is told to wait while another request's trial call decides the breaker's state.
_TRIAL_RETRY_AFTER_S = 1.0


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker:
    """Closed; open for `cooldown_s` after `failures` consecutive failures (or a failed trial); then half-open,
    when one caller at a time may make the trial call. It only keeps state: callers raise and log."""

    def __init__(self, *, failures: int, cooldown_s: float, clock: Callable[[], float]) -> None:
        self.threshold = failures
        self.cooldown_s = cooldown_s
        self._clock = clock
        self.consecutive_failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.cooldown_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    @property
    def opened(self) -> bool:
        """Open or half-open: not closed."""
        return self._opened_at is not None

    def remaining_cooldown(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown_s - (self._clock() - self._opened_at))

    def take_trial(self) -> bool:
        """Half-open: True when the caller is the trial, False while another caller's trial is in flight."""
        if self._trial_in_flight:
            return False
        self._trial_in_flight = True
        return True

    def succeeded(self, trial: bool) -> bool:
        """A call succeeded: closed again. True when it was open until now."""
        was_open = self._opened_at is not None
        self.consecutive_failures = 0
        self._opened_at = None
        if trial:
            self._trial_in_flight = False
        return was_open

    def failed(self, trial: bool) -> bool:
        """A call failed. True when this failure opened the breaker (the threshold reached, or the trial)."""
        self.consecutive_failures += 1
        if trial:
            self._trial_in_flight = False
        if trial or (self._opened_at is None and self.consecutive_failures >= self.threshold):
            self._opened_at = self._clock()
            return True
        return False

    def release(self, trial: bool) -> None:
        """The call ended without a verdict (it was cancelled): let another caller make the trial."""
        if trial:
            self._trial_in_flight = False


class CircuitBreaker:
    def __init__(
        self, *, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1 or cooldown_s <= 0:
            raise ValueError("a circuit breaker needs failures >= 1 and cooldown_s > 0")
        self._breaker = Breaker(failures=failures, cooldown_s=cooldown_s, clock=clock)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> CircuitBreaker:
        return cls(failures=settings.breaker_failures, cooldown_s=settings.breaker_cooldown_s, clock=clock)

    @property
    def state(self) -> BreakerState:
        return self._breaker.state

    def remaining_cooldown(self) -> float:
        return self._breaker.remaining_cooldown()

    def acquire(self) -> bool:
        """Call before each upstream call: returns when the call may go, raises when it must fail fast.

        Returns True when the call is the half-open trial. Every `acquire` that returns must be followed by
        exactly one of `record_success`, `record_failure` or `release`, given that value back.
        """
        state = self._breaker.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.OPEN:
            remaining = self.remaining_cooldown()
            raise UpstreamUnavailable(
                f"the upstream model is failing; circuit breaker open for another {remaining:.1f} s",
                retry_after=remaining,
            )
        if not self._breaker.take_trial():
            raise UpstreamUnavailable(
                "the upstream model is failing; circuit breaker half-open, a trial call is in flight",
                retry_after=_TRIAL_RETRY_AFTER_S,
            )
        logger.info("circuit breaker half-open: letting one trial call through")
        return True

    def record_success(self, trial: bool) -> None:
        """The upstream answered (any answer that is not a server failure proves it is up)."""
        if self._breaker.succeeded(trial):
            logger.info("circuit breaker closed: the upstream answered again")

    def record_failure(self, trial: bool) -> None:
        if self._breaker.failed(trial):
            logger.warning(
                "circuit breaker open for %.1f s after %d consecutive upstream failures",
                self._breaker.cooldown_s,
                self._breaker.consecutive_failures,
            )

    def release(self, trial: bool) -> None:
        """The call ended without a verdict (it was cancelled): let another caller make the trial."""
        self._breaker.release(trial)
