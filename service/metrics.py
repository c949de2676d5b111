"""Prometheus metrics, one `CollectorRegistry` per app (no global registry: two apps in one process, or a test
after another, never share counts).

The summarizer reports cache lookups, engine runs (upstream calls, tokens, repairs), fallbacks and the role it
played in a cross-replica single flight; the request middleware reports requests by route template and status
and their latency. `GET /metrics` serves `exposition()`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from service.engines.base import EngineResult
from service.errors import OutputError, SummarizerError, UpstreamError

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# Until `EngineResult` carries a repair count, the LLM engine's warning says how many turns it needed.
_REPAIR_WARNING = re.compile(r"needed (\d+) repair turn")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "http_requests", "HTTP requests served.", ["method", "route", "status"], registry=r
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "Time to serve an HTTP request.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.http_in_progress = Gauge("http_requests_in_progress", "HTTP requests being served.", registry=r)
        self.cache_lookups = Counter(
            "summarizer_cache_lookups", "Result cache lookups by outcome (hit, miss).", ["result"], registry=r
        )
        self.engine_runs = Counter(
            "summarizer_engine_runs",
            "Engine runs by engine and outcome (ok, or the error class).",
            ["engine", "outcome"],
            registry=r,
        )
        self.engine_latency = Histogram(
            "summarizer_engine_duration_seconds",
            "Time an engine took for one summary, repairs and retries included.",
            ["engine"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_calls = Counter(
            "summarizer_upstream_calls",
            "Upstream model calls (retries and repair turns included), by the outcome of their summary.",
            ["engine", "outcome"],
            registry=r,
        )
        self.repairs = Counter(
            "summarizer_repairs", "Repair turns that produced a valid summary.", registry=r
        )
        self.tokens = Counter(
            "summarizer_tokens",
            "Tokens by direction (in: prompt, out: completion).",
            ["direction"],
            registry=r,
        )
        self.fallbacks = Counter(
            "summarizer_fallbacks",
            "Summaries answered by the fallback engine, by reason.",
            ["reason"],
            registry=r,
        )
        self.shared_flight = Counter(
            "summarizer_shared_flight",
            "Computations coordinated across replicas by role (leader, follower, took_over, unshared).",
            ["role"],
            registry=r,
        )
        self.slack_signature_failures = Counter(
            "slack_signature_failures",
            "Requests to /slack/events refused for a bad or stale signature.",
            registry=r,
        )
        self.slack_repeats = Counter(
            "slack_repeats_dropped",
            "Slack interactions received again (a replay, or Slack's retry) and dropped.",
            registry=r,
        )
        # The labelled series of each (method, route template, status) seen: `labels()` validates its
        # arguments and takes a lock on every call, a cost on every request. Route templates are few and
        # methods and statuses are bounded by what the series themselves already keep.
        self._http_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    # --- the summarizer -------------------------------------------------------------------------------

    def cache_lookup(self, hit: bool) -> None:
        self.cache_lookups.labels("hit" if hit else "miss").inc()

    def engine_run(
        self, engine: str, seconds: float, outcome: EngineResult | None, error: BaseException | None = None
    ) -> None:
        """One engine call: its result, or the error it raised (attempts and usage come from either)."""
        self.engine_latency.labels(engine).observe(seconds)
        label = "ok" if outcome is not None else type(error).__name__
        self.engine_runs.labels(engine, label).inc()
        if outcome is not None:
            attempts, usage = outcome.attempts, outcome.usage
            self.repairs.inc(_repairs(outcome))
        elif isinstance(error, UpstreamError | OutputError):
            attempts, usage = error.attempts, error.usage
        else:
            return
        if engine == "llm" and attempts:
            self.upstream_calls.labels(engine, label).inc(attempts)
        self.tokens.labels("in").inc(usage.prompt_tokens)
        self.tokens.labels("out").inc(usage.completion_tokens)

    def fallback(self, error: SummarizerError) -> None:
        self.fallbacks.labels(type(error).__name__).inc()

    def flight(self, role: str) -> None:
        self.shared_flight.labels(role).inc()

    def track_inflight(self, count: Callable[[], int]) -> None:
        Gauge(
            "summarizer_inflight", "Summaries being computed in this process.", registry=self.registry
        ).set_function(lambda: float(count()))

    # --- Slack ----------------------------------------------------------------------------------------

    def slack_signature_failure(self) -> None:
        self.slack_signature_failures.inc()

    def slack_repeat(self) -> None:
        self.slack_repeats.inc()

    # --- HTTP -----------------------------------------------------------------------------------------

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        children = self._http_children.get((method, route, status))
        if children is None:
            children = (
                self.http_requests.labels(method, route, str(status)),
                self.http_latency.labels(method, route),
            )
            self._http_children[(method, route, status)] = children
        requests, latency = children
        requests.inc()
        latency.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _repairs(outcome: EngineResult) -> int:
    explicit = getattr(outcome, "repairs", None)
    if isinstance(explicit, int):
        return explicit
    for warning in outcome.warnings:
        found = _REPAIR_WARNING.search(warning)
        if found:
            return int(found.group(1))
    return 0
