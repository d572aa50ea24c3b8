"""A token bucket per access token: ``rate`` requests a second sustained, ``burst`` at once.

Kept in the server process (one uvicorn process serves the API; with several, each keeps its own
buckets and the effective rate is that many times higher).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[int, tuple[float, float]] = {}  # key → (tokens, at)

    def take(self, key: int, rate: float, burst: int) -> float | None:
        """Take one request's token: ``None`` when allowed, else the seconds until one is."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate
