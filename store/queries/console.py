"""The web console's read side: set-based queries, so that a page issues the same few statements
whether it shows ten rows or a thousand.

- :meth:`ConsoleQueries.overview` — schools × systems: the last pull and push, open conflicts,
  waiting records, held pulls, failed and rejected pushes; filters, search and paging in SQL (a
  region's administrator sees hundreds of schools);
- scoped listings of runs, the conflict queue, holds, identity reviews and reconciliations (a
  deputy director sees only their schools: ``schools=None`` means every school);
- a run's findings (what the conflict queue got while it ran), a reconciliation's rows of one
  class and subject, periods with their last close or reopen, the console's audit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from core.entities import Entity
from store.conflicts import CONFLICTS, Conflict
from store.console import AUDIT, AuditEntry
from store.holds import HOLDS, Hold
from store.outbox import OUTBOX
from store.queries.paging import Page, Paging
from store.reconciliations import ITEMS, RECONCILIATIONS, Reconciliation, ReconciliationItem
from store.records import table_of
from store.reviews import REVIEW, ReviewItem
from store.runs import RUNS, Run
from store.tables.base import table
from store.tables.gateway import AuditRow

#: ``None``: every school (an administrator); otherwise the schools a user sees
Scope = Sequence[str] | None
HISTORY = table(AuditRow)


@dataclass(frozen=True, slots=True)
class OverviewFilter:
    schools: Scope = None
    system: str | None = None
    #: ``failed``: a last pull or push failed; ``attention``: anything waits for a person
    #: or failed; ``ok``: nothing does
    state: str | None = None
    #: part of a school's id or name (case-insensitive)
    search: str | None = None


@dataclass(frozen=True, slots=True)
class LastRun:
    id: int
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None


@dataclass(frozen=True, slots=True)
class OverviewRow:
    school_id: str
    school_name: str | None
    system: str
    pull: LastRun | None
    push: LastRun | None
    open_conflicts: int
    waiting: int
    holds: int
    failed_pushes: int
    rejected_pushes: int

    @property
    def failed(self) -> bool:
        return any(r is not None and r.status == "failed" for r in (self.pull, self.push))

    @property
    def attention(self) -> bool:
        return self.failed or bool(self.open_conflicts or self.holds or self.failed_pushes)


@dataclass(frozen=True, slots=True)
class OverviewTotals:
    pairs: int = 0
    schools: int = 0
    failed: int = 0
    open_conflicts: int = 0
    holds: int = 0
    failed_pushes: int = 0


@dataclass(frozen=True, slots=True)
class QueueScope:
    """A scoped listing of the conflict queue, holds or identity reviews."""

    schools: Scope = None
    school_id: str | None = None
    system: str | None = None
    statuses: Sequence[str] = ()
    kinds: Sequence[str] = ()
    #: a record id (conflicts) or an external id (reviews), exactly
    search: str | None = None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    schools: Scope = None
    login: str | None = None
    action: str | None = None


@dataclass(frozen=True, slots=True)
class PeriodRow:
    id: str
    school_id: str
    name: str
    kind: str
    parallels: list[int]
    start: dt.date
    end: dt.date
    closed: bool
    by: str | None = None
    at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    """Rows of a reconciliation per class (and subject) and section."""

    class_id: str | None
    subject_id: str | None
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.sections.values())


def _scoped(col: Any, schools: Scope) -> list[ColumnElement[bool]]:
    if schools is None:
        return []
    return [col.in_(list(schools))]


def _eq(col: Any, value: object) -> list[ColumnElement[bool]]:
    if value is None or value == "":
        return []
    return [col == value]


def _in(col: Any, values_: Sequence[str]) -> list[ColumnElement[bool]]:
    return [col.in_(list(values_))] if values_ else []


def _last(direction: str) -> Any:
    c = RUNS.c
    newest = (
        select(c.school_id, c.system, func.max(c.id).label("id"))
        .where(c.direction == direction)
        .group_by(c.school_id, c.system)
        .subquery(f"newest_{direction}")
    )
    run = RUNS.alias(f"run_{direction}")
    return newest, run


class ConsoleQueries:
    """The console's pages' reads over one connection (part of ``tx.queries``)."""

    conn: Connection

    # -- overview ------------------------------------------------------------------------------
    def _overview_rows(self, where: OverviewFilter, configured: Sequence[tuple[str, str]]) -> Any:
        r = RUNS.c
        seen = select(r.school_id.label("school_id"), r.system.label("system")).distinct()
        if configured:
            pairs = union(seen, self._configured(configured)).subquery("pairs")
        else:
            pairs = seen.subquery("pairs")
        p = pairs.c
        c, h, o = CONFLICTS.c, HOLDS.c, OUTBOX.c
        conflicts = (
            select(
                c.school_id,
                c.system,
                func.sum(case((c.status == "open", 1), else_=0)).label("open"),
                func.sum(case((c.status == "waiting", 1), else_=0)).label("waiting"),
            )
            .where(c.status.in_(("open", "waiting")))
            .group_by(c.school_id, c.system)
            .subquery("cq")
        )
        holds = (
            select(h.school_id, h.system, func.count().label("n"))
            .where(h.status == "waiting")
            .group_by(h.school_id, h.system)
            .subquery("hq")
        )
        pushes = (
            select(
                o.school_id,
                o.system,
                func.sum(case((o.status == "failed", 1), else_=0)).label("failed"),
                func.sum(case((o.status == "rejected", 1), else_=0)).label("rejected"),
            )
            .where(o.status.in_(("failed", "rejected")))
            .group_by(o.school_id, o.system)
            .subquery("oq")
        )
        schools = table_of(Entity.SCHOOLS)
        lp, rp = _last("pull")
        ls, rs = _last("push")

        def on(sub: Any) -> ColumnElement[bool]:
            return and_(sub.c.school_id == p.school_id, sub.c.system == p.system)

        zero = literal(0)
        stmt = (
            select(
                p.school_id,
                p.system,
                schools.c.name.label("school_name"),
                rp.c.id.label("pull_id"),
                rp.c.status.label("pull_status"),
                rp.c.started_at.label("pull_started"),
                rp.c.finished_at.label("pull_finished"),
                rp.c.error.label("pull_error"),
                rs.c.id.label("push_id"),
                rs.c.status.label("push_status"),
                rs.c.started_at.label("push_started"),
                rs.c.finished_at.label("push_finished"),
                rs.c.error.label("push_error"),
                func.coalesce(conflicts.c.open, zero).label("open_conflicts"),
                func.coalesce(conflicts.c.waiting, zero).label("waiting"),
                func.coalesce(holds.c.n, zero).label("holds"),
                func.coalesce(pushes.c.failed, zero).label("failed_pushes"),
                func.coalesce(pushes.c.rejected, zero).label("rejected_pushes"),
            )
            .select_from(pairs)
            .outerjoin(schools, schools.c.id == p.school_id)
            .outerjoin(lp, on(lp))
            .outerjoin(rp, rp.c.id == lp.c.id)
            .outerjoin(ls, on(ls))
            .outerjoin(rs, rs.c.id == ls.c.id)
            .outerjoin(conflicts, on(conflicts))
            .outerjoin(holds, on(holds))
            .outerjoin(pushes, on(pushes))
        )
        conds = [*_scoped(p.school_id, where.schools), *_eq(p.system, where.system)]
        if where.search:
            # SQLite's own lower() folds ASCII only (the store registers unicode_lower)
            lower = func.lower if self.conn.dialect.name != "sqlite" else func.unicode_lower
            needle = f"%{where.search.strip().lower()}%"
            conds.append(
                or_(
                    lower(p.school_id).like(needle),
                    lower(func.coalesce(schools.c.name, "")).like(needle),
                )
            )
        failed = or_(rp.c.status == "failed", rs.c.status == "failed")
        attention = or_(
            failed,
            func.coalesce(conflicts.c.open, zero) > 0,
            func.coalesce(holds.c.n, zero) > 0,
            func.coalesce(pushes.c.failed, zero) > 0,
        )
        if where.state == "failed":
            conds.append(failed)
        elif where.state == "attention":
            conds.append(attention)
        elif where.state == "ok":
            conds.append(~attention)
        return stmt.where(*conds)

    def _configured(self, configured: Sequence[tuple[str, str]]) -> Any:
        """The configured (school, system) pairs as rows: one parameter (two on PostgreSQL),
        however many."""
        if self.conn.dialect.name == "postgresql":
            # two text arrays, unnested side by side (a JSON text cast to JSONB in the statement
            # was bound as one JSON string, and jsonb_array_elements refused the scalar)
            schools = bindparam(None, [school for school, _ in configured], type_=ARRAY(String))
            systems = bindparam(None, [system for _, system in configured], type_=ARRAY(String))
            pairs = (
                func.unnest(schools, systems).table_valued("school_id", "system").render_derived()
            )
            return select(pairs.c.school_id, pairs.c.system).select_from(pairs)
        data = json.dumps([list(pair) for pair in configured])
        rows = func.json_each(data).table_valued("value")
        first, second = (
            func.json_extract(rows.c.value, "$[0]"),
            func.json_extract(rows.c.value, "$[1]"),
        )
        return select(
            cast(first, String).label("school_id"), cast(second, String).label("system")
        ).select_from(rows)

    def overview(
        self,
        where: OverviewFilter = OverviewFilter(),
        paging: Paging = Paging(),
        configured: Sequence[tuple[str, str]] = (),
    ) -> tuple[Page[OverviewRow], OverviewTotals]:
        """A page of (school, system) rows ordered by school and system, and totals over every
        row the filter matched: one statement (the totals are window sums over the same rows)."""
        inner = self._overview_rows(where, configured).subquery("matched")
        numbered = select(
            inner,
            func.row_number()
            .over(partition_by=inner.c.school_id, order_by=inner.c.system)
            .label("nth"),
        ).subquery("overview")
        b = numbered.c
        failed = case((or_(b.pull_status == "failed", b.push_status == "failed"), 1), else_=0)
        whole: dict[str, Any] = {"partition_by": None}
        stmt = (
            select(
                *(b[c.name] for c in inner.c),
                func.count().over(**whole).label("t_pairs"),
                func.sum(case((b.nth == 1, 1), else_=0)).over(**whole).label("t_schools"),
                func.sum(failed).over(**whole).label("t_failed"),
                func.sum(b.open_conflicts).over(**whole).label("t_conflicts"),
                func.sum(b.holds).over(**whole).label("t_holds"),
                func.sum(b.failed_pushes).over(**whole).label("t_pushes"),
            )
            .order_by(b.school_id, b.system)
            .limit(paging.limit)
            .offset(paging.offset)
        )
        rows = self.conn.execute(stmt).all()
        if rows:
            m = rows[0]._mapping
            totals = OverviewTotals(
                *(int(m[k] or 0) for k in
                  ("t_pairs", "t_schools", "t_failed", "t_conflicts", "t_holds", "t_pushes"))
            )  # fmt: skip
        elif paging.offset:  # past the last page: the totals of the first
            _, totals = self.overview(where, Paging(1, 0), configured)
            return Page([], totals.pairs, paging.offset), totals
        else:
            totals = OverviewTotals()
        return Page([_overview_row(r._mapping) for r in rows], totals.pairs, paging.offset), totals

    # -- scoped listings -----------------------------------------------------------------------
    def scoped_runs(
        self,
        schools: Scope,
        *,
        school_id: str | None = None,
        system: str | None = None,
        statuses: Sequence[str] = (),
        paging: Paging = Paging(),
    ) -> Page[Run]:
        c = RUNS.c
        conds = [
            *_scoped(c.school_id, schools),
            *_eq(c.school_id, school_id),
            *_eq(c.system, system),
            *_in(c.status, statuses),
        ]
        return self._paged(RUNS, conds, (c.id.desc(),), paging, lambda m: Run(**m))

    def conflict_queue(self, where: QueueScope, paging: Paging = Paging()) -> Page[Conflict]:
        """The conflict queue in a user's scope, oldest first."""
        c = CONFLICTS.c
        conds = [
            *_scoped(c.school_id, where.schools),
            *_eq(c.school_id, where.school_id),
            *_eq(c.system, where.system),
            *_in(c.status, where.statuses),
            *_in(c.kind, where.kinds),
            *_eq(c.record_id, where.search),
        ]
        return self._paged(CONFLICTS, conds, (c.id,), paging, lambda m: Conflict(**m))

    def queue_kinds(self, schools: Scope, statuses: Sequence[str]) -> dict[str, int]:
        """Rows of the conflict queue per kind (for the filter's choices)."""
        c = CONFLICTS.c
        stmt = (
            select(c.kind, func.count())
            .where(*_scoped(c.school_id, schools), *_in(c.status, statuses))
            .group_by(c.kind)
            .order_by(c.kind)
        )
        return {str(k): int(n) for k, n in self.conn.execute(stmt)}

    def scoped_holds(self, where: QueueScope, paging: Paging = Paging()) -> Page[Hold]:
        c = HOLDS.c
        conds = [
            *_scoped(c.school_id, where.schools),
            *_eq(c.school_id, where.school_id),
            *_eq(c.system, where.system),
            *_in(c.status, where.statuses),
        ]
        return self._paged(HOLDS, conds, (c.id,), paging, lambda m: Hold(**m))

    def scoped_reviews(self, where: QueueScope, paging: Paging = Paging()) -> Page[ReviewItem]:
        c = REVIEW.c
        conds = [
            *_scoped(c.school_id, where.schools),
            *_eq(c.school_id, where.school_id),
            *_eq(c.system, where.system),
            *_in(c.status, where.statuses),
            *_eq(c.external_id, where.search),
        ]
        return self._paged(REVIEW, conds, (c.id,), paging, lambda m: ReviewItem(**m))

    def review(self, item_id: int) -> ReviewItem | None:
        row = self.conn.execute(select(REVIEW).where(REVIEW.c.id == item_id)).one_or_none()
        return None if row is None else ReviewItem(**row._mapping)

    def scoped_reconciliations(
        self, schools: Scope, school_id: str | None = None, paging: Paging = Paging()
    ) -> Page[Reconciliation]:
        c = RECONCILIATIONS.c
        conds = [*_scoped(c.school_id, schools), *_eq(c.school_id, school_id)]
        return self._paged(
            RECONCILIATIONS, conds, (c.id.desc(),), paging, lambda m: Reconciliation(**m)
        )

    def _paged(
        self,
        tbl: Any,
        conds: Sequence[ColumnElement[bool]],
        order: Sequence[Any],
        paging: Paging,
        build: Any,
    ) -> Page[Any]:
        """A page and the total in two statements (the count over the same filter)."""
        rows = self.conn.execute(
            select(tbl).where(*conds).order_by(*order).limit(paging.limit).offset(paging.offset)
        ).all()
        total = int(
            self.conn.execute(select(func.count()).select_from(tbl).where(*conds)).scalar_one()
        )
        return Page([build(r._mapping) for r in rows], total, paging.offset)

    # -- a run's findings ----------------------------------------------------------------------
    def run_findings(
        self, run: Run, paging: Paging = Paging()
    ) -> tuple[Page[Conflict], dict[str, int]]:
        """What the conflict queue got from the run's school and system while it ran (refused
        records, records waiting for a reference, held changes, findings), and counts per
        status. Two statements plus the count."""
        c = CONFLICTS.c
        conds = [
            c.school_id == run.school_id,
            c.system == run.system,
            c.created_at >= run.started_at,
        ]
        if run.finished_at is not None:
            conds.append(c.created_at <= run.finished_at)
        page = self._paged(CONFLICTS, conds, (c.id,), paging, lambda m: Conflict(**m))
        stmt = select(c.status, func.count()).where(*conds).group_by(c.status)
        return page, {str(k): int(n) for k, n in self.conn.execute(stmt)}

    # -- reconciliations -----------------------------------------------------------------------
    def reconciliation_buckets(
        self, reconciliation_id: int, class_id: str | None = None, *, by_subject: bool = False
    ) -> list[Bucket]:
        """A reconciliation's rows per class (or per subject of ``class_id``) and section: the
        drill-down's upper levels, in one statement."""
        c = ITEMS.c
        keys = [c.class_id, c.subject_id] if by_subject else [c.class_id]
        conds: list[ColumnElement[bool]] = [c.reconciliation_id == reconciliation_id]
        if by_subject:
            conds.append(c.class_id.is_(None) if class_id in (None, "") else c.class_id == class_id)
        stmt = select(*keys, c.section, func.count()).where(*conds).group_by(*keys, c.section)
        out: dict[tuple[str | None, str | None], dict[str, int]] = {}
        for row in self.conn.execute(stmt):
            cid = row[0]
            sid = row[1] if by_subject else None
            out.setdefault((cid, sid), {})[str(row[-2])] = int(row[-1])
        return [Bucket(k[0], k[1], v) for k, v in out.items()]

    def reconciliation_rows(
        self,
        reconciliation_id: int,
        class_id: str | None,
        subject_id: str | None,
        paging: Paging = Paging(),
    ) -> Page[ReconciliationItem]:
        """A reconciliation's rows of one class and subject (the drill-down's pupils), by
        pupil and day."""
        c = ITEMS.c
        conds: list[ColumnElement[bool]] = [
            c.reconciliation_id == reconciliation_id,
            c.class_id.is_(None) if class_id in (None, "") else c.class_id == class_id,
            c.subject_id.is_(None) if subject_id in (None, "") else c.subject_id == subject_id,
        ]
        order = (c.pupil_id, c.day, c.entity, c.id)
        return self._paged(ITEMS, conds, order, paging, lambda m: ReconciliationItem(**m))

    # -- periods -------------------------------------------------------------------------------
    def period_rows(self, schools: Scope, school_id: str | None = None) -> list[PeriodRow]:
        """Live periods by school and start, each with its last close or reopen (who, when):
        two statements, whatever the number of periods."""
        t = table_of(Entity.PERIODS)
        p = t.c
        conds = [
            p.deleted_at.is_(None),
            *_scoped(p.school_id, schools),
            *_eq(p.school_id, school_id),
        ]
        rows = self.conn.execute(
            select(p.id, p.school_id, p.name, p.kind, p.parallels, p.start, p.end, p.closed)
            .where(*conds)
            .order_by(p.school_id, p.start, p.end, p.id)
        ).all()
        a = HISTORY.c
        changes: dict[str, tuple[str, dt.datetime]] = {}
        if rows:
            hist = (
                select(a.record_id, a.new, a.actor, a.at)
                .where(
                    a.entity == Entity.PERIODS.value,
                    a.op == "update",
                    *_scoped(a.school_id, schools),
                    *_eq(a.school_id, school_id),
                )
                .order_by(a.id)
            )
            for rid, new, actor, at in self.conn.execute(hist):
                if isinstance(new, dict) and "closed" in new:
                    changes[rid] = (actor, at)
        out = []
        for r in rows:
            by, at = changes.get(r.id, (None, None))
            out.append(
                PeriodRow(
                    r.id, r.school_id, r.name, r.kind, list(r.parallels or []), r.start, r.end,
                    bool(r.closed), by or None, at,
                )
            )  # fmt: skip
        return out

    # -- names -----------------------------------------------------------------------------
    def school_names(self, schools: Scope = None) -> dict[str, str]:
        t = table_of(Entity.SCHOOLS)
        stmt = select(t.c.id, t.c.name).where(*_scoped(t.c.id, schools)).order_by(t.c.id)
        return {str(i): str(n) for i, n in self.conn.execute(stmt)}

    # -- the console's audit -------------------------------------------------------------------
    def console_audit(
        self, where: AuditFilter = AuditFilter(), paging: Paging = Paging()
    ) -> Page[AuditEntry]:
        """Sign-ins and decisions, newest first; a user limited to some schools sees the
        decisions taken on them."""
        a = AUDIT.c
        conds: list[ColumnElement[bool]] = [
            *_eq(a.login, where.login),
            *_eq(a.action, where.action),
        ]
        if where.schools is not None:
            conds.append(a.school_id.in_(list(where.schools)))
        return self._paged(AUDIT, conds, (a.id.desc(),), paging, lambda m: AuditEntry(**m))


def _last_run(m: Any, prefix: str) -> LastRun | None:
    if m[f"{prefix}_id"] is None:
        return None
    return LastRun(
        int(m[f"{prefix}_id"]),
        m[f"{prefix}_status"],
        m[f"{prefix}_started"],
        m[f"{prefix}_finished"],
        m[f"{prefix}_error"],
    )


def _overview_row(m: Any) -> OverviewRow:
    return OverviewRow(
        school_id=m["school_id"],
        school_name=m["school_name"],
        system=m["system"],
        pull=_last_run(m, "pull"),
        push=_last_run(m, "push"),
        open_conflicts=int(m["open_conflicts"]),
        waiting=int(m["waiting"]),
        holds=int(m["holds"]),
        failed_pushes=int(m["failed_pushes"]),
        rejected_pushes=int(m["rejected_pushes"]),
    )
