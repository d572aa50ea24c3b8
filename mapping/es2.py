"""ES2 wire ⇄ canonical, driven by the ``es2`` profile (code tables and time zone as data).

``to_canonical`` turns one wire item into a canonical record whose id and references are external
references (``"es2:55001"``); :func:`mapping.identity.resolve` rewrites them into gateway ids. A
wire item with ``"deleted": true`` becomes a :class:`Tombstone`. ``to_wire`` builds the item of a
batch push from a canonical record; ``resolve_ext(entity, gateway_id)`` gives the ES2 id.

Errors name the entity and the ES2 id, never a value (ФИО, birth dates and СНИЛС are personal data).
ES2 has no enrolment history: pupils map to canonical ``Pupil`` only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from core.entities import Entity, ext_ref
from core.errors import RecordError
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
    Tombstone,
)
from mapping.notes import FieldNote
from mapping.profile import Profile
from mapping.validation import build, dropped
from mapping.values import AttendanceCode, InvalidValue, MarkValue

SYSTEM = "es2"
ResolveExt = Callable[[Entity, str], str | None]
Wire = Mapping[str, Any]


class _Item:
    """Field access on one wire item; every error names the entity, the id and the field."""

    def __init__(self, entity: Entity, wire: Wire, profile: Profile) -> None:
        self.entity = entity
        self.wire = wire
        self.profile = profile
        #: optional fields that could not be read: stored empty, noted
        self.notes: list[FieldNote] = []
        raw_id = wire.get("id")
        if raw_id is None or isinstance(raw_id, (dict, list, bool)):
            raise RecordError("item has no id", entity=entity, system=SYSTEM, field="id")
        self.id = str(raw_id)

    def error(self, reason: str, field: str) -> RecordError:
        return RecordError(
            reason,
            entity=self.entity,
            record_id=self.id,
            field=field,
            system=SYSTEM,
            value=self.wire.get(field),
        )

    def req(self, field: str) -> Any:
        value = self.wire.get(field)
        if value is None:
            raise self.error("is missing", field)
        return value

    def ref(self, field: str, target: Entity, *, required: bool = True) -> str | None:
        value = self.wire.get(field)
        if value is None:
            if required:
                raise self.error("is missing", field)
            return None
        if isinstance(value, (dict, list, bool)):
            raise self.error("is not an id", field)
        return ext_ref(SYSTEM, value)

    def code(self, table: str, field: str, value: Any = None) -> str:
        raw = self.req(field) if value is None else value
        canonical = self.profile.code(table, str(raw))
        if canonical is None:
            raise self.error(f"code not in the profile table {table!r}", field)
        return canonical

    def time(self, field: str) -> dt.datetime | None:
        """An optional time; one that cannot be read is dropped with a note."""
        value = self.wire.get(field)
        if value is None:
            return None
        try:
            return to_utc(str(value), self.profile)
        except ValueError:
            self.notes.append(dropped(field, "is not an ISO 8601 time", value))
            return None

    def build(self, model: type[Record], fields: dict[str, Any], school_id: str) -> Record:
        fields = {
            "id": ext_ref(SYSTEM, self.id),
            "school_id": school_id,
            "ext_ids": {SYSTEM: self.id},
            **fields,
        }
        return build(model, fields, system=SYSTEM, record_id=self.id, notes=self.notes)


def to_utc(value: str, profile: Profile) -> dt.datetime:
    """An ES2 time (``+07:00``, or naive in the profile's zone) as an aware UTC datetime.

    A page repeats its times (a lesson's marks are entered together): each distinct spelling
    is parsed and converted once, then served from a small cache (datetimes are immutable)."""
    key = (value, profile.timezone)
    found = _TIMES.get(key)
    if found is not None:
        return found
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=profile.timezone)
    found = parsed.astimezone(dt.UTC)
    if len(_TIMES) >= _TIMES_MAX:
        _TIMES.clear()  # bounded: a long pull never grows it past this
    _TIMES[key] = found
    return found


_TIMES: dict[tuple[str, dt.tzinfo], dt.datetime] = {}
_TIMES_MAX = 4096


def to_canonical(
    entity: Entity, wire: Wire, *, profile: Profile, school_id: str
) -> Record | Tombstone:
    item = _Item(entity, wire, profile)
    if wire.get("deleted") is True:
        return Tombstone(
            entity=entity,
            id=ext_ref(SYSTEM, item.id),
            school_id=school_id,
            modified_at=item.time("updated_at"),
        )
    mapper = _TO_CANONICAL.get(entity)
    if mapper is None:
        raise RecordError("ES2 does not carry this entity", entity=entity, system=SYSTEM)
    fields = mapper(item)
    fields.setdefault("modified_at", item.time("updated_at"))
    return item.build(_MODELS[entity], fields, school_id)


def _period(it: _Item) -> dict[str, Any]:
    return {
        "name": it.req("name"),
        "kind": it.code("period_kind", "kind"),
        "parallels": it.req("parallels"),
        "start": it.req("start"),
        "end": it.req("end"),
    }


def _subject(it: _Item) -> dict[str, Any]:
    return {"name": it.req("name"), "short": it.wire.get("short")}


def _teacher(it: _Item) -> dict[str, Any]:
    return {
        "last_name": it.req("last_name"),
        "first_name": it.req("first_name"),
        "middle_name": it.wire.get("middle_name") or None,
    }


def _group(it: _Item) -> dict[str, Any]:
    return {
        "name": it.req("name"),
        "parallel": it.req("parallel"),
        "year": it.req("year"),
        "class_teacher_id": it.ref("class_teacher_id", Entity.TEACHERS, required=False),
    }


def _pupil(it: _Item) -> dict[str, Any]:
    return {
        **_teacher(it),
        "birth_date": it.req("birth_date"),
        "snils": it.wire.get("snils"),
        "class_id": it.ref("group_id", Entity.CLASSES, required=False),
        "status": it.code("pupil_status", "status"),
        "left_date": it.wire.get("left_date"),
    }


def _subgroup(it: _Item) -> dict[str, Any]:
    members = it.wire.get("pupil_ids") or []
    if not isinstance(members, list):
        raise it.error("is not a list", "pupil_ids")
    return {
        "class_id": it.ref("group_id", Entity.CLASSES),
        "subject_id": it.ref("subject_id", Entity.SUBJECTS),
        "teacher_id": it.ref("teacher_id", Entity.TEACHERS, required=False),
        "name": it.req("name"),
        "member_ids": tuple(ext_ref(SYSTEM, m) for m in members),
    }


def _lesson(it: _Item) -> dict[str, Any]:
    return {
        "class_id": it.ref("group_id", Entity.CLASSES),
        "subgroup_id": it.ref("subgroup_id", Entity.SUBGROUPS, required=False),
        "subject_id": it.ref("subject_id", Entity.SUBJECTS),
        "teacher_id": it.ref("teacher_id", Entity.TEACHERS, required=False),
        "substitute_teacher_id": it.ref("substitute_teacher_id", Entity.TEACHERS, required=False),
        "date": it.req("date"),
        "number": it.req("number"),
        "topic": it.wire.get("topic") or None,
        "homework": it.wire.get("homework") or None,
    }


def _mark_value(it: _Item) -> MarkValue:
    try:
        return MarkValue.parse(it.req("value"))
    except InvalidValue:
        raise it.error(
            "is not an ES2 mark value (1–5, 4/5, зач, незач, осв, н/а)", "value"
        ) from None


def _mark(it: _Item) -> dict[str, Any]:
    work = it.wire.get("work_type")
    work_type: str | None = None
    if isinstance(work, Mapping):
        code, name = work.get("code"), work.get("name")
        work_type = (it.profile.code("work_type", str(code)) if code is not None else None) or name
    elif isinstance(work, str):
        work_type = it.profile.code("work_type", work) or work
    elif work is not None:
        raise it.error("is neither a code nor a {code, name} object", "work_type")
    return {
        "pupil_id": it.ref("pupil_id", Entity.PUPILS),
        "lesson_id": it.ref("lesson_id", Entity.LESSONS),
        "value": _mark_value(it),
        "work_type": work_type,
        "weight": it.wire.get("weight") or 1,
        "created_at": it.time("created_at"),
    }


def _controlmark(it: _Item) -> dict[str, Any]:
    return {
        "pupil_id": it.ref("pupil_id", Entity.PUPILS),
        "subject_id": it.ref("subject_id", Entity.SUBJECTS),
        "period_id": it.ref("period_id", Entity.PERIODS, required=False),
        "kind": it.code("final_kind", "kind"),
        "value": _mark_value(it),
    }


def _attendance(it: _Item) -> dict[str, Any]:
    return {
        "pupil_id": it.ref("pupil_id", Entity.PUPILS),
        "lesson_id": it.ref("lesson_id", Entity.LESSONS),
        "code": it.code("attendance", "code"),
    }


_TO_CANONICAL: dict[Entity, Callable[[_Item], dict[str, Any]]] = {
    Entity.PERIODS: _period,
    Entity.SUBJECTS: _subject,
    Entity.TEACHERS: _teacher,
    Entity.CLASSES: _group,
    Entity.PUPILS: _pupil,
    Entity.SUBGROUPS: _subgroup,
    Entity.LESSONS: _lesson,
    Entity.MARKS: _mark,
    Entity.FINAL_MARKS: _controlmark,
    Entity.ATTENDANCE: _attendance,
}
_MODELS: dict[Entity, type[Record]] = {
    Entity.PERIODS: Period,
    Entity.SUBJECTS: Subject,
    Entity.TEACHERS: Teacher,
    Entity.CLASSES: SchoolClass,
    Entity.PUPILS: Pupil,
    Entity.SUBGROUPS: Subgroup,
    Entity.LESSONS: Lesson,
    Entity.MARKS: Mark,
    Entity.FINAL_MARKS: FinalMark,
    Entity.ATTENDANCE: Attendance,
}

# -- canonical → wire (pushes) ------------------------------------------------------------------


def to_wire(record: Record, *, profile: Profile, resolve_ext: ResolveExt) -> dict[str, Any]:
    """The ES2 batch item for ``record`` (without ``client_key`` and ``id``: the connector adds them)."""
    mapper = _TO_WIRE.get(record.entity)
    if mapper is None:
        raise RecordError(
            "ES2 takes no pushes of this entity",
            entity=record.entity,
            record_id=record.id,
            system=SYSTEM,
        )
    return mapper(record, profile, _Resolver(record, resolve_ext))


class _Resolver:
    def __init__(self, record: Record, resolve_ext: ResolveExt) -> None:
        self.record = record
        self.resolve_ext = resolve_ext

    def __call__(self, field: str, *, required: bool = True) -> int | str | None:
        gid = getattr(self.record, field)
        if gid is None:
            if required:
                raise RecordError(
                    "is missing",
                    entity=self.record.entity,
                    record_id=self.record.id,
                    field=field,
                    system=SYSTEM,
                )
            return None
        target = self.record.refs[field]
        ext = self.resolve_ext(target, gid)
        if ext is None:
            raise RecordError(
                f"refers to a {target} that has no ES2 id",
                entity=self.record.entity,
                record_id=self.record.id,
                field=field,
                system=SYSTEM,
            )
        return int(ext) if ext.isdigit() else ext


def _wire_code(profile: Profile, table: str, canonical: str, record: Record, field: str) -> str:
    code = profile.reverse(table).get(canonical)
    if code is None:
        raise RecordError(
            f"no ES2 code for this value in table {table!r}",
            entity=record.entity,
            record_id=record.id,
            field=field,
            system=SYSTEM,
        )
    return code


def _mark_wire(rec: Record, profile: Profile, ref: _Resolver) -> dict[str, Any]:
    assert isinstance(rec, Mark)
    work = None
    if rec.work_type is not None:
        work = profile.reverse("work_type").get(rec.work_type, rec.work_type)
    return {
        "pupil_id": ref("pupil_id"),
        "lesson_id": ref("lesson_id"),
        "value": str(rec.value),
        "work_type": work,
        "weight": rec.weight,
    }


def _final_wire(rec: Record, profile: Profile, ref: _Resolver) -> dict[str, Any]:
    assert isinstance(rec, FinalMark)
    return {
        "pupil_id": ref("pupil_id"),
        "subject_id": ref("subject_id"),
        "period_id": ref("period_id", required=False),
        "kind": _wire_code(profile, "final_kind", rec.kind, rec, "kind"),
        "value": str(rec.value),
    }


def _attendance_wire(rec: Record, profile: Profile, ref: _Resolver) -> dict[str, Any]:
    assert isinstance(rec, Attendance)
    return {
        "pupil_id": ref("pupil_id"),
        "lesson_id": ref("lesson_id"),
        "code": _wire_code(profile, "attendance", AttendanceCode(rec.code).value, rec, "code"),
    }


def _lesson_wire(rec: Record, profile: Profile, ref: _Resolver) -> dict[str, Any]:
    assert isinstance(rec, Lesson)
    return {
        "topic": rec.topic,
        "homework": rec.homework,
        "substitute_teacher_id": ref("substitute_teacher_id", required=False),
    }


def format_snils(digits: str | None) -> str | None:
    """``"12345678964"`` → ``"123-456-789 64"`` (the ES2 spelling)."""
    if not digits:
        return None
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:11]}"


def _pupil_wire(rec: Record, profile: Profile, ref: _Resolver) -> dict[str, Any]:
    assert isinstance(rec, Pupil)
    return {
        "last_name": rec.last_name,
        "first_name": rec.first_name,
        "middle_name": rec.middle_name,
        "birth_date": rec.birth_date.isoformat(),
        "snils": format_snils(rec.snils),
        "group_id": ref("class_id", required=False),
        "status": _wire_code(profile, "pupil_status", rec.status, rec, "status"),
        "left_date": rec.left_date.isoformat() if rec.left_date else None,
    }


_TO_WIRE: dict[Entity, Callable[[Record, Profile, _Resolver], dict[str, Any]]] = {
    Entity.MARKS: _mark_wire,
    Entity.FINAL_MARKS: _final_wire,
    Entity.ATTENDANCE: _attendance_wire,
    Entity.LESSONS: _lesson_wire,
    Entity.PUPILS: _pupil_wire,
}
