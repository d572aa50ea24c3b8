"""Declarative models of the canonical entity tables: one table per :class:`~core.entities.Entity`.

Each table holds the record's content fields as typed columns (dates as DATE, a mark value as its
canonical string, tuples as JSON) beside the bookkeeping columns every record has: ``school_id``, ``modified_at``,
``content_hash``, ``deleted_at`` (soft delete: history and feed tombstones keep the natural key)
and ``version`` (+1 per change).

A record's ids in the external systems are not a column here: the identity map is their one
source, and a record read from the store carries them from there (see :mod:`store.records`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core.entities import Entity
from store.tables.base import ID, NAME, Base


class RecordRow(Base):
    """Columns every canonical record table has."""

    __abstract__ = True
    entity: Entity

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ID, index=True)
    modified_at: Mapped[dt.datetime | None]
    content_hash: Mapped[str] = mapped_column(String(32))
    deleted_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr.directive
    def __tablename__(cls) -> str:  # noqa: N805
        return cls.entity.value


class SchoolRow(RecordRow):
    entity = Entity.SCHOOLS
    name: Mapped[str] = mapped_column(NAME)
    timezone: Mapped[str] = mapped_column(String(64))


class YearRow(RecordRow):
    entity = Entity.YEARS
    name: Mapped[str] = mapped_column(String(9))
    start: Mapped[dt.date]
    end: Mapped[dt.date]


class PeriodRow(RecordRow):
    entity = Entity.PERIODS
    name: Mapped[str] = mapped_column(NAME)
    kind: Mapped[str] = mapped_column(String(16))
    parallels: Mapped[list[Any]]
    start: Mapped[dt.date]
    end: Mapped[dt.date]
    closed: Mapped[bool]


class SubjectRow(RecordRow):
    entity = Entity.SUBJECTS
    name: Mapped[str] = mapped_column(NAME)
    short: Mapped[str | None] = mapped_column(NAME)


class TeacherRow(RecordRow):
    entity = Entity.TEACHERS
    last_name: Mapped[str] = mapped_column(NAME)
    first_name: Mapped[str] = mapped_column(NAME)
    middle_name: Mapped[str | None] = mapped_column(NAME)


class ClassRow(RecordRow):
    entity = Entity.CLASSES
    name: Mapped[str] = mapped_column(NAME)
    parallel: Mapped[int]
    year: Mapped[str] = mapped_column(String(9))
    class_teacher_id: Mapped[str | None] = mapped_column(ID)


class PupilRow(RecordRow):
    entity = Entity.PUPILS
    last_name: Mapped[str] = mapped_column(NAME)
    first_name: Mapped[str] = mapped_column(NAME)
    middle_name: Mapped[str | None] = mapped_column(NAME)
    birth_date: Mapped[dt.date]
    snils: Mapped[str | None] = mapped_column(String(11))
    class_id: Mapped[str | None] = mapped_column(ID, index=True)
    status: Mapped[str] = mapped_column(String(16))
    left_date: Mapped[dt.date | None]


class EnrolmentRow(RecordRow):
    entity = Entity.ENROLMENTS
    pupil_id: Mapped[str] = mapped_column(ID, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date]
    from_class_id: Mapped[str | None] = mapped_column(ID)
    to_class_id: Mapped[str | None] = mapped_column(ID)


class SubgroupRow(RecordRow):
    entity = Entity.SUBGROUPS
    class_id: Mapped[str] = mapped_column(ID, index=True)
    subject_id: Mapped[str] = mapped_column(ID)
    teacher_id: Mapped[str | None] = mapped_column(ID)
    name: Mapped[str] = mapped_column(NAME)
    member_ids: Mapped[list[Any]]


class LessonRow(RecordRow):
    entity = Entity.LESSONS
    class_id: Mapped[str] = mapped_column(ID)
    subgroup_id: Mapped[str | None] = mapped_column(ID)
    subject_id: Mapped[str] = mapped_column(ID)
    teacher_id: Mapped[str | None] = mapped_column(ID)
    substitute_teacher_id: Mapped[str | None] = mapped_column(ID)
    date: Mapped[dt.date]
    number: Mapped[int]
    topic: Mapped[str | None] = mapped_column(Text)
    homework: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index(None, "class_id", "date"),)


class MarkRow(RecordRow):
    entity = Entity.MARKS
    pupil_id: Mapped[str] = mapped_column(ID, index=True)
    lesson_id: Mapped[str] = mapped_column(ID, index=True)
    value: Mapped[str] = mapped_column(String(8))
    work_type: Mapped[str | None] = mapped_column(NAME)
    weight: Mapped[int]
    created_at: Mapped[dt.datetime | None]


class FinalMarkRow(RecordRow):
    entity = Entity.FINAL_MARKS
    pupil_id: Mapped[str] = mapped_column(ID, index=True)
    subject_id: Mapped[str] = mapped_column(ID)
    period_id: Mapped[str | None] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(8))


class AttendanceRow(RecordRow):
    entity = Entity.ATTENDANCE
    pupil_id: Mapped[str] = mapped_column(ID, index=True)
    lesson_id: Mapped[str] = mapped_column(ID, index=True)
    code: Mapped[str] = mapped_column(String(2))


ROWS: dict[Entity, type[RecordRow]] = {
    cls.entity: cls
    for cls in (
        SchoolRow,
        YearRow,
        PeriodRow,
        SubjectRow,
        TeacherRow,
        ClassRow,
        PupilRow,
        EnrolmentRow,
        SubgroupRow,
        LessonRow,
        MarkRow,
        FinalMarkRow,
        AttendanceRow,
    )
}
"""The row class of each entity."""
