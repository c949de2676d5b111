"""Each Slack interaction handled once: a replayed request, or Slack's own retry of an event, is acknowledged
and dropped.

Slack retries an event it got no timely answer for (with `X-Slack-Retry-Num`), and a signed request can be
sent again within the 5 minutes its timestamp is valid. Every interaction carries an id that stays the same
across both: `trigger_id` (slash commands, shortcuts) or `event_id` (Events API). The ids seen in the last
`ttl_s` are kept in memory, per process, and, when the cache is shared by replicas (Redis), in two locks of
that cache: a short one while the interaction is being handled (`HANDLING_TTL_S`), then, once it was handled,
one that nobody releases (it expires after `ttl_s`). A repeat that reaches another replica is dropped too; one
whose first delivery failed (an error, or a replica that died while handling it: its short lock expires before
Slack's first retry, a minute later) is handled again. A cache outage is not a reason to drop a request: it is
then handled (and logged).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from service.cache.shared_flight import SharedLock, SharedLocks
from service.errors import CacheUnavailable

log = logging.getLogger(__name__)

_TTL_S = 600.0  # twice the 5 minutes a signed request is valid
HANDLING_TTL_S = 30.0  # Slack wants an answer within 3 s and retries after about a minute
_MAX_KEYS = 50_000


def interaction_id(body: Mapping[str, Any]) -> str | None:
    """The id that a replay or retry of this request shares with it, if it has one."""
    for name in ("event_id", "trigger_id"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    return None


class SeenInteractions:
    def __init__(
        self,
        *,
        shared: SharedLocks | None = None,
        ttl_s: float = _TTL_S,
        handling_ttl_s: float = HANDLING_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.handling_ttl_s = handling_ttl_s
        self._shared = shared
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._handling: dict[str, SharedLock] = {}

    async def first_time(self, key: str) -> bool:
        """True the first time `key` is seen within `ttl_s` (here, and by any replica sharing the cache);
        False for a repeat. After True, `done(key, handled=…)` says how the handling went."""
        now = self._clock()
        while self._seen and (
            next(iter(self._seen.values())) <= now - self.ttl_s or len(self._seen) > _MAX_KEYS
        ):
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        if self._shared is None:
            return True
        try:
            if await self._shared.lock(f"slack-seen:{key}", self.ttl_s).held():
                return False  # handled by another replica
            handling = self._shared.lock(f"slack-handling:{key}", self.handling_ttl_s)
            if not await handling.acquire():
                return False  # being handled by another replica
        except CacheUnavailable as error:
            log.warning("slack: cannot check for repeats across replicas: %s", error.message)
            return True
        self._handling[key] = handling
        return True

    async def done(self, key: str, *, handled: bool) -> None:
        """The interaction `first_time` let through was handled (its repeats are dropped for `ttl_s`), or its
        handling failed (a repeat is handled again)."""
        handling = self._handling.pop(key, None)
        if not handled:
            self._seen.pop(key, None)
        if self._shared is None or handling is None:
            return
        try:
            if handled:
                await self._shared.lock(f"slack-seen:{key}", self.ttl_s).acquire()
            await handling.release()
        except CacheUnavailable as error:
            log.warning("slack: cannot record a handled interaction across replicas: %s", error.message)
