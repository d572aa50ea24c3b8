"""Running one job from the queue (:class:`Executor`): its ticket checked, its system's blackout
respected, its school × system lock held with a heartbeat, and its outcome recorded — done, a
retry after a backoff, or back on the queue when the worker is stopping.

Whatever happens to the worker, the store says what is left: a job whose worker died keeps its
row (``running``) and its lock lapses; the scheduler's reaper (:mod:`ops.scheduler`) puts it
back on the queue for another worker.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from ops.locks import Heartbeat
from ops.schedule import JobSchedule, ScheduleSettings
from store import JobKey, Store
from store.types import utcnow
from sync.runs import RunReport

log = structlog.get_logger("ops.worker")


class Interrupted(Exception):
    """Raised inside a running job (between pages) when it must stop: the worker is shutting
    down, or its lock was lost. What was committed stays; the next run does the rest."""


#: runs one job: pull or push of a school's system; ``check()`` raises :class:`Interrupted`
#: when the job must stop (the runner calls it between pages)
RunJob = Callable[[JobKey, Callable[[], None]], RunReport]
Send = Callable[[JobKey, str, dt.datetime | None], None]

#: how long a job whose lock is taken waits before it tries again
BUSY_DELAY = dt.timedelta(seconds=2)


@dataclass
class Outcome:
    """What became of one message (for logs and tests)."""

    key: JobKey
    result: str  # stale | deferred | busy | done | retry | gave-up | interrupted
    run_status: str | None = None


class Executor:
    """Runs the queue's messages. ``stopping`` is set when the worker shuts down (SIGTERM):
    a running pull stops at its next page (its checkpoint kept) and goes back on the queue; a
    push finishes."""

    def __init__(
        self,
        store: Store,
        run: RunJob,
        send: Send,
        settings: ScheduleSettings,
        schedules: Callable[[JobKey], JobSchedule | None],
        *,
        holder: str,
        stopping: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.run = run
        self.send = send
        self.settings = settings
        self.schedules = schedules
        self.holder = holder
        self.stopping = stopping or threading.Event()
        self.ttl = dt.timedelta(seconds=settings.lock_ttl_seconds)

    def __call__(self, key: JobKey, ticket: str) -> Outcome:
        now = utcnow()
        holder = f"{self.holder}:{uuid.uuid4().hex[:6]}"  # this execution, not the process
        with self.store.begin() as tx:
            job = tx.jobs.start(key, ticket, now)
            if job is None:
                return Outcome(key, "stale")  # a duplicate, or made stale by a requeue
            schedule = self.schedules(key)
            until = schedule.blocked_until(now) if schedule else None
            if until is not None:
                new = tx.jobs.retry(
                    key, ticket, not_before=until, error=None, count_attempt=False,
                    reason="blackout",
                )  # fmt: skip
            elif not tx.jobs.acquire(
                key.school_id, key.system, holder=holder, direction=key.direction,
                ttl=self.ttl, now=now,
            ):  # fmt: skip
                tx.jobs.back(key, ticket, now)
                until, new = now + BUSY_DELAY, ticket
            else:
                new = None
        if until is not None:
            assert new is not None
            self.send(key, new, until)
            log.info("job waits", job=str(key), until=until.isoformat())
            return Outcome(key, "busy" if new == ticket else "deferred")
        return self._run(key, ticket, job.attempts, holder)

    def _run(self, key: JobKey, ticket: str, attempts: int, holder: str) -> Outcome:
        beat = Heartbeat(self.store, key.school_id, key.system, holder=holder, ttl=self.ttl)
        stop_pull = key.direction == "pull"
        raised: list[str] = []

        def check() -> None:
            if beat.lost.is_set():
                raised.append("lost")
                raise Interrupted("the job's lock was lost")
            if stop_pull and self.stopping.is_set():
                raised.append("stopping")
                raise Interrupted("the worker is shutting down")

        log.info("job starts", job=str(key), attempt=attempts + 1, holder=holder)
        report: RunReport | None = None
        error: str | None = None
        try:
            with beat:
                report = self.run(key, check)
        except Interrupted as exc:  # the run recorded it (failed, its checkpoint kept)
            error = f"Interrupted: {exc}"
        except Exception as exc:  # a fault before the run was recorded (setup, store)
            error = f"{type(exc).__name__}: {exc}"
            log.error("job failed", job=str(key), error=error)
        if report is not None and report.status == "failed":
            error = report.error or "failed"
        interrupted = error is not None and bool(raised)
        return self._record(
            key, ticket, attempts, holder, report, error, interrupted, beat.lost.is_set()
        )

    def _record(
        self,
        key: JobKey,
        ticket: str,
        attempts: int,
        holder: str,
        report: RunReport | None,
        error: str | None,
        interrupted: bool,
        lost: bool,
    ) -> Outcome:
        status = report.status if report else None
        now = utcnow()
        new: str | None = None
        at: dt.datetime | None = None
        with self.store.begin() as tx:
            if lost:
                # someone else holds the lock: the job is theirs to requeue; leave the row
                result = "interrupted"
            elif interrupted:
                new = tx.jobs.retry(
                    key, ticket, not_before=now, error=error, count_attempt=False,
                    reason="interrupted",
                )  # fmt: skip
                result = "interrupted"
            elif error is not None and attempts < self.settings.retries:
                at = now + self.settings.backoff(attempts + 1)
                new = tx.jobs.retry(key, ticket, not_before=at, error=error)
                result = "retry"
            else:
                tx.jobs.finish(key, ticket)
                result = "done" if error is None else "gave-up"
            tx.jobs.release(key.school_id, key.system, holder=holder)
        if new is not None:
            self.send(key, new, at)
        log.info("job ends", job=str(key), result=result, status=status)
        return Outcome(key, result, status)
