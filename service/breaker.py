"""A circuit breaker for the upstream model.

After `failures` consecutive failed upstream calls the breaker opens: every call fails fast with
`UpstreamUnavailable(retry_after=<remaining cool-down>)` for `cooldown_s` seconds. Then it is half-open: one
trial call goes through (others still fail fast); its success closes the breaker, its failure opens it again.

One breaker is shared by every request of a process (the engine owns it). It is used from one event loop and
never awaits, so it needs no lock. The clock is injected so tests can move time.
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


class CircuitBreaker:
    def __init__(
        self, *, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1 or cooldown_s <= 0:
            raise ValueError("a circuit breaker needs failures >= 1 and cooldown_s > 0")
        self._threshold = failures
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._consecutive_failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> CircuitBreaker:
        return cls(failures=settings.breaker_failures, cooldown_s=settings.breaker_cooldown_s, clock=clock)

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self._cooldown_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def remaining_cooldown(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._cooldown_s - (self._clock() - self._opened_at))

    def acquire(self) -> bool:
        """Call before each upstream call: returns when the call may go, raises when it must fail fast.

        Returns True when the call is the half-open trial. Every `acquire` that returns must be followed by
        exactly one of `record_success`, `record_failure` or `release`, given that value back.
        """
        state = self.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.OPEN:
            remaining = self.remaining_cooldown()
            raise UpstreamUnavailable(
                f"the upstream model is failing; circuit breaker open for another {remaining:.1f} s",
                retry_after=remaining,
            )
        if self._trial_in_flight:
            raise UpstreamUnavailable(
                "the upstream model is failing; circuit breaker half-open, a trial call is in flight",
                retry_after=_TRIAL_RETRY_AFTER_S,
            )
        self._trial_in_flight = True
        logger.info("circuit breaker half-open: letting one trial call through")
        return True

    def record_success(self, trial: bool) -> None:
        """The upstream answered (any answer that is not a server failure proves it is up)."""
        if self._opened_at is not None:
            logger.info("circuit breaker closed: the upstream answered again")
        self._consecutive_failures = 0
        self._opened_at = None
        if trial:
            self._trial_in_flight = False

    def record_failure(self, trial: bool) -> None:
        self._consecutive_failures += 1
        if trial:
            self._trial_in_flight = False
        if trial or (self._opened_at is None and self._consecutive_failures >= self._threshold):
            self._opened_at = self._clock()
            logger.warning(
                "circuit breaker open for %.1f s after %d consecutive upstream failures",
                self._cooldown_s,
                self._consecutive_failures,
            )

    def release(self, trial: bool) -> None:
        """The call ended without a verdict (it was cancelled): let another caller make the trial."""
        if trial:
            self._trial_in_flight = False
