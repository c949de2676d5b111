"""Each Slack interaction handled once: a replayed request, or Slack's own retry of an event, is acknowledged
and dropped.

Slack retries an event it got no timely answer for (with `X-Slack-Retry-Num`), and a signed request can be
sent again within the 5 minutes its timestamp is valid. Every interaction carries an id that stays the same
across both: `trigger_id` (slash commands, shortcuts) or `event_id` (Events API). The ids seen in the last
`ttl_s` are kept in memory, per process: with several replicas, a retry that reaches another replica is not
caught (Slack's retries are rare: it sends one only when the first delivery got no answer in 3 s).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

_TTL_S = 600.0  # twice the 5 minutes a signed request is valid
_MAX_KEYS = 50_000


def interaction_id(body: Mapping[str, Any]) -> str | None:
    """The id that a replay or retry of this request shares with it, if it has one."""
    for name in ("event_id", "trigger_id"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    return None


class SeenInteractions:
    def __init__(self, *, ttl_s: float = _TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen within `ttl_s`; False for a repeat."""
        now = self._clock()
        while self._seen and (
            next(iter(self._seen.values())) <= now - self.ttl_s or len(self._seen) > _MAX_KEYS
        ):
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True
