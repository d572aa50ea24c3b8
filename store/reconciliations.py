"""Stored reconciliations (``tx.reconciliations``): a header per reconciliation, a row per
difference; which differences are new since the previous reconciliation of the same scope.

Reading them back (listings, pages of rows, rows gone since the previous one) is the read
side's job: :mod:`store.queries.reports`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import insert, select, update

from core.errors import StoreError
from store.bulk import bulk
from store.repo import Repo
from store.tables import table
from store.tables.reports import ReconciliationItemRow, ReconciliationRow
from store.types import utcnow

RECONCILIATIONS = table(ReconciliationRow)
ITEMS = table(ReconciliationItemRow)
STATUSES = frozenset({"done", "failed"})


@dataclass(frozen=True, slots=True)
class Reconciliation:
    id: int
    school_id: str
    system: str
    scope: dict[str, Any]
    scope_key: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    summary: dict[str, Any]
    previous_id: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class NewDifference:
    """A difference to store: ``kind`` is ``different``, ``only_store``, ``only_system`` or
    ``unreadable`` (the system holds a record the gateway cannot read); ``pending`` lists what
    is already on its way (outbox items, open conflicts, waiting records, reviews, holds), and
    ``section`` is then ``pending`` (else the kind): where a report shows it."""

    kind: str
    section: str
    entity: str
    record_id: str | None
    external_id: str | None
    key: str
    severity: int
    fields: list[dict[str, Any]]
    class_id: str | None = None
    subject_id: str | None = None
    pupil_id: str | None = None
    day: dt.date | None = None
    pending: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class ReconciliationItem:
    id: int
    reconciliation_id: int
    kind: str
    section: str
    entity: str
    record_id: str | None
    external_id: str | None
    class_id: str | None
    subject_id: str | None
    pupil_id: str | None
    day: dt.date | None
    key: str
    severity: int
    fields: list[dict[str, Any]]
    pending: list[dict[str, Any]] | None
    new: bool


_ITEM_COLUMNS = ("reconciliation_id", *(f.name for f in fields(NewDifference)), "new")


class ReconciliationsRepo(Repo):
    def start(self, school_id: str, system: str, scope: dict[str, Any], scope_key: str) -> int:
        """A new reconciliation (``failed`` until :meth:`finish` says otherwise)."""
        stmt = RECONCILIATIONS.insert().values(
            school_id=school_id,
            system=system,
            scope=scope,
            scope_key=scope_key,
            status="failed",
            started_at=utcnow(),
            summary={},
        )
        return int(self.conn.execute(stmt.returning(RECONCILIATIONS.c.id)).scalar_one())

    def add_items(self, reconciliation_id: int, rows: Sequence[NewDifference]) -> None:
        if not rows:
            return
        bulk(self.conn, "insert", ITEMS, _ITEM_COLUMNS, lambda: insert(ITEMS)).execute(
            self.conn,
            [asdict(r) | {"reconciliation_id": reconciliation_id, "new": True} for r in rows],
        )

    def previous(self, school_id: str, system: str, scope_key: str, before: int) -> int | None:
        """The newest finished reconciliation of the same school, system and scope before
        ``before``."""
        c = RECONCILIATIONS.c
        stmt = (
            select(c.id)
            .where(
                c.school_id == school_id,
                c.system == system,
                c.scope_key == scope_key,
                c.status == "done",
                c.id < before,
            )
            .order_by(c.id.desc())
            .limit(1)
        )
        found = self.conn.execute(stmt).scalar_one_or_none()
        return None if found is None else int(found)

    def mark_seen_before(self, reconciliation_id: int, previous_id: int) -> None:
        """Rows whose key the previous reconciliation also had are not new."""
        c = ITEMS.c
        earlier = select(ITEMS.c.key).where(c.reconciliation_id == previous_id)
        self.conn.execute(
            update(ITEMS)
            .where(c.reconciliation_id == reconciliation_id, c.key.in_(earlier))
            .values(new=False)
        )

    def finish(
        self,
        reconciliation_id: int,
        *,
        status: str,
        summary: dict[str, Any],
        previous_id: int | None = None,
        error: str | None = None,
    ) -> None:
        if status not in STATUSES:
            raise StoreError(f"a reconciliation cannot finish as {status!r}")
        done = self.conn.execute(
            update(RECONCILIATIONS)
            .where(RECONCILIATIONS.c.id == reconciliation_id)
            .values(
                status=status,
                summary=summary,
                previous_id=previous_id,
                error=error,
                finished_at=utcnow(),
            )
        )
        if done.rowcount != 1:
            raise StoreError(f"reconciliation {reconciliation_id} does not exist")
