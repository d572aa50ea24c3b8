"""The journal on the read side: a school's roster, its lessons, marks, absences and period
marks for a class and a span of days, the history of its marks, and every record of an entity
streamed in id order (what a reconciliation merges against). Reports and the console read the
journal through these; nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, and_, select
from sqlalchemy.sql.elements import ColumnElement

from core.entities import Entity
from mapping.model import (
    Attendance,
    FinalMark,
    Lesson,
    Mark,
    Period,
    Pupil,
    Record,
    SchoolClass,
    Subgroup,
    Subject,
    Teacher,
)
from store.codec import CODECS
from store.params import byte_order, one_of
from store.records import AUDIT, table_of

_MARK_HISTORY = (Entity.MARKS.value, Entity.FINAL_MARKS.value)


@dataclass(frozen=True)
class Roster:
    """A school's roster: every live period, subject, teacher, class, pupil and subgroup."""

    periods: dict[str, Period] = field(default_factory=dict)
    subjects: dict[str, Subject] = field(default_factory=dict)
    teachers: dict[str, Teacher] = field(default_factory=dict)
    classes: dict[str, SchoolClass] = field(default_factory=dict)
    pupils: dict[str, Pupil] = field(default_factory=dict)
    subgroups: dict[str, Subgroup] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LessonKey:
    """Where a lesson sits: what a mark or an absence is filed under."""

    class_id: str
    subject_id: str
    date: dt.date
    number: int
    subgroup_id: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One change of a mark (an audit row): which, how, by whom, when, old → new."""

    entity: str
    record_id: str
    op: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    source: str
    actor: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Span:
    """Days of lessons, both included; a side left ``None`` is open."""

    start: dt.date | None = None
    end: dt.date | None = None


def _typed(entity: Entity, rows: Iterator[RowMapping]) -> dict[str, Any]:
    decode = CODECS[entity].decode
    return {r["id"]: decode(r) for r in rows}


class JournalQueries:
    """Reads of the journal over one connection (part of ``tx.queries``)."""

    conn: Connection

    def _live(self, entity: Entity, school_id: str) -> Select[Any]:
        t = table_of(entity)
        return select(t).where(t.c.school_id == school_id, t.c.deleted_at.is_(None))

    def _decoded(self, entity: Entity, stmt: Select[Any]) -> dict[str, Any]:
        return _typed(entity, (r._mapping for r in self.conn.execute(stmt)))

    def roster(self, school_id: str) -> Roster:
        return Roster(
            periods=self._decoded(Entity.PERIODS, self._live(Entity.PERIODS, school_id)),
            subjects=self._decoded(Entity.SUBJECTS, self._live(Entity.SUBJECTS, school_id)),
            teachers=self._decoded(Entity.TEACHERS, self._live(Entity.TEACHERS, school_id)),
            classes=self._decoded(Entity.CLASSES, self._live(Entity.CLASSES, school_id)),
            pupils=self._decoded(Entity.PUPILS, self._live(Entity.PUPILS, school_id)),
            subgroups=self._decoded(Entity.SUBGROUPS, self._live(Entity.SUBGROUPS, school_id)),
        )

    def lesson_keys(self, school_id: str) -> dict[str, LessonKey]:
        """``lesson id → where it sits`` for every live lesson of the school (a few columns)."""
        c = table_of(Entity.LESSONS).c
        stmt = select(c.id, c.class_id, c.subject_id, c.date, c.number, c.subgroup_id).where(
            c.school_id == school_id, c.deleted_at.is_(None)
        )
        return {r[0]: LessonKey(r[1], r[2], r[3], r[4], r[5]) for r in self.conn.execute(stmt)}

    def _lesson_conds(
        self, school_id: str, span: Span, class_ids: Collection[str] | None
    ) -> list[ColumnElement[bool]]:
        c = table_of(Entity.LESSONS).c
        conds: list[ColumnElement[bool]] = [c.school_id == school_id, c.deleted_at.is_(None)]
        if span.start is not None:
            conds.append(c.date >= span.start)
        if span.end is not None:
            conds.append(c.date <= span.end)
        if class_ids is not None:
            conds.append(c.class_id.in_(sorted(class_ids)))
        return conds

    def lessons(
        self, school_id: str, span: Span = Span(), class_ids: Collection[str] | None = None
    ) -> list[Lesson]:
        """Live lessons of the span (and classes), by date and number."""
        t = table_of(Entity.LESSONS)
        stmt = (
            select(t)
            .where(*self._lesson_conds(school_id, span, class_ids))
            .order_by(t.c.date, t.c.number, t.c.id)
        )
        decode = CODECS[Entity.LESSONS].decode
        return [
            rec for r in self.conn.execute(stmt) if isinstance(rec := decode(r._mapping), Lesson)
        ]

    def _of_lessons(
        self,
        entity: Entity,
        school_id: str,
        span: Span,
        class_ids: Collection[str] | None,
    ) -> list[Record]:
        t = table_of(entity)
        lessons = table_of(Entity.LESSONS)
        stmt = (
            select(t)
            .join(lessons, lessons.c.id == t.c.lesson_id)
            .where(
                t.c.school_id == school_id,
                t.c.deleted_at.is_(None),
                *self._lesson_conds(school_id, span, class_ids),
            )
            .order_by(lessons.c.date, lessons.c.number, t.c.id)
        )
        decode = CODECS[entity].decode
        return [decode(r._mapping) for r in self.conn.execute(stmt)]

    def marks(
        self, school_id: str, span: Span = Span(), class_ids: Collection[str] | None = None
    ) -> list[Mark]:
        """Live current marks for the lessons of the span (and classes)."""
        return [
            m
            for m in self._of_lessons(Entity.MARKS, school_id, span, class_ids)
            if isinstance(m, Mark)
        ]

    def attendance(
        self, school_id: str, span: Span = Span(), class_ids: Collection[str] | None = None
    ) -> list[Attendance]:
        """Live attendance entries for the lessons of the span (and classes)."""
        return [
            a
            for a in self._of_lessons(Entity.ATTENDANCE, school_id, span, class_ids)
            if isinstance(a, Attendance)
        ]

    def final_marks(
        self, school_id: str, *, pupil_ids: Collection[str] | None = None
    ) -> list[FinalMark]:
        """Live period, year, exam and final marks (of the pupils given)."""
        t = table_of(Entity.FINAL_MARKS)
        stmt = self._live(Entity.FINAL_MARKS, school_id)
        if pupil_ids is not None:
            stmt = stmt.where(t.c.pupil_id.in_(sorted(pupil_ids)))
        decode = CODECS[Entity.FINAL_MARKS].decode
        return [
            f
            for r in self.conn.execute(stmt.order_by(t.c.id))
            if isinstance(f := decode(r._mapping), FinalMark)
        ]

    def mark_history(
        self, school_id: str, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[HistoryRow]:
        """Updates and deletions of current and period marks (who, when, old → new), oldest
        first."""
        c = AUDIT.c
        conds: list[ColumnElement[bool]] = [
            c.school_id == school_id,
            c.entity.in_(_MARK_HISTORY),
            c.op.in_(("update", "delete")),
        ]
        if since is not None:
            conds.append(c.at >= since)
        if until is not None:
            conds.append(c.at < until)
        stmt = (
            select(c.entity, c.record_id, c.op, c.old, c.new, c.source, c.actor, c.at)
            .where(and_(*conds))
            .order_by(c.at, c.id)
        )
        return [HistoryRow(*row) for row in self.conn.execute(stmt)]

    def records_by_id(
        self, entity: Entity, ids: Collection[str], *, include_deleted: bool = True
    ) -> dict[str, Record]:
        """Records of ``entity`` by id (soft-deleted ones too unless asked otherwise): the
        history of a deleted mark still names its pupil and lesson."""
        t = table_of(entity)
        out: dict[str, Record] = {}
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 5000):
            stmt = select(t).where(t.c.id.in_(wanted[start : start + 5000]))
            if not include_deleted:
                stmt = stmt.where(t.c.deleted_at.is_(None))
            out.update(self._decoded(entity, stmt))
        return out

    def record_hashes(
        self, entity: Entity, school_id: str, *, batch: int = 5000
    ) -> Iterator[tuple[str, str]]:
        """``(id, content_hash)`` of every live row of ``entity`` in the school, streamed in id
        order — byte order on every engine (``COLLATE "C"`` on PostgreSQL), the order of
        Python's ``str`` comparison, so that a merge against another id-sorted stream holds.
        What a merge needs to tell matched records from the rest without reading (and
        converting) the rows themselves (:meth:`rows_by_id` reads those)."""
        t = table_of(entity)
        stmt = (
            select(t.c.id, t.c.content_hash)
            .where(t.c.school_id == school_id, t.c.deleted_at.is_(None))
            .order_by(byte_order(self.conn, t.c.id))
            .execution_options(yield_per=batch)
        )
        for gid, content_hash in self.conn.execute(stmt):  # noqa: UP028 (plain tuples, not rows)
            yield gid, content_hash

    def rows_by_id(
        self, entity: Entity, school_id: str, ids: Collection[str]
    ) -> dict[str, RowMapping]:
        """The live rows of ``entity`` in the school with one of ``ids``, by id."""
        t = table_of(entity)
        out: dict[str, RowMapping] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 10_000):
            stmt = select(t).where(
                t.c.school_id == school_id,
                t.c.deleted_at.is_(None),
                one_of(self.conn, t.c.id, wanted[start : start + 10_000]),
            )
            out.update((row.id, row._mapping) for row in self.conn.execute(stmt))
        return out


__all__ = ["HistoryRow", "JournalQueries", "LessonKey", "Roster", "Span"]
