"""A chain of model deployments (`SUMMARIZER_FALLBACK_MODELS`): the primary, then each fallback in order.

Each deployment is an `LLMEngine` with its own settings copy, so its own client, retry policy and circuit
breaker. A deployment whose breaker is open fails fast without a call: that is its cooldown (LiteLLM's word)
after `SUMMARIZER_BREAKER_FAILURES` consecutive failures, for `SUMMARIZER_BREAKER_COOLDOWN_S`.

The chain moves on only after a failure another deployment may not share: a rate limit (or a spent quota),
an unavailable upstream (5xx, connection error, open breaker), a timeout. It stops at a deadline passed, a
rejection (400/401/404/422: our request is wrong) and an answer that failed validation or was refused (the
article and prompt are the same for every model; another model's repair turns would double the cost).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from service.article import Article
from service.config import Settings, split_deployment
from service.engines.base import EngineResult, Judge
from service.engines.llm import LLMEngine
from service.errors import (
    DeadlineExceeded,
    OutputError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
    Usage,
    with_cost,
)
from service.prompts import Prompts
from service.upstream import Clock

logger = logging.getLogger("service.upstream")


def moves_on(error: UpstreamError | OutputError) -> bool:
    """A failure after which the next deployment is tried."""
    if isinstance(error, DeadlineExceeded):
        return False
    return isinstance(error, UpstreamRateLimited | UpstreamUnavailable | UpstreamTimeout)


class ModelChain:
    """Satisfies `service.engines.base.Engine`: the first deployment that answers, in order."""

    name = "llm"

    def __init__(
        self,
        settings: Settings,
        prompts: Prompts,
        *,
        deployments: Sequence[tuple[str, LLMEngine]] | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._settings = settings
        self._clock = clock
        if deployments is None:
            deployments = [(settings.model, LLMEngine(settings, prompts))]
            for entry in settings.fallback_models:
                url, model = split_deployment(entry)
                update: dict[str, object] = {"model": model, "fallback_models": ()}
                if url is not None:
                    update["openai_base_url"] = url
                label = f"{url}#{model}" if url is not None else model
                deployments.append((label, LLMEngine(settings.model_copy(update=update), prompts)))
        self.deployments = tuple(deployments)
        primary = self.deployments[0][1]
        # the cache key stays the primary's: the chain is one configuration, whichever deployment answers
        self.model = primary.model
        self.endpoint = primary.endpoint

    async def check_ready(self) -> None:
        for _, engine in self.deployments:
            await engine.check_ready()

    async def aclose(self) -> None:
        failure: BaseException | None = None
        for _, engine in self.deployments:
            try:
                await engine.aclose()
            except Exception as e:  # close the others all the same
                failure = failure or e
        if failure is not None:
            raise failure

    async def summarize(
        self, article: Article, *, deadline_s: float | None = None, judge: Judge | None = None
    ) -> EngineResult:
        deadline = self._clock() + (self._settings.deadline_s if deadline_s is None else deadline_s)
        attempts, usage = 0, Usage()
        failed: list[str] = []
        for index, (label, engine) in enumerate(self.deployments):
            try:
                result = await engine.summarize(
                    article, deadline_s=max(0.0, deadline - self._clock()), judge=judge
                )
            except (UpstreamError, OutputError) as error:
                attempts, usage = attempts + error.attempts, usage + error.usage
                last = index == len(self.deployments) - 1
                if last or not moves_on(error):
                    # the error the client sees counts every deployment tried
                    raise with_cost(error, attempts, usage) from error
                logger.warning(
                    "model chain: deployment %s failed (%s); trying %s",
                    label,
                    type(error).__name__,
                    self.deployments[index + 1][0],
                )
                failed.append(f"deployment {label} failed ({type(error).__name__}: {error.message})")
                continue
            if not failed:
                return result
            served = result.served_by or engine.model
            if engine.endpoint != self.endpoint:
                served = f"{engine.endpoint}#{served}"
            return replace(
                result,
                attempts=attempts + result.attempts,
                usage=usage + result.usage,
                warnings=(*failed, f"answered by deployment {label}", *result.warnings),
                served_by=served,
            )
        raise AssertionError("unreachable: the last deployment returns or raises")  # pragma: no cover
