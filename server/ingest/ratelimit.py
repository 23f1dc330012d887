"""Per-client token buckets for /api/event.

The limit guards one process against floods; with N processes behind a balancer a client gets
at most N times the limit, which is what a flood guard needs and costs no database round trip.
"""

from __future__ import annotations

import math
import time


class RateLimiter:
    def __init__(self, rate: float, burst: float):
        self.rate = rate
        self.burst = max(burst, rate, 1.0)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._last_sweep = time.monotonic()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def check(self, client: str) -> float:
        """0 when allowed, else the seconds to wait before the next event is allowed."""
        now = time.monotonic()
        tokens, stamp = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens - 1.0, now)
        if now - self._last_sweep > 60:
            self._sweep(now)
        return 0.0

    def retry_after(self, wait: float) -> int:
        return max(1, math.ceil(wait))

    def _sweep(self, now: float) -> None:
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        self._last_sweep = now
