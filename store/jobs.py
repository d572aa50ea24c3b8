"""The job queue's bookkeeping in the store (``tx.jobs``): locks and the jobs that wait or run.

**Locks.** At most one job per school × system runs at a time, enforced here — where a worker
that dies cannot take the rule with it. :meth:`JobsRepo.acquire` is one atomic statement on
SQLite and PostgreSQL alike (``INSERT … ON CONFLICT DO UPDATE … WHERE`` the row has expired or is
the caller's own): two workers racing for the same lock cannot both win. The holder renews
``expires_at`` while its job runs (:meth:`renew`); a killed worker stops renewing, and once
``expires_at`` passes anyone may take the lock over. Times are the workers' clocks (UTC), so the
machines of one region keep their clocks in sync (NTP).

**Jobs.** One row per school × system × direction that waits or runs: :meth:`enqueue` adds it
only when there is none (no pile-up) and answers a *ticket*; a queue message carries its ticket,
and only the message whose ticket the row holds may run it (:meth:`start`) — a duplicate or a
message made stale by a requeue does nothing. A failed job waits a backoff (:meth:`retry`), a job
whose worker died is requeued with a new ticket (:meth:`requeue`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from store.repo import Repo
from store.tables import table
from store.tables.jobs import JobLockRow, JobQueueRow
from store.types import utcnow

LOCKS = table(JobLockRow)
QUEUE = table(JobQueueRow)


@dataclass(frozen=True, slots=True, order=True)
class JobKey:
    """One job: a school's system, pulled or pushed."""

    school_id: str
    system: str
    direction: str

    def __str__(self) -> str:
        return f"{self.school_id}/{self.system}/{self.direction}"


@dataclass(frozen=True, slots=True)
class JobLock:
    school_id: str
    system: str
    holder: str
    direction: str
    acquired_at: dt.datetime
    heartbeat_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class QueuedJob:
    key: JobKey
    ticket: str
    state: str
    attempts: int
    reason: str
    enqueued_at: dt.datetime
    not_before: dt.datetime | None
    last_error: str | None
    updated_at: dt.datetime


def lock_of(row: object) -> JobLock:
    return JobLock(**row._mapping)  # type: ignore[attr-defined]


def queued_of(row: object) -> QueuedJob:
    m = dict(row._mapping)  # type: ignore[attr-defined]
    key = JobKey(m.pop("school_id"), m.pop("system"), m.pop("direction"))
    return QueuedJob(key=key, **m)


def _key(key: JobKey) -> list[ColumnElement[bool]]:
    c = QUEUE.c
    return [c.school_id == key.school_id, c.system == key.system, c.direction == key.direction]


