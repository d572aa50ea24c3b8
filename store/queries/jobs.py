"""The job queue as monitoring and the scheduler read it: locks held, jobs waiting or running,
and the pushes due per school and system."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, and_, func, or_, select

from store.holds import HOLDS
from store.jobs import LOCKS, QUEUE, JobLock, QueuedJob, lock_of, queued_of
from store.outbox import OUTBOX


class JobQueries:
    conn: Connection

    def job_locks(self, school_id: str | None = None) -> list[JobLock]:
        stmt = select(LOCKS).order_by(LOCKS.c.school_id, LOCKS.c.system)
        if school_id is not None:
            stmt = stmt.where(LOCKS.c.school_id == school_id)
        return [lock_of(r) for r in self.conn.execute(stmt)]

    def job_queue(self, school_id: str | None = None) -> list[QueuedJob]:
        c = QUEUE.c
        stmt = select(QUEUE).order_by(c.school_id, c.system, c.direction)
        if school_id is not None:
            stmt = stmt.where(c.school_id == school_id)
        return [queued_of(r) for r in self.conn.execute(stmt)]

    def pushes_due(self, now: dt.datetime) -> dict[tuple[str, str], int]:
        """Per (school, system), the outbox items a push would send now: pending ones and
        failed ones whose backoff has passed."""
        c = OUTBOX.c
        due = or_(
            c.status == "pending",
            and_(c.status == "failed", or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now)),
        )
        stmt = (
            select(c.school_id, c.system, func.count()).where(due).group_by(c.school_id, c.system)
        )
        return {(s, y): int(n) for s, y, n in self.conn.execute(stmt)}

    def hold_totals(self) -> dict[tuple[str, str, str], int]:
        """Holds per (school, system, status)."""
        c = HOLDS.c
        stmt = select(c.school_id, c.system, c.status, func.count()).group_by(
            c.school_id, c.system, c.status
        )
        return {(s, y, st): int(n) for s, y, st, n in self.conn.execute(stmt)}
