"""What the journal-control report reads: a span's lessons, marks, absences, the period marks of
some periods and the history of marks — a few columns each, one statement each, whatever the size
of the school (no statement per row). Rows are plain typed tuples; the checks that judge them are
pure functions in :mod:`reports.control`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select
from sqlalchemy.sql.elements import ColumnElement

from core.entities import Entity
from store.queries.journal import Span
from store.records import AUDIT, table_of


@dataclass(frozen=True, slots=True)
class LessonFact:
    id: str
    class_id: str
    subgroup_id: str | None
    subject_id: str
    teacher_id: str | None
    substitute_teacher_id: str | None
    date: dt.date
    number: int
    has_topic: bool
    has_homework: bool


@dataclass(frozen=True, slots=True)
class MarkFact:
    id: str
    pupil_id: str
    lesson_id: str
    value: str
    work_type: str | None
    weight: int
    created_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AbsenceFact:
    id: str
    pupil_id: str
    lesson_id: str
    code: str


@dataclass(frozen=True, slots=True)
class PeriodMarkFact:
    id: str
    pupil_id: str
    subject_id: str
    period_id: str
    value: str


@dataclass(frozen=True, slots=True)
class MarkChange:
    """One update or deletion of a current mark or a period mark, with where the mark sits
    (read from its row, which a soft deletion keeps): ``lesson_id`` for a current mark,
    ``subject_id``/``period_id`` for a period mark."""

    audit_id: int
    entity: str
    record_id: str
    op: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    source: str
    actor: str
    at: dt.datetime
    pupil_id: str | None
    lesson_id: str | None
    subject_id: str | None
    period_id: str | None
    value: str | None


def _text(column: Any) -> ColumnElement[bool]:
    return and_(column.is_not(None), column != "")


class ControlQueries:
    """Reads of the journal-control report over one connection (part of ``tx.queries``)."""

    conn: Connection

    def _lesson_span(self, span: Span, class_ids: Collection[str] | None) -> list[Any]:
        c = table_of(Entity.LESSONS).c
        conds: list[Any] = [c.deleted_at.is_(None)]
        if span.start is not None:
            conds.append(c.date >= span.start)
        if span.end is not None:
            conds.append(c.date <= span.end)
        if class_ids is not None:
            conds.append(c.class_id.in_(sorted(class_ids)))
        return conds

    def control_lessons(
        self, school_id: str, span: Span, class_ids: Collection[str] | None = None
    ) -> list[LessonFact]:
        """Live lessons of the span (and classes), by date and number: whether each has a topic
        and homework, not their text."""
        c = table_of(Entity.LESSONS).c
        stmt = (
            select(
                c.id,
                c.class_id,
                c.subgroup_id,
                c.subject_id,
                c.teacher_id,
                c.substitute_teacher_id,
                c.date,
                c.number,
                _text(c.topic),
                _text(c.homework),
            )
            .where(c.school_id == school_id, *self._lesson_span(span, class_ids))
            .order_by(c.date, c.number, c.id)
        )
        return [
            LessonFact(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), bool(r[9]))
            for r in self.conn.execute(stmt)
        ]

    def control_marks(
        self, school_id: str, span: Span, class_ids: Collection[str] | None = None
    ) -> list[MarkFact]:
        """Live current marks on the lessons of the span (and classes)."""
        m = table_of(Entity.MARKS)
        le = table_of(Entity.LESSONS)
        stmt = (
            select(
                m.c.id,
                m.c.pupil_id,
                m.c.lesson_id,
                m.c.value,
                m.c.work_type,
                m.c.weight,
                m.c.created_at,
            )
            .join(le, le.c.id == m.c.lesson_id)
            .where(
                m.c.school_id == school_id,
                m.c.deleted_at.is_(None),
                le.c.school_id == school_id,
                *self._lesson_span(span, class_ids),
            )
            .order_by(le.c.date, le.c.number, m.c.id)
        )
        return [MarkFact(*r) for r in self.conn.execute(stmt)]

    def control_attendance(
        self,
        school_id: str,
        span: Span,
        class_ids: Collection[str] | None = None,
        codes: Collection[str] | None = None,
    ) -> list[AbsenceFact]:
        """Live attendance entries (of the codes given) on the lessons of the span."""
        a = table_of(Entity.ATTENDANCE)
        le = table_of(Entity.LESSONS)
        conds: list[Any] = [
            a.c.school_id == school_id,
            a.c.deleted_at.is_(None),
            le.c.school_id == school_id,
            *self._lesson_span(span, class_ids),
        ]
        if codes is not None:
            conds.append(a.c.code.in_(sorted(codes)))
        stmt = (
            select(a.c.id, a.c.pupil_id, a.c.lesson_id, a.c.code)
            .join(le, le.c.id == a.c.lesson_id)
            .where(*conds)
            .order_by(le.c.date, le.c.number, a.c.id)
        )
        return [AbsenceFact(*r) for r in self.conn.execute(stmt)]

    def control_period_marks(
        self, school_id: str, period_ids: Collection[str]
    ) -> list[PeriodMarkFact]:
        """Live period marks (kind ``period``) of the periods given."""
        if not period_ids:
            return []
        f = table_of(Entity.FINAL_MARKS).c
        stmt = (
            select(f.id, f.pupil_id, f.subject_id, f.period_id, f.value)
            .where(
                f.school_id == school_id,
                f.deleted_at.is_(None),
                f.kind == "period",
                f.period_id.in_(sorted(period_ids)),
            )
            .order_by(f.id)
        )
        return [PeriodMarkFact(*r) for r in self.conn.execute(stmt)]

    def control_changes(
        self,
        school_id: str,
        span: Span,
        period_ids: Collection[str] = (),
        class_ids: Collection[str] | None = None,
    ) -> list[MarkChange]:
        """Updates and deletions of the current marks on the span's lessons (whenever they were
        made) and of the period marks of ``period_ids``, oldest first: two statements, each the
        audit joined to the mark's own row (kept when soft-deleted) and, for current marks, to
        its lesson."""
        au = AUDIT.c
        m = table_of(Entity.MARKS)
        le = table_of(Entity.LESSONS)
        stmt = (
            select(
                au.id,
                au.entity,
                au.record_id,
                au.op,
                au.old,
                au.new,
                au.source,
                au.actor,
                au.at,
                m.c.pupil_id,
                m.c.lesson_id,
                m.c.value,
            )
            .join(m, m.c.id == au.record_id)
            .join(le, le.c.id == m.c.lesson_id)
            .where(
                au.school_id == school_id,
                au.entity == Entity.MARKS.value,
                au.op.in_(("update", "delete")),
                *self._lesson_span(span, class_ids),
                le.c.school_id == school_id,
            )
            .order_by(au.at, au.id)
        )
        out = [
            MarkChange(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], None, None, r[11]
            )
            for r in self.conn.execute(stmt)
        ]
        if period_ids:
            f = table_of(Entity.FINAL_MARKS)
            stmt2 = (
                select(
                    au.id,
                    au.entity,
                    au.record_id,
                    au.op,
                    au.old,
                    au.new,
                    au.source,
                    au.actor,
                    au.at,
                    f.c.pupil_id,
                    f.c.subject_id,
                    f.c.period_id,
                    f.c.value,
                )
                .join(f, f.c.id == au.record_id)
                .where(
                    au.school_id == school_id,
                    au.entity == Entity.FINAL_MARKS.value,
                    au.op.in_(("update", "delete")),
                    f.c.kind == "period",
                    f.c.period_id.in_(sorted(period_ids)),
                )
                .order_by(au.at, au.id)
            )
            out.extend(
                MarkChange(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    r[6],
                    r[7],
                    r[8],
                    r[9],
                    None,
                    r[10],
                    r[11],
                    r[12],
                )
                for r in self.conn.execute(stmt2)
            )
            out.sort(key=lambda ch: (ch.at, ch.audit_id))
        return out


__all__ = [
    "AbsenceFact",
    "ControlQueries",
    "LessonFact",
    "MarkChange",
    "MarkFact",
    "PeriodMarkFact",
]
