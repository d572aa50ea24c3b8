"""Declarative models of the job queue's bookkeeping: the lock that lets one job at a time run per
school × system (:class:`JobLockRow`) and the jobs that wait or run (:class:`JobQueueRow`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import ID, Base

SHORT = String(32)


class JobLockRow(Base):
    """Held while a job of (school, system) runs; renewed by its heartbeat, taken over by anyone
    once ``expires_at`` has passed (a killed worker cannot keep it)."""

    __tablename__ = "job_locks"
    school_id: Mapped[str] = mapped_column(ID, primary_key=True)
    system: Mapped[str] = mapped_column(SHORT, primary_key=True)
    #: host:pid:random of the worker that holds it
    holder: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(8))
    acquired_at: Mapped[dt.datetime]
    heartbeat_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class JobQueueRow(Base):
    """A job that waits (``waiting``) or runs (``running``): at most one per school × system ×
    direction, so the same job never piles up. ``ticket`` names the queue message that may run
    it: a message with another ticket (a duplicate, or one made stale by a requeue) does nothing."""

    __tablename__ = "job_queue"
    school_id: Mapped[str] = mapped_column(ID, primary_key=True)
    system: Mapped[str] = mapped_column(SHORT, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    ticket: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(16))  # waiting | running
    #: failed attempts so far (a retry waits a backoff that grows with them)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: why it was queued: schedule, outbox, retry, recovered, manual
    reason: Mapped[str] = mapped_column(SHORT)
    enqueued_at: Mapped[dt.datetime]
    #: a retry waits until then
    not_before: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime]
