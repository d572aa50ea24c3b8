"""The scheduler: puts jobs on the queue when their time comes, when a school's outbox has
pushes due (soon after a local write), and again when their worker died.

Many workers may run it; one leads at a time — the holder of the ``~/scheduler`` lock in the
store, renewed like a job's — so a tick enqueues each job once for the whole region. Enqueuing
goes through the store (:meth:`store.jobs.JobsRepo.enqueue`): a job that waits or runs already is
not queued again, so a slow job never piles up behind itself.

The *reaper* (each pass of the leader): locks whose holder stopped renewing them are dropped;
a job left ``running`` without a lock (its worker died) or ``waiting`` unchanged for
``stale_after_seconds`` (its message was lost) is sent to the queue again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from ops.schedule import JobSchedule, ScheduleSettings
from ops.worker import Send
from store import JobKey, Store
from store.types import utcnow

log = structlog.get_logger("ops.scheduler")

LEADER = ("~", "scheduler")


@dataclass
class Scheduler:
    store: Store
    send: Send
    settings: ScheduleSettings
    schedules: dict[JobKey, JobSchedule]
    holder: str
    #: seconds between passes
    interval: float = 0.5
    clock: Callable[[], dt.datetime] = utcnow
    _next: dict[JobKey, dt.datetime | None] = field(default_factory=dict)
    _last_poll: dt.datetime | None = None
    _last_reap: dt.datetime | None = None
    leading: bool = False

    def __post_init__(self) -> None:
        now = self.clock()
        self._next = {key: s.next_run(now) for key, s in self.schedules.items()}

    # -- one pass ----------------------------------------------------------------------------
    def enqueue(self, key: JobKey, reason: str, at: dt.datetime | None = None) -> str | None:
        """Queue the job unless it waits or runs already; its ticket, or ``None``."""
        with self.store.begin() as tx:
            ticket = tx.jobs.enqueue(key, reason=reason, not_before=at)
        if ticket is not None:
            self.send(key, ticket, at)
            log.info("job queued", job=str(key), reason=reason)
        return ticket

    def tick(self, now: dt.datetime) -> list[JobKey]:
        """Queue every job whose time has come; their next times computed from ``now``."""
        due = [k for k, at in self._next.items() if at is not None and at <= now]
        queued = []
        for key in sorted(due):
            if self.enqueue(key, "schedule") is not None:
                queued.append(key)
            self._next[key] = self.schedules[key].next_run(now)
        return queued

    def poll_outbox(self, now: dt.datetime) -> list[JobKey]:
        """Queue the push of every (school, system) with pushes due."""
        with self.store.read() as tx:
            due = tx.queries.pushes_due(now)
        queued = []
        for (school_id, system), _n in sorted(due.items()):
            key = JobKey(school_id, system, "push")
            if key in self.schedules and self.enqueue(key, "outbox") is not None:
                queued.append(key)
        return queued

    def reap(self, now: dt.datetime) -> list[JobKey]:
        """Drop lapsed locks; send again the jobs no worker runs (see the module docstring)."""
        grace = dt.timedelta(seconds=self.settings.lock_ttl_seconds)
        stale = dt.timedelta(seconds=self.settings.stale_after_seconds)
        sent: list[tuple[JobKey, str, dt.datetime | None]] = []
        with self.store.begin() as tx:
            for lock in tx.jobs.expired(now):
                if (lock.school_id, lock.system) == LEADER:
                    continue
                if tx.jobs.drop_expired(lock):
                    log.warning(
                        "lock lapsed: its worker stopped",
                        school_id=lock.school_id, system=lock.system, holder=lock.holder,
                    )  # fmt: skip
            for job in tx.jobs.orphans(running_before=now - grace, waiting_before=now - stale):
                ticket = tx.jobs.requeue(job, reason="recovered", now=now)
                if ticket is not None:
                    at = job.not_before if job.not_before and job.not_before > now else None
                    sent.append((job.key, ticket, at))
        for key, ticket, at in sent:
            log.warning("job sent again: its worker or message was lost", job=str(key))
            self.send(key, ticket, at)
        return [k for k, _, _ in sent]

    def lead(self, now: dt.datetime) -> bool:
        """Take or keep the leader's lock."""
        ttl = dt.timedelta(seconds=self.settings.lock_ttl_seconds)
        with self.store.begin() as tx:
            got = tx.jobs.acquire(*LEADER, holder=self.holder, direction="-", ttl=ttl, now=now)
        if got and not self.leading:
            log.info("scheduler leads")
            # times computed while another led: from now on this one keeps them
            self._next = {key: s.next_run(now) for key, s in self.schedules.items()}
        self.leading = got
        return got

    def step(self, now: dt.datetime | None = None) -> None:
        now = now or self.clock()
        if not self.lead(now):
            return
        self.tick(now)
        poll = dt.timedelta(seconds=self.settings.outbox_poll_seconds)
        if self._last_poll is None or now - self._last_poll >= poll:
            self._last_poll = now
            self.poll_outbox(now)
        if self._last_reap is None or now - self._last_reap >= min(poll, dt.timedelta(seconds=5)):
            self._last_reap = now
            self.reap(now)

    def next_times(self) -> dict[JobKey, dt.datetime | None]:
        return dict(self._next)

    # -- the loop ----------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.step()
            except Exception as exc:  # the store is away: the next pass tries again
                log.error("scheduler pass failed", error=f"{type(exc).__name__}: {exc}")
            stop.wait(self.interval)
        if self.leading:
            with self.store.begin() as tx:
                tx.jobs.release(*LEADER, holder=self.holder)


def schedule_map(
    keys: Sequence[JobKey], make: Callable[[JobKey], JobSchedule]
) -> dict[JobKey, JobSchedule]:
    return {key: make(key) for key in keys}
