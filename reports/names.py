"""Names for what reports show: classes, subjects, teachers, pupils (ФИО), periods, lessons —
read from the store when a report is rendered, so that a stored report, which keeps only ids,
shows the names of today. A reference the gateway does not know (``"es2:123"``) is shown as
such."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.entities import Entity, split_ext_ref
from core.names import join_fio
from mapping.model import Period, Pupil, Record, SchoolClass, Subgroup, Subject, Teacher
from reports import text
from store import Tx
from store.queries import LessonKey, Roster

#: reference fields and the entity they name
REF_FIELDS: dict[str, Entity] = {
    "class_id": Entity.CLASSES,
    "from_class_id": Entity.CLASSES,
    "to_class_id": Entity.CLASSES,
    "subject_id": Entity.SUBJECTS,
    "teacher_id": Entity.TEACHERS,
    "substitute_teacher_id": Entity.TEACHERS,
    "class_teacher_id": Entity.TEACHERS,
    "pupil_id": Entity.PUPILS,
    "lesson_id": Entity.LESSONS,
    "period_id": Entity.PERIODS,
    "subgroup_id": Entity.SUBGROUPS,
}


def unknown(ref: str) -> str:
    parts = split_ext_ref(ref)
    if parts is None:
        return f"нет в шлюзе ({ref})"
    return f"нет в шлюзе ({text.system_name(parts[0])}, id {parts[1]})"


class Names:
    def __init__(self, tx: Tx, school_id: str, roster: Roster | None = None) -> None:
        self.tx = tx
        self.school_id = school_id
        self.roster = roster or tx.queries.roster(school_id)
        self._lessons: dict[str, LessonKey] | None = None
        self._extra: dict[tuple[Entity, str], Record | None] = {}

    @property
    def lessons(self) -> dict[str, LessonKey]:
        if self._lessons is None:
            self._lessons = self.tx.queries.lesson_keys(self.school_id)
        return self._lessons

    def _record(self, entity: Entity, rid: str) -> Record | None:
        """A record the roster lacks (a pupil who left and was deleted, …), looked up once."""
        key = (entity, rid)
        if key not in self._extra:
            found = self.tx.queries.records_by_id(entity, [rid])
            self._extra[key] = found.get(rid)
        return self._extra[key]

    def preload(self, entity: Entity, ids: Iterable[str]) -> None:
        wanted = [i for i in set(ids) if (entity, i) not in self._extra]
        if wanted:
            found = self.tx.queries.records_by_id(entity, wanted)
            for i in wanted:
                self._extra[(entity, i)] = found.get(i)

    def preload_pupils(self, ids: Iterable[str]) -> None:
        """Pupils the roster lacks (who left and were deleted), read at once."""
        self.preload(Entity.PUPILS, ids)

    def pupil_record(self, pid: str) -> Record | None:
        """A pupil as the store holds it (also one deleted from the roster)."""
        return self.roster.pupils.get(pid) or self._record(Entity.PUPILS, pid)

    def class_name(self, cid: str | None) -> str:
        if not cid:
            return ""
        c = self.roster.classes.get(cid) or self._record(Entity.CLASSES, cid)
        return c.name if isinstance(c, SchoolClass) else unknown(cid)

    def subject_name(self, sid: str | None) -> str:
        if not sid:
            return ""
        s = self.roster.subjects.get(sid) or self._record(Entity.SUBJECTS, sid)
        return s.name if isinstance(s, Subject) else unknown(sid)

    def person(self, entity: Entity, pid: str | None) -> str:
        if not pid:
            return ""
        table = self.roster.pupils if entity is Entity.PUPILS else self.roster.teachers
        p = table.get(pid) or self._record(entity, pid)
        if isinstance(p, Pupil | Teacher):
            return join_fio(p.last_name, p.first_name, p.middle_name)
        return unknown(pid)

    def pupil(self, pid: str | None) -> str:
        return self.person(Entity.PUPILS, pid)

    def teacher(self, tid: str | None) -> str:
        return self.person(Entity.TEACHERS, tid)

    def teacher_short(self, tid: str | None) -> str:
        """«Иванова А. П.»"""
        if not tid:
            return ""
        t = self.roster.teachers.get(tid) or self._record(Entity.TEACHERS, tid)
        if not isinstance(t, Teacher):
            return unknown(tid)
        initials = "".join(f" {n[0]}." for n in (t.first_name, t.middle_name) if n)
        return t.last_name + initials

    def period_name(self, pid: str | None) -> str:
        if not pid:
            return ""
        p = self.roster.periods.get(pid) or self._record(Entity.PERIODS, pid)
        return p.name if isinstance(p, Period) else unknown(pid)

    def subgroup_name(self, gid: str | None) -> str:
        if not gid:
            return ""
        g = self.roster.subgroups.get(gid) or self._record(Entity.SUBGROUPS, gid)
        return g.name if isinstance(g, Subgroup) else unknown(gid)

    def lesson(self, lid: str | None) -> str:
        if not lid:
            return ""
        key = self.lessons.get(lid)
        if key is None:
            return unknown(lid)
        return f"{text.day(key.date)}, {key.number}-й урок, {self.subject_name(key.subject_id)}"

    def name_of(self, entity: Entity, rid: str | None) -> str:
        """Whatever names a record of ``entity``."""
        if rid is None:
            return ""
        if split_ext_ref(rid) is not None:  # still the system's reference: not in the gateway
            return unknown(rid)
        match entity:
            case Entity.CLASSES:
                return self.class_name(rid)
            case Entity.SUBJECTS:
                return self.subject_name(rid)
            case Entity.TEACHERS | Entity.PUPILS:
                return self.person(entity, rid)
            case Entity.LESSONS:
                return self.lesson(rid)
            case Entity.PERIODS:
                return self.period_name(rid)
            case Entity.SUBGROUPS:
                return self.subgroup_name(rid)
        return rid

    def value(self, field: str, raw: Any) -> str:
        """A field's value as a reader sees it: references as names, codes spelled out."""
        target = REF_FIELDS.get(field)
        if target is not None and isinstance(raw, str) and raw:
            return self.name_of(target, raw)
        if field == "member_ids" and isinstance(raw, list):
            return f"{len(raw)} чел."
        return text.value(field, raw)
