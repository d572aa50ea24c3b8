"""A school's records as they stand, for a snapshot: live records of one entity, filtered by
class, pupil, dates and period, in id order and paged by the last id (keyset paging: a page
costs the same wherever it is in the listing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, or_, select
from sqlalchemy.sql.elements import ColumnElement

from core.entities import Entity
from store.codec import CODECS
from store.queries.feed import json_value
from store.records import table_of

#: entities whose records belong to a lesson: dates and classes are their lesson's
_LESSON_BOUND = (Entity.MARKS, Entity.ATTENDANCE)


@dataclass(frozen=True, slots=True)
class SnapshotFilter:
    """What a snapshot page is limited to; ``None`` leaves a filter out.

    ``class_id`` — classes: that class; pupils and lessons: of the class; marks and absences: of
    lessons of the class; period marks: of pupils now in the class. ``pupil_id`` — pupils: that
    pupil; marks, absences, period marks: the pupil's. ``date_from``/``date_to`` (inclusive) —
    lessons' dates; marks' and absences' lesson dates. ``period_id`` — period marks.
    ``subgroups`` — lessons: only class-wide lessons and those of these subgroups (a diary).
    """

    class_id: str | None = None
    pupil_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    period_id: str | None = None
    subgroups: Sequence[str] | None = None


class SnapshotQueries:
    conn: Connection

    def snapshot(
        self,
        entity: Entity,
        school_id: str,
        where: SnapshotFilter,
        *,
        after_id: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` live records with ids after ``after_id``: ``id``, ``version`` and the
        content fields in JSON form."""
        codec = CODECS[entity]
        table = table_of(entity)
        t = table.c
        fields = codec.content_fields + codec.extra_fields
        conds: list[ColumnElement[bool]] = [t.school_id == school_id, t.deleted_at.is_(None)]
        if after_id is not None:
            conds.append(t.id > after_id)
        stmt: Select[Any] = select(t.id, t.version, *(t[f] for f in fields))
        if entity in _LESSON_BOUND and (where.class_id or where.date_from or where.date_to):
            lessons = table_of(Entity.LESSONS).c
            stmt = stmt.join(table_of(Entity.LESSONS), lessons.id == t.lesson_id)
            conds += _dated(lessons.class_id, lessons.date, where)
        elif entity is Entity.LESSONS:
            conds += _dated(t.class_id, t.date, where)
            if where.subgroups is not None:
                conds.append(or_(t.subgroup_id.is_(None), t.subgroup_id.in_(where.subgroups)))
        elif entity is Entity.FINAL_MARKS and where.class_id is not None:
            pupils = table_of(Entity.PUPILS).c
            stmt = stmt.join(table_of(Entity.PUPILS), pupils.id == t.pupil_id)
            conds.append(pupils.class_id == where.class_id)
        elif entity in (Entity.CLASSES, Entity.PUPILS) and where.class_id is not None:
            conds.append((t.id if entity is Entity.CLASSES else t.class_id) == where.class_id)
        if where.pupil_id is not None:
            conds.append((t.id if entity is Entity.PUPILS else t.pupil_id) == where.pupil_id)
        if where.period_id is not None:
            conds.append(t.period_id == where.period_id)
        stmt = stmt.where(*conds).order_by(t.id).limit(limit)
        out = []
        for row in self.conn.execute(stmt):
            item = {"id": row[0], "version": row[1]}
            item.update({f: json_value(v) for f, v in zip(fields, row[2:], strict=True)})
            out.append(item)
        return out

    def pupil_place(self, school_id: str, pupil_id: str) -> tuple[str | None, list[str]] | None:
        """The live pupil's class and the subgroups of it they belong to; None when unknown."""
        pupils = table_of(Entity.PUPILS).c
        row = self.conn.execute(
            select(pupils.class_id).where(
                pupils.id == pupil_id, pupils.school_id == school_id, pupils.deleted_at.is_(None)
            )
        ).first()
        if row is None:
            return None
        class_id = row[0]
        if class_id is None:
            return None, []
        groups = table_of(Entity.SUBGROUPS).c
        found = self.conn.execute(
            select(groups.id, groups.member_ids).where(
                groups.class_id == class_id, groups.deleted_at.is_(None)
            )
        )
        return class_id, sorted(gid for gid, members in found if pupil_id in (members or ()))


def _dated(
    class_col: ColumnElement[Any], date_col: ColumnElement[Any], where: SnapshotFilter
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if where.class_id is not None:
        conds.append(class_col == where.class_id)
    if where.date_from is not None:
        conds.append(date_col >= where.date_from)
    if where.date_to is not None:
        conds.append(date_col <= where.date_to)
    return conds