class JobsRepo(Repo):
    # -- locks -------------------------------------------------------------------------------
    def acquire(
        self,
        school_id: str,
        system: str,
        *,
        holder: str,
        direction: str,
        ttl: dt.timedelta,
        now: dt.datetime | None = None,
    ) -> bool:
        """Take the lock of (school, system) when nobody holds it, its holder's time has run
        out, or the caller holds it already — in one statement. ``True`` when the caller holds
        it now."""
        now = now or utcnow()
        values = {
            "school_id": school_id,
            "system": system,
            "holder": holder,
            "direction": direction,
            "acquired_at": now,
            "heartbeat_at": now,
            "expires_at": now + ttl,
        }
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(LOCKS).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[LOCKS.c.school_id, LOCKS.c.system],
            set_={
                "holder": stmt.excluded.holder,
                "direction": stmt.excluded.direction,
                "acquired_at": stmt.excluded.acquired_at,
                "heartbeat_at": stmt.excluded.heartbeat_at,
                "expires_at": stmt.excluded.expires_at,
            },
            where=or_(LOCKS.c.expires_at < now, LOCKS.c.holder == holder),
        ).returning(LOCKS.c.holder)
        # RETURNING, not rowcount: psycopg counts a conflict whose WHERE refused the update
        return self.conn.execute(stmt).first() is not None

    def renew(
        self,
        school_id: str,
        system: str,
        *,
        holder: str,
        ttl: dt.timedelta,
        now: dt.datetime | None = None,
    ) -> bool:
        """Push the holder's expiry on; ``False`` when the lock is not (any more) the holder's."""
        now = now or utcnow()
        c = LOCKS.c
        done = self.conn.execute(
            update(LOCKS)
            .where(c.school_id == school_id, c.system == system, c.holder == holder)
            .values(heartbeat_at=now, expires_at=now + ttl)
        )
        return bool(done.rowcount)

    def release(self, school_id: str, system: str, *, holder: str) -> bool:
        c = LOCKS.c
        done = self.conn.execute(
            delete(LOCKS).where(c.school_id == school_id, c.system == system, c.holder == holder)
        )
        return bool(done.rowcount)

    def lock(self, school_id: str, system: str) -> JobLock | None:
        c = LOCKS.c
        row = self.conn.execute(
            select(LOCKS).where(c.school_id == school_id, c.system == system)
        ).one_or_none()
        return None if row is None else lock_of(row)

    def expired(self, now: dt.datetime | None = None) -> list[JobLock]:
        """Locks whose holder stopped renewing them (``expires_at`` has passed)."""
        rows = self.conn.execute(select(LOCKS).where(LOCKS.c.expires_at < (now or utcnow())))
        return [lock_of(r) for r in rows]

    def drop_expired(self, lock: JobLock) -> bool:
        """Remove a lock found expired, unless someone took it over meanwhile."""
        c = LOCKS.c
        done = self.conn.execute(
            delete(LOCKS).where(
                c.school_id == lock.school_id,
                c.system == lock.system,
                c.holder == lock.holder,
                c.expires_at == lock.expires_at,
            )
        )
        return bool(done.rowcount)

    # -- jobs --------------------------------------------------------------------------------
    def enqueue(
        self,
        key: JobKey,
        *,
        reason: str,
        not_before: dt.datetime | None = None,
        now: dt.datetime | None = None,
    ) -> str | None:
        """Put the job on the queue unless it waits or runs already: its new ticket, or
        ``None`` (nothing was added)."""
        now = now or utcnow()
        ticket = str(uuid.uuid4())
        values = {
            "school_id": key.school_id,
            "system": key.system,
            "direction": key.direction,
            "ticket": ticket,
            "state": "waiting",
            "attempts": 0,
            "reason": reason,
            "enqueued_at": now,
            "not_before": not_before,
            "last_error": None,
            "updated_at": now,
        }
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(QUEUE).values(values).on_conflict_do_nothing()
        added = self.conn.execute(stmt.returning(QUEUE.c.ticket)).first()
        return ticket if added is not None else None

    def start(self, key: JobKey, ticket: str, now: dt.datetime | None = None) -> QueuedJob | None:
        """Mark the waiting job running when ``ticket`` is its ticket (else ``None``: a stale
        or duplicate message)."""
        done = self.conn.execute(
            update(QUEUE)
            .where(*_key(key), QUEUE.c.ticket == ticket, QUEUE.c.state == "waiting")
            .values(state="running", updated_at=now or utcnow())
        )
        return self.job(key) if done.rowcount else None

    def back(self, key: JobKey, ticket: str, now: dt.datetime | None = None) -> bool:
        """A job that could not run now (its lock is taken, a blackout) waits again."""
        done = self.conn.execute(
            update(QUEUE)
            .where(*_key(key), QUEUE.c.ticket == ticket)
            .values(state="waiting", updated_at=now or utcnow())
        )
        return bool(done.rowcount)

    def finish(self, key: JobKey, ticket: str) -> bool:
        """The job is done: off the queue (the next one may be queued)."""
        done = self.conn.execute(delete(QUEUE).where(*_key(key), QUEUE.c.ticket == ticket))
        return bool(done.rowcount)

    def retry(
        self,
        key: JobKey,
        ticket: str,
        *,
        not_before: dt.datetime,
        error: str | None,
        count_attempt: bool = True,
        reason: str = "retry",
        now: dt.datetime | None = None,
    ) -> str | None:
        """The job runs again from ``not_before``: its new ticket (``None``: not this ticket's)."""
        new = str(uuid.uuid4())
        c = QUEUE.c
        done = self.conn.execute(
            update(QUEUE)
            .where(*_key(key), c.ticket == ticket)
            .values(
                ticket=new,
                state="waiting",
                attempts=c.attempts + (1 if count_attempt else 0),
                reason=reason,
                not_before=not_before,
                last_error=error,
                updated_at=now or utcnow(),
            )
        )
        return new if done.rowcount else None

    def requeue(self, job: QueuedJob, *, reason: str, now: dt.datetime | None = None) -> str | None:
        """A job whose message was lost, waiting again: a ``running`` one (its worker died)
        under a new ticket; a ``waiting`` one keeps its ticket, so a message that still waits
        somewhere keeps its place (the first of the two to run wins; the other finds it taken).
        The ticket to send, or ``None`` when the row changed meanwhile."""
        ticket = str(uuid.uuid4()) if job.state == "running" else job.ticket
        done = self.conn.execute(
            update(QUEUE)
            .where(*_key(job.key), QUEUE.c.ticket == job.ticket, QUEUE.c.state == job.state)
            .values(ticket=ticket, state="waiting", reason=reason, updated_at=now or utcnow())
        )
        return ticket if done.rowcount else None

    def job(self, key: JobKey) -> QueuedJob | None:
        row = self.conn.execute(select(QUEUE).where(*_key(key))).one_or_none()
        return None if row is None else queued_of(row)

    def orphans(
        self, *, running_before: dt.datetime, waiting_before: dt.datetime
    ) -> list[QueuedJob]:
        """Jobs no live worker can be running: ``running`` since before ``running_before`` with
        no lock on their school × system (their worker died), or ``waiting`` untouched since
        before ``waiting_before`` and due by then (their message was lost)."""
        c, lk = QUEUE.c, LOCKS.c
        unlocked = ~(
            select(LOCKS).where(lk.school_id == c.school_id, lk.system == c.system).exists()
        )
        rows = self.conn.execute(
            select(QUEUE).where(
                or_(
                    and_(c.state == "running", c.updated_at < running_before, unlocked),
                    and_(
                        c.state == "waiting",
                        c.updated_at < waiting_before,
                        or_(c.not_before.is_(None), c.not_before < waiting_before),
                    ),
                )
            )
        )
        return [queued_of(r) for r in rows]


__all__ = ["LOCKS", "QUEUE", "JobKey", "JobLock", "JobsRepo", "QueuedJob"]
