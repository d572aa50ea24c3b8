"""Stored reconciliations on the read side: listings with paging and totals, a reconciliation's
rows in report order (streamed or paged), the rows gone since the previous reconciliation; and
what is already on its way for records a reconciliation found different (outbox, conflict
queue, identity reviews)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.sql.elements import ColumnElement

from store.conflicts import CONFLICTS
from store.holds import HOLDS
from store.outbox import OUTBOX
from store.queries.paging import Page, Paging
from store.reconciliations import ITEMS, RECONCILIATIONS, Reconciliation, ReconciliationItem
from store.reviews import REVIEW


@dataclass(frozen=True, slots=True)
class ReconciliationFilter:
    school_id: str | None = None
    system: str | None = None


def _item_order() -> tuple[ColumnElement[Any], ...]:
    c = ITEMS.c
    return (c.section, c.class_id, c.subject_id, c.day, c.entity, c.id)


class ReportQueries:
    """Reads of stored reports over one connection (part of ``tx.queries``)."""

    conn: Connection

    def reconciliations(
        self, where: ReconciliationFilter = ReconciliationFilter(), paging: Paging = Paging()
    ) -> Page[Reconciliation]:
        """Reconciliations, newest first."""
        c = RECONCILIATIONS.c
        conds = [
            cond
            for cond in (
                None if where.school_id is None else c.school_id == where.school_id,
                None if where.system is None else c.system == where.system,
            )
            if cond is not None
        ]
        stmt = select(RECONCILIATIONS).where(*conds).order_by(c.id.desc())
        rows = self.conn.execute(stmt.limit(paging.limit).offset(paging.offset))
        items = [Reconciliation(**r._mapping) for r in rows]
        total = int(
            self.conn.execute(
                select(func.count()).select_from(RECONCILIATIONS).where(*conds)
            ).scalar_one()
        )
        return Page(items, total, paging.offset)

    def reconciliation(self, reconciliation_id: int) -> Reconciliation | None:
        row = self.conn.execute(
            select(RECONCILIATIONS).where(RECONCILIATIONS.c.id == reconciliation_id)
        ).one_or_none()
        return None if row is None else Reconciliation(**row._mapping)

    def reconciliation_items(
        self,
        reconciliation_id: int,
        sections: Sequence[str] = (),
        paging: Paging = Paging(),
    ) -> Page[ReconciliationItem]:
        """A page of a reconciliation's rows, in report order (section, class, subject, day)."""
        c = ITEMS.c
        conds: list[ColumnElement[bool]] = [c.reconciliation_id == reconciliation_id]
        if sections:
            conds.append(c.section.in_(list(sections)))
        stmt = select(ITEMS).where(*conds).order_by(*_item_order())
        rows = self.conn.execute(stmt.limit(paging.limit).offset(paging.offset))
        items = [ReconciliationItem(**r._mapping) for r in rows]
        total = int(
            self.conn.execute(select(func.count()).select_from(ITEMS).where(*conds)).scalar_one()
        )
        return Page(items, total, paging.offset)

    def iter_reconciliation_items(
        self,
        reconciliation_id: int,
        section: str | None = None,
        *,
        new_only: bool = False,
        batch: int = 2000,
    ) -> Iterator[ReconciliationItem]:
        """Every row of a reconciliation (of one section; only those the previous one of its
        scope did not have) in report order, streamed."""
        c = ITEMS.c
        conds: list[ColumnElement[bool]] = [c.reconciliation_id == reconciliation_id]
        if section is not None:
            conds.append(c.section == section)
        if new_only:
            conds.append(c.new.is_(True))
        stmt = (
            select(ITEMS).where(*conds).order_by(*_item_order()).execution_options(yield_per=batch)
        )
        for row in self.conn.execute(stmt):
            yield ReconciliationItem(**row._mapping)

    def reconciliation_totals(self, reconciliation_id: int) -> dict[str, int]:
        """Rows per section."""
        c = ITEMS.c
        stmt = (
            select(c.section, func.count())
            .where(c.reconciliation_id == reconciliation_id)
            .group_by(c.section)
        )
        return {str(k): int(n) for k, n in self.conn.execute(stmt)}

    def reconciliation_new_totals(self, reconciliation_id: int) -> dict[str, int]:
        """Rows per section that the previous reconciliation of the scope did not have."""
        c = ITEMS.c
        stmt = (
            select(c.section, func.count())
            .where(c.reconciliation_id == reconciliation_id, c.new.is_(True))
            .group_by(c.section)
        )
        return {str(k): int(n) for k, n in self.conn.execute(stmt)}

    def reconciliation_new(self, reconciliation_id: int) -> int:
        """How many of a reconciliation's rows the previous one of its scope did not have."""
        c = ITEMS.c
        stmt = select(func.count()).where(c.reconciliation_id == reconciliation_id, c.new.is_(True))
        return int(self.conn.execute(stmt).scalar_one())

    def gone_since(
        self, reconciliation_id: int, previous_id: int, paging: Paging = Paging()
    ) -> Page[ReconciliationItem]:
        """Rows of the previous reconciliation whose difference this one no longer has."""
        c = ITEMS.c
        now = select(c.key).where(c.reconciliation_id == reconciliation_id)
        conds = [c.reconciliation_id == previous_id, c.key.not_in(now)]
        stmt = select(ITEMS).where(*conds).order_by(*_item_order())
        rows = self.conn.execute(stmt.limit(paging.limit).offset(paging.offset))
        items = [ReconciliationItem(**r._mapping) for r in rows]
        total = int(
            self.conn.execute(select(func.count()).select_from(ITEMS).where(*conds)).scalar_one()
        )
        return Page(items, total, paging.offset)


