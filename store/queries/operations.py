"""Listings of what the gateway did and what waits for a person: runs, the conflict queue,
holds, identity reviews and the outbox, with filters, paging and totals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, Table, func, select
from sqlalchemy.sql.elements import ColumnElement

from store.conflicts import CONFLICTS, Conflict
from store.holds import HOLDS, Hold
from store.outbox import OUTBOX, OutboxItem
from store.queries.paging import Page, Paging
from store.reviews import REVIEW, ReviewItem
from store.runs import RUNS, Run

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunFilter:
    school_id: str | None = None
    system: str | None = None
    direction: str | None = None
    statuses: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ConflictFilter:
    school_id: str | None = None
    system: str | None = None
    entity: str | None = None
    kinds: Sequence[str] = ()
    statuses: Sequence[str] = ()
    record_id: str | None = None
    #: only rows put on the queue from this time on
    since: dt.datetime | None = None
    #: newest first (the default is oldest first: a queue is worked in order)
    newest_first: bool = False


@dataclass(frozen=True, slots=True)
class OutboxFilter:
    school_id: str | None = None
    system: str | None = None
    statuses: Sequence[str] = ()
    record_ids: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Holds and identity reviews."""

    school_id: str | None = None
    statuses: Sequence[str] = field(default_factory=tuple)


def _where(table: Table, **equal: Any) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    for name, value in equal.items():
        if value is None or (isinstance(value, list | tuple) and not value):
            continue
        column = table.c[name]
        if isinstance(value, list | tuple | set | frozenset):
            conds.append(column.in_(list(value)))
        else:
            conds.append(column == value)
    return conds


def _page(
    conn: Connection,
    table: Table,
    conds: Sequence[ColumnElement[bool]],
    order: Sequence[ColumnElement[Any]],
    paging: Paging,
    build: Callable[[Any], T],
) -> Page[T]:
    stmt: Select[Any] = select(table).where(*conds).order_by(*order)
    rows = conn.execute(stmt.limit(paging.limit).offset(paging.offset)).all()
    items = [build(r._mapping) for r in rows]
    if paging.offset == 0 and len(items) < paging.limit:
        total = len(items)
    else:
        count = select(func.count()).select_from(table).where(*conds)
        total = int(conn.execute(count).scalar_one())
    return Page(items, total, paging.offset)


def _totals(
    conn: Connection, table: Table, by: Sequence[str], conds: Sequence[ColumnElement[bool]]
) -> dict[tuple[str, ...], int]:
    columns = [table.c[name] for name in by]
    stmt = select(*columns, func.count()).where(*conds).group_by(*columns)
    return {tuple(str(v) for v in row[:-1]): int(row[-1]) for row in conn.execute(stmt)}


class Operations:
    """Listings of the gateway's own bookkeeping over one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- runs ------------------------------------------------------------------------------
    def runs(self, where: RunFilter = RunFilter(), paging: Paging = Paging()) -> Page[Run]:
        """Runs, newest first."""
        conds = _where(
            RUNS,
            school_id=where.school_id,
            system=where.system,
            direction=where.direction,
            status=tuple(where.statuses),
        )
        order = (RUNS.c.started_at.desc(), RUNS.c.id.desc())
        return _page(self.conn, RUNS, conds, order, paging, lambda m: Run(**m))

    def run(self, run_id: int) -> Run | None:
        row = self.conn.execute(select(RUNS).where(RUNS.c.id == run_id)).one_or_none()
        return None if row is None else Run(**row._mapping)

    def last_runs(self, school_id: str | None = None) -> list[Run]:
        """The newest run of each (school, system, direction)."""
        c = RUNS.c
        newest = (
            select(func.max(c.id).label("id"))
            .where(*_where(RUNS, school_id=school_id))
            .group_by(c.school_id, c.system, c.direction)
            .subquery()
        )
        stmt = select(RUNS).join(newest, newest.c.id == c.id).order_by(c.school_id, c.system)
        return [Run(**r._mapping) for r in self.conn.execute(stmt)]

    # -- conflict queue ----------------------------------------------------------------------
    def conflicts(
        self, where: ConflictFilter = ConflictFilter(), paging: Paging = Paging()
    ) -> Page[Conflict]:
        """Conflict-queue rows, oldest first."""
        conds = _where(
            CONFLICTS,
            school_id=where.school_id,
            system=where.system,
            entity=where.entity,
            kind=tuple(where.kinds),
            status=tuple(where.statuses),
            record_id=where.record_id,
        )
        if where.since is not None:
            conds.append(CONFLICTS.c.created_at >= where.since)
        order = CONFLICTS.c.id.desc() if where.newest_first else CONFLICTS.c.id
        return _page(self.conn, CONFLICTS, conds, (order,), paging, lambda m: Conflict(**m))

    def conflict(self, conflict_id: int) -> Conflict | None:
        row = self.conn.execute(
            select(CONFLICTS).where(CONFLICTS.c.id == conflict_id)
        ).one_or_none()
        return None if row is None else Conflict(**row._mapping)

    def conflict_totals(
        self, school_id: str | None = None, by: Sequence[str] = ("status",)
    ) -> dict[tuple[str, ...], int]:
        """Rows of the conflict queue per value of the ``by`` columns (status, kind, …)."""
        return _totals(self.conn, CONFLICTS, by, _where(CONFLICTS, school_id=school_id))

    # -- holds and identity reviews ----------------------------------------------------------
    def holds(self, where: QueueFilter = QueueFilter(), paging: Paging = Paging()) -> Page[Hold]:
        conds = _where(HOLDS, school_id=where.school_id, status=tuple(where.statuses))
        return _page(self.conn, HOLDS, conds, (HOLDS.c.id,), paging, lambda m: Hold(**m))

    def reviews(
        self, where: QueueFilter = QueueFilter(), paging: Paging = Paging()
    ) -> Page[ReviewItem]:
        conds = _where(REVIEW, school_id=where.school_id, status=tuple(where.statuses))
        return _page(self.conn, REVIEW, conds, (REVIEW.c.id,), paging, lambda m: ReviewItem(**m))

    # -- outbox -------------------------------------------------------------------------------
    def outbox(
        self, where: OutboxFilter = OutboxFilter(), paging: Paging = Paging()
    ) -> Page[OutboxItem]:
        """Outbox items, oldest first."""
        conds = _where(
            OUTBOX,
            school_id=where.school_id,
            system=where.system,
            status=tuple(where.statuses),
            record_id=tuple(where.record_ids),
        )
        return _page(self.conn, OUTBOX, conds, (OUTBOX.c.id,), paging, lambda m: OutboxItem(**m))

    def outbox_totals(
        self,
        school_id: str | None = None,
        system: str | None = None,
        by: Sequence[str] = ("status",),
    ) -> dict[tuple[str, ...], int]:
        """Outbox items per value of the ``by`` columns (status, system, …)."""
        return _totals(self.conn, OUTBOX, by, _where(OUTBOX, school_id=school_id, system=system))

    def queue_totals(self, school_id: str | None = None) -> dict[str, dict[str, int]]:
        """Holds and identity reviews per status."""
        return {
            name: {
                k[0]: n
                for k, n in _totals(
                    self.conn, t, ("status",), _where(t, school_id=school_id)
                ).items()
            }
            for name, t in (("holds", HOLDS), ("reviews", REVIEW))
        }
