"""Bearer tokens with a single-flight refresh.

Concurrent requests that all got 401 with the same stale token share one refresh: a refresh runs
only when the current token is still the one the caller saw refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class TokenManager:
    def __init__(self, fetch: Callable[[], str]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._token: str | None = None
        self.refreshes = 0  # tokens fetched so far (observability and tests)

    def current(self) -> str:
        with self._lock:
            if self._token is None:
                self._token = self._fetch()
                self.refreshes += 1
            return self._token

    def refresh(self, stale: str) -> str:
        """A fresh token, fetched only if ``stale`` is still the current one."""
        with self._lock:
            if self._token is None or self._token == stale:
                self._token = None
                self._token = self._fetch()
                self.refreshes += 1
            return self._token

    def forget(self) -> None:
        with self._lock:
            self._token = None
