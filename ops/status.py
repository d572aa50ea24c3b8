"""What monitoring asks per school × system: the last run of each direction with its outcome and
counts, the next scheduled times, the jobs queued or running (and who runs them), open conflicts,
holds and pushes that failed or wait. Built from one read of the store (:func:`gather`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ops.schedule import JobSchedule
from store import JobKey, Run, Tx

#: conflict-queue statuses that wait for a person
OPEN_CONFLICTS = ("open", "waiting")


@dataclass(frozen=True)
class LastRun:
    run_id: int
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    #: outcome → count, over all entities
    counts: dict[str, int]
    error: str | None

    @classmethod
    def of(cls, run: Run) -> LastRun:
        totals: dict[str, int] = {}
        for row in run.counts.values():
            for outcome, n in row.items():
                totals[outcome] = totals.get(outcome, 0) + int(n)
        return cls(run.id, run.status, run.started_at, run.finished_at, totals, run.error)


@dataclass(frozen=True)
class QueueState:
    direction: str
    state: str  # waiting | running
    reason: str
    attempts: int
    not_before: dt.datetime | None
    last_error: str | None


@dataclass
class SystemStatus:
    school_id: str
    system: str
    last: dict[str, LastRun] = field(default_factory=dict)
    next: dict[str, dt.datetime | None] = field(default_factory=dict)
    queued: list[QueueState] = field(default_factory=list)
    #: the worker running a job of this school × system now (its lock's holder)
    running: str | None = None
    running_direction: str | None = None
    conflicts: int = 0
    holds: int = 0
    pushes_pending: int = 0
    pushes_failed: int = 0

    def as_json(self) -> dict[str, Any]:
        def enc(v: Any) -> Any:
            if isinstance(v, dt.datetime):
                return v.astimezone(dt.UTC).isoformat()
            if isinstance(v, dict):
                return {k: enc(x) for k, x in v.items()}
            if isinstance(v, list):
                return [enc(x) for x in v]
            return v

        out: dict[str, Any] = enc(asdict(self))
        return out


def gather(tx: Tx, schedules: Mapping[JobKey, JobSchedule], now: dt.datetime) -> list[SystemStatus]:
    """Every configured school × system (the keys of ``schedules``), and any other the store
    has runs of."""
    rows: dict[tuple[str, str], SystemStatus] = {}

    def row(school_id: str, system: str) -> SystemStatus:
        found = rows.get((school_id, system))
        if found is None:
            found = rows[(school_id, system)] = SystemStatus(school_id, system)
        return found

    for key, sched in sorted(schedules.items()):
        row(key.school_id, key.system).next[key.direction] = sched.next_run(now)
    q = tx.queries
    for run in q.last_runs():
        row(run.school_id, run.system).last[run.direction] = LastRun.of(run)
    for job in q.job_queue():
        row(job.key.school_id, job.key.system).queued.append(
            QueueState(
                direction=job.key.direction,
                state=job.state,
                reason=job.reason,
                attempts=job.attempts,
                not_before=job.not_before,
                last_error=job.last_error,
            )
        )
    for lock in q.job_locks():
        if lock.school_id == "~":
            continue
        r = row(lock.school_id, lock.system)
        r.running, r.running_direction = lock.holder, lock.direction
    for (school_id, system, status), n in q.conflict_totals(
        by=("school_id", "system", "status")
    ).items():
        if status in OPEN_CONFLICTS:
            row(school_id, system).conflicts += n
    for (school_id, system, status), n in q.hold_totals().items():
        if status == "waiting":
            row(school_id, system).holds += n
    for (school_id, system, status), n in q.outbox_totals(
        by=("school_id", "system", "status")
    ).items():
        if status == "failed":
            row(school_id, system).pushes_failed += n
        elif status in ("pending", "sending", "sent"):
            row(school_id, system).pushes_pending += n
    return [rows[k] for k in sorted(rows)]
