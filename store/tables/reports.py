"""Tables of the stored reports: each reconciliation of a school with one system, and its rows.

A reconciliation row holds what was asked (``scope``) and the summary (counts per entity and
outcome, per class × subject, what changed since the previous one); every difference is one
``reconciliation_items`` row, so the console can page through them and the next reconciliation
can say which are new and which are gone. Personal data (ФИО, birth dates, СНИЛС) is never kept
here: a row names people by gateway or external id, and a differing personal field by its name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import ID, Base, BigId

SHORT = String(32)


class ReconciliationRow(Base):
    __tablename__ = "reconciliations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ID)
    system: Mapped[str] = mapped_column(SHORT)
    #: what was compared: entities, class, period (and a key naming that scope)
    scope: Mapped[dict[str, Any]]
    scope_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # done | failed
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    #: counts, buckets (class × subject), pending totals, phases, since the previous one
    summary: Mapped[dict[str, Any]]
    previous_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index(None, "school_id", "system", "scope_key", "id"),)


class ReconciliationItemRow(Base):
    """One difference found by a reconciliation."""

    __tablename__ = "reconciliation_items"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reconciliation_id: Mapped[int] = mapped_column(BigInteger)
    #: different | only_store | only_system | unreadable
    kind: Mapped[str] = mapped_column(String(16))
    #: where a report shows it: ``pending`` when something is already on its way, else the kind
    section: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(SHORT)
    #: the gateway id (None: a record the gateway does not know)
    record_id: Mapped[str | None] = mapped_column(ID)
    #: the record's id in the system (None: the system has no id for it)
    external_id: Mapped[str | None] = mapped_column(String(128))
    class_id: Mapped[str | None] = mapped_column(ID)
    subject_id: Mapped[str | None] = mapped_column(ID)
    pupil_id: Mapped[str | None] = mapped_column(ID)
    day: Mapped[dt.date | None]
    #: stable across reconciliations: what "the same difference" means
    key: Mapped[str] = mapped_column(String(300))
    severity: Mapped[int] = mapped_column(Integer)
    #: [{field, store, system, personal}] — personal fields without their values
    fields: Mapped[list[Any]]
    #: what is already on its way: [{kind, ref, detail}] (None: nothing)
    pending: Mapped[list[Any] | None]
    #: not in the previous reconciliation of the same scope
    new: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        Index(None, "reconciliation_id", "section", "class_id", "subject_id"),
        Index(None, "reconciliation_id", "key"),
    )
