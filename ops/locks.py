"""Holding a job's lock while it runs: a heartbeat thread renews it; losing it (someone took it
over after it lapsed) tells the job to stop."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from types import TracebackType

import structlog

from store import Store

log = structlog.get_logger("ops.locks")


def holder_id() -> str:
    """This worker as a lock's holder: host, process and a random part (a restarted process with
    the same pid is someone else)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Heartbeat:
    """Renews (school, system)'s lock every third of its time to live while the job runs; sets
    ``lost`` when a renewal finds the lock is no longer ours."""

    def __init__(
        self, store: Store, school_id: str, system: str, *, holder: str, ttl: dt.timedelta
    ) -> None:
        self.store = store
        self.school_id = school_id
        self.system = system
        self.holder = holder
        self.ttl = ttl
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = max(self.ttl.total_seconds() / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                with self.store.begin() as tx:
                    kept = tx.jobs.renew(
                        self.school_id, self.system, holder=self.holder, ttl=self.ttl
                    )
            except Exception as exc:  # the store is away: try again at the next beat
                log.warning("lock renewal failed", error=type(exc).__name__)
                continue
            if not kept:
                log.error("lock lost", school_id=self.school_id, system=self.system)
                self.lost.set()
                return