#: outbox statuses of a push still on its way to the system
ON_THE_WAY = ("pending", "sending", "sent")


@dataclass(frozen=True, slots=True)
class PendingRef:
    """One thing already on its way for a record: an outbox item, a conflict-queue row (open:
    a person decides; waiting: for a reference), an identity review."""

    kind: str  # outbox | conflict | waiting | review
    id: int
    detail: str


class PendingQueries:
    """What is already on its way for given records (part of ``tx.queries``)."""

    conn: Connection

    def pending_for(
        self,
        school_id: str,
        system: str,
        entity: str,
        record_ids: Sequence[str],
        external_ids: Sequence[str],
    ) -> dict[str, list[PendingRef]]:
        """``record id or "<system>:<external id>" → what is on its way`` for them: pushes to
        ``system`` not yet answered, open or waiting rows of the conflict queue, open identity
        reviews."""
        out: dict[str, list[PendingRef]] = {}
        o = OUTBOX.c
        if record_ids:
            stmt = (
                select(o.record_id, o.id, o.op, o.status)
                .where(
                    o.school_id == school_id,
                    o.system == system,
                    o.entity == entity,
                    o.status.in_(ON_THE_WAY),
                    o.record_id.in_(sorted(set(record_ids))),
                )
                .order_by(o.id)
            )
            for rid, item_id, op, status in self.conn.execute(stmt):
                out.setdefault(rid, []).append(PendingRef("outbox", item_id, f"{op} {status}"))
        refs = sorted({*record_ids, *(f"{system}:{e}" for e in external_ids)})
        if refs:
            c = CONFLICTS.c
            stmt2 = (
                select(c.record_id, c.id, c.kind, c.status)
                .where(
                    c.school_id == school_id,
                    c.system == system,
                    c.entity == entity,
                    c.status.in_(("open", "waiting")),
                    c.record_id.in_(refs),
                )
                .order_by(c.id)
            )
            for rid, row_id, kind, status in self.conn.execute(stmt2):
                label = "waiting" if status == "waiting" else "conflict"
                out.setdefault(rid, []).append(PendingRef(label, row_id, kind))
        if external_ids:
            r = REVIEW.c
            stmt3 = (
                select(r.external_id, r.id, r.reason)
                .where(
                    r.school_id == school_id,
                    r.system == system,
                    r.entity == entity,
                    r.status == "open",
                    r.external_id.in_(sorted(set(external_ids))),
                )
                .order_by(r.id)
            )
            for ext, row_id, reason in self.conn.execute(stmt3):
                out.setdefault(f"{system}:{ext}", []).append(PendingRef("review", row_id, reason))
        return out

    def pending_totals(self, school_id: str, system: str) -> dict[str, int]:
        """What is on its way for ``system`` in the school, whatever record: pushes not yet
        answered, open conflicts, records waiting for a reference, held pulls, open identity
        reviews."""
        o, c, h, r = OUTBOX.c, CONFLICTS.c, HOLDS.c, REVIEW.c

        def count(stmt: Any) -> int:
            return int(self.conn.execute(stmt).scalar_one())

        return {
            "outbox": count(
                select(func.count()).where(
                    o.school_id == school_id, o.system == system, o.status.in_(ON_THE_WAY)
                )
            ),
            "conflict": count(
                select(func.count()).where(
                    c.school_id == school_id, c.system == system, c.status == "open"
                )
            ),
            "waiting": count(
                select(func.count()).where(
                    c.school_id == school_id, c.system == system, c.status == "waiting"
                )
            ),
            "hold": count(
                select(func.count()).where(
                    h.school_id == school_id, h.system == system, h.status == "waiting"
                )
            ),
            "review": count(
                select(func.count()).where(
                    r.school_id == school_id, r.system == system, r.status == "open"
                )
            ),
        }
