"""Declarative models of the gateway's own tables: identity, change log, audit, runs and queues."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import ID, Base, BigId

SHORT = String(32)


class IdentityRow(Base):
    """(school, system, entity, external id) → gateway id.

    Keyed by school: two schools of one store may each have their own installation of a system,
    whose ids are numbered alike (issue 15's finding: linked per system alone, one school's
    marks were taken as another's)."""

    __tablename__ = "identity_map"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ID)
    system: Mapped[str] = mapped_column(SHORT)
    entity: Mapped[str] = mapped_column(SHORT)
    external_id: Mapped[str] = mapped_column(String(128))
    gateway_id: Mapped[str] = mapped_column(ID, index=True)
    #: the content hash this system and the store last agreed on (kept by the sync engine)
    synced_hash: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]

    __table_args__ = (
        UniqueConstraint("school_id", "system", "entity", "external_id"),
        # "is this record linked in that system": the whole question is the index condition, so
        # the answer is one probe whatever the planner believes of each entity's share of links
        Index("ix_identity_map_system_entity_gateway_id", "system", "entity", "gateway_id"),
    )


class ReviewRow(Base):
    """An uncertain match of a person across systems, waiting for a human."""

    __tablename__ = "review_queue"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ID, index=True)
    system: Mapped[str] = mapped_column(SHORT)
    entity: Mapped[str] = mapped_column(SHORT)
    external_id: Mapped[str] = mapped_column(String(128))
    candidate_ids: Mapped[list[Any]]
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(SHORT, index=True)  # open | linked | rejected
    linked_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))


class ChangeSeqRow(Base):
    """One row: the last change-log position handed out. Its row lock orders writers."""

    __tablename__ = "change_seq"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(BigInteger)


class ChangeRow(Base):
    """The append-only change log that the feed follows by position."""

    __tablename__ = "change_log"
    position: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    school_id: Mapped[str] = mapped_column(ID)
    entity: Mapped[str] = mapped_column(SHORT)
    record_id: Mapped[str] = mapped_column(ID)
    op: Mapped[str] = mapped_column(String(8))  # create | update | delete
    natural_key: Mapped[dict[str, Any] | None]
    version: Mapped[int]
    source: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[dt.datetime]

    __table_args__ = (Index(None, "school_id", "position"),)


class AuditRow(Base):
    """History of every update and delete: old → new, by which system or user, when.

    A creation's record is its ``change_log`` row (op ``create``, source, actor, run, time); the
    created content is the record row itself until the next change, whose audit row holds it.
    """

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ID)
    entity: Mapped[str] = mapped_column(SHORT)
    record_id: Mapped[str] = mapped_column(ID)
    op: Mapped[str] = mapped_column(String(8))
    old: Mapped[dict[str, Any] | None]
    new: Mapped[dict[str, Any] | None]
    source: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime]
    run_id: Mapped[int | None] = mapped_column(BigInteger, index=True)

    __table_args__ = (Index(None, "record_id"),)


class RunRow(Base):
    __tablename__ = "sync_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ID)
    system: Mapped[str] = mapped_column(SHORT)
    direction: Mapped[str] = mapped_column(String(8))  # pull | push
    status: Mapped[str] = mapped_column(String(16))  # running|success|partial|held|failed
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    counts: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index(None, "school_id", "system", "started_at"),)


class CheckpointRow(Base):
    __tablename__ = "checkpoints"
    school_id: Mapped[str] = mapped_column(ID, primary_key=True)
    system: Mapped[str] = mapped_column(SHORT, primary_key=True)
    entity: Mapped[str] = mapped_column(SHORT, primary_key=True)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime]


class OutboxRow(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ID)
    system: Mapped[str] = mapped_column(SHORT)
    entity: Mapped[str] = mapped_column(SHORT)
    record_id: Mapped[str] = mapped_column(ID)
    op: Mapped[str] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]]
    # pending|sending|sent|accepted|duplicate|rejected|failed (see store.outbox)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ticket: Mapped[str | None] = mapped_column(String(200))
    remote_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    #: a ``failed`` item is sent again from this time on (backoff after each attempt)
    next_attempt_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index(None, "school_id", "system", "status"),
        # a system's pull that agrees on a record settles the pushes queued for it
        Index(None, "record_id"),
    )


class ConflictRow(Base):
    __tablename__ = "conflicts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ID)
    system: Mapped[str] = mapped_column(SHORT)
    entity: Mapped[str] = mapped_column(SHORT)
    record_id: Mapped[str] = mapped_column(ID, index=True)
    kind: Mapped[str] = mapped_column(SHORT)
    field: Mapped[str | None] = mapped_column(String(64))
    base: Mapped[dict[str, Any] | None]
    incoming: Mapped[dict[str, Any] | None]
    current: Mapped[dict[str, Any] | None]
    detail: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        String(16)
    )  # open | resolved (the sync adds noted, rejected)
    resolution: Mapped[str | None] = mapped_column(String(64))
    policy: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index(None, "school_id", "status"),
        # the console's overview counts open and waiting rows per school and system
        Index(None, "status", "school_id", "system"),
    )


class HoldRow(Base):
    __tablename__ = "holds"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ID)
    system: Mapped[str] = mapped_column(SHORT)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    summary: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # waiting | approved | discarded
    created_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index(None, "school_id", "status"),)
