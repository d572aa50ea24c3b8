"""О7 wire records → canonical records (pure; one small function per entity).

Ids and references come out as external references (``"o7:<guid>"``) for what О7 identifies,
and as whatever the :class:`~mapping.o7.NameIndex` holds for what О7 only names (teachers,
subjects, subgroups, periods). Each failure is a :class:`RecordError` for that record only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.o7 import parse_date, parse_local_time
from core.entities import Entity, ext_ref
from core.errors import RecordError
from core.names import InvalidName, name_key, split_fio
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
from mapping.notes import FieldNote
from mapping.o7._index import (
    SYSTEM,
    NameIndex,
    period_ext,
    subgroup_ext,
    subject_ext,
    teacher_ext,
)
from mapping.profile import Profile
from mapping.validation import build

Wire = Mapping[str, Any]


@dataclass(frozen=True)
class O7Context:
    """What mapping needs beside the wire record: profile, school, year and the name index."""

    profile: Profile
    school_id: str
    year: str  # "2025/2026": О7 does not say which year its classes belong to
    names: NameIndex = field(default_factory=NameIndex)


def _err(reason: str, entity: Entity, record_id: object, fld: str | None = None) -> RecordError:
    return RecordError(reason, entity=entity, record_id=str(record_id), field=fld, system=SYSTEM)


def _text(wire: Wire, key: str, entity: Entity, rid: object) -> str:
    value = wire.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _err("missing", entity, rid, key)
    return value


def _opt_text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _date(wire: Wire, key: str, entity: Entity, rid: object) -> dt.date:
    try:
        return parse_date(_text(wire, key, entity, rid))
    except ValueError:
        raise _err("not a date DD.MM.YYYY", entity, rid, key) from None


def _time(wire: Wire, key: str, ctx: O7Context, entity: Entity, rid: object) -> dt.datetime | None:
    raw = _opt_text(wire.get(key))
    if raw is None:
        return None
    try:
        return parse_local_time(raw, ctx.profile.timezone)
    except ValueError:
        raise _err("not a time DD.MM.YYYY HH:MM:SS", entity, rid, key) from None


def _code(ctx: O7Context, table: str, raw: object, where: tuple[Entity, object, str]) -> str:
    entity, rid, fld = where
    value = ctx.profile.code(table, str(raw).strip()) if isinstance(raw, str) else None
    if value is None:
        raise _err(f"code not in the profile table {table!r}", entity, rid, fld)
    return value


def _base(ctx: O7Context, rid: str, ext: str, **fields: Any) -> dict[str, Any]:
    return {"id": rid, "school_id": ctx.school_id, "ext_ids": {SYSTEM: ext}, **fields}


def _own(found: str | None, ext: str) -> str:
    return found if found is not None else ext_ref(SYSTEM, ext)


def map_period(w: Wire, ctx: O7Context) -> Period:
    code = _text(w, "code", Entity.PERIODS, "?")
    kind = _code(ctx, "period_kind", code, (Entity.PERIODS, code, "code"))
    grades = w.get("grades") or []
    return build(
        Period,
        _base(
            ctx,
            _own(ctx.names.periods.get(code), period_ext(code)),
            period_ext(code),
            name=_text(w, "name", Entity.PERIODS, code),
            kind=kind,
            parallels=tuple(grades),
            start=_date(w, "date_from", Entity.PERIODS, code),
            end=_date(w, "date_to", Entity.PERIODS, code),
        ),
        system=SYSTEM,
        record_id=code,
    )


def map_teacher(w: Wire, ctx: O7Context) -> Teacher:
    fio = _text(w, "fio", Entity.TEACHERS, "?")
    ext = teacher_ext(fio)
    found = ctx.names.find_teacher(fio, entity=Entity.TEACHERS, record_id=ext, field="fio")
    try:
        last, first, middle = split_fio(fio)
    except InvalidName as exc:
        raise _err(str(exc), Entity.TEACHERS, ext, "fio") from None
    return build(
        Teacher,
        _base(ctx, _own(found, ext), ext, last_name=last, first_name=first, middle_name=middle),
        system=SYSTEM,
        record_id=ext,
    )


def map_subject(w: Wire, ctx: O7Context) -> Subject:
    name = _text(w, "discipline", Entity.SUBJECTS, "?")
    ext = subject_ext(name)
    found = ctx.names.find_subject(name, entity=Entity.SUBJECTS, record_id=ext, field="discipline")
    return build(
        Subject, _base(ctx, _own(found, ext), ext, name=name.strip()), system=SYSTEM, record_id=ext
    )


def class_name(raw: str) -> str:
    """``"7 Б"`` → ``"7Б"``: the canonical spelling has no space between number and letter."""
    return "".join(raw.split()).upper()


def _soft_teacher(
    ctx: O7Context, fio: str | None, entity: Entity, rid: str, fld: str, notes: list[FieldNote]
) -> str | None:
    """The teacher a record names, or ``None`` with a note when the name resolves to nobody or
    to more than one person: who taught a lesson never costs the lesson."""
    if fio is None:
        return None
    try:
        return ctx.names.teacher(fio, entity=entity, record_id=rid, field=fld)
    except RecordError as exc:
        notes.append(FieldNote(fld, exc.reason))
        return None


def map_class(w: Wire, ctx: O7Context) -> SchoolClass:
    guid = _text(w, "class_id", Entity.CLASSES, "?")
    notes: list[FieldNote] = []
    fio = _opt_text(w.get("class_teacher_fio"))
    teacher = _soft_teacher(ctx, fio, Entity.CLASSES, guid, "class_teacher_fio", notes)
    return build(
        SchoolClass,
        _base(
            ctx,
            ext_ref(SYSTEM, guid),
            guid,
            name=class_name(_text(w, "class_name", Entity.CLASSES, guid)),
            parallel=w.get("grade"),
            year=ctx.year,
            class_teacher_id=teacher,
        ),
        system=SYSTEM,
        record_id=guid,
        notes=notes,
    )


def map_pupil(w: Wire, ctx: O7Context) -> Pupil:
    guid = _text(w, "pupil_guid", Entity.PUPILS, "?")
    try:
        last, first, middle = split_fio(_text(w, "fio", Entity.PUPILS, guid))
    except InvalidName as exc:
        raise _err(str(exc), Entity.PUPILS, guid, "fio") from None
    class_guid = _opt_text(w.get("class_id"))
    return build(
        Pupil,
        _base(
            ctx,
            ext_ref(SYSTEM, guid),
            guid,
            last_name=last,
            first_name=first,
            middle_name=middle,
            birth_date=_date(w, "birthday", Entity.PUPILS, guid),
            class_id=ext_ref(SYSTEM, class_guid) if class_guid else None,
            status=_code(ctx, "pupil_status", w.get("status"), (Entity.PUPILS, guid, "status")),
        ),
        system=SYSTEM,
        record_id=guid,
    )


def map_subgroup(w: Wire, ctx: O7Context) -> Subgroup:
    class_guid = _text(w, "class_id", Entity.SUBGROUPS, "?")
    discipline = _text(w, "discipline", Entity.SUBGROUPS, class_guid)
    group = _text(w, "group_name", Entity.SUBGROUPS, class_guid)
    ext = subgroup_ext(class_guid, discipline, group)
    class_ref = ext_ref(SYSTEM, class_guid)
    n = ctx.names
    found = n.find_subgroup(
        class_ref, discipline, group, entity=Entity.SUBGROUPS, record_id=ext, field="group_name"
    )
    fio = _opt_text(w.get("teacher_fio"))
    return build(
        Subgroup,
        _base(
            ctx,
            _own(found, ext),
            ext,
            class_id=class_ref,
            name=group.strip(),
            subject_id=n.subject(
                discipline, entity=Entity.SUBGROUPS, record_id=ext, field="discipline"
            ),
            teacher_id=n.teacher(fio, entity=Entity.SUBGROUPS, record_id=ext, field="teacher_fio")
            if fio
            else None,
            member_ids=tuple(ext_ref(SYSTEM, g) for g in w.get("pupil_guids") or ()),
        ),
        system=SYSTEM,
        record_id=ext,
    )


def map_lesson(w: Wire, ctx: O7Context) -> Lesson:
    e, guid = Entity.LESSONS, _text(w, "lesson_guid", Entity.LESSONS, "?")
    class_ref = ext_ref(SYSTEM, _text(w, "class_id", e, guid))
    discipline = _text(w, "discipline", e, guid)
    n = ctx.names
    group = _opt_text(w.get("group_name"))
    notes: list[FieldNote] = []
    teacher = _soft_teacher(ctx, _opt_text(w.get("teacher_fio")), e, guid, "teacher_fio", notes)
    substitute = _soft_teacher(
        ctx, _opt_text(w.get("replacement_teacher_fio")), e, guid, "replacement_teacher_fio", notes
    )
    return build(
        Lesson,
        _base(
            ctx,
            ext_ref(SYSTEM, guid),
            guid,
            class_id=class_ref,
            subject_id=n.subject(discipline, entity=e, record_id=guid, field="discipline"),
            subgroup_id=n.subgroup(
                class_ref, discipline, group, entity=e, record_id=guid, field="group_name"
            )
            if group
            else None,
            teacher_id=teacher,
            substitute_teacher_id=substitute,
            date=_date(w, "date", e, guid),
            number=w.get("number"),
            topic=_opt_text(w.get("topic")),
            homework=_opt_text(w.get("homework")),
        ),
        system=SYSTEM,
        record_id=guid,
        notes=notes,
    )


def map_mark(w: Wire, ctx: O7Context) -> Mark:
    e, guid = Entity.MARKS, _text(w, "mark_guid", Entity.MARKS, "?")
    work = _opt_text(w.get("mark_type"))
    if work is not None:
        work = ctx.profile.codes.get("work_type", {}).get(work, work)
    return build(
        Mark,
        _base(
            ctx,
            ext_ref(SYSTEM, guid),
            guid,
            pupil_id=ext_ref(SYSTEM, _text(w, "pupil_guid", e, guid)),
            lesson_id=ext_ref(SYSTEM, _text(w, "lesson_guid", e, guid)),
            value=w.get("mark"),
            work_type=work,
            modified_at=_time(w, "changed", ctx, e, guid),
        ),
        system=SYSTEM,
        record_id=guid,
    )


def map_attendance(w: Wire, ctx: O7Context) -> Attendance:
    e = Entity.ATTENDANCE
    pupil, lesson = _text(w, "pupil_guid", e, "?"), _text(w, "lesson_guid", e, "?")
    ext = f"absence:{pupil}:{lesson}"
    return build(
        Attendance,
        _base(
            ctx,
            ext_ref(SYSTEM, ext),
            ext,
            pupil_id=ext_ref(SYSTEM, pupil),
            lesson_id=ext_ref(SYSTEM, lesson),
            code=_code(ctx, "attendance", w.get("reason"), (e, ext, "reason")),
            modified_at=_time(w, "changed", ctx, e, ext),
        ),
        system=SYSTEM,
        record_id=ext,
    )


def map_final_mark(w: Wire, ctx: O7Context) -> FinalMark:
    e = Entity.FINAL_MARKS
    pupil = _text(w, "pupil_guid", e, "?")
    discipline = _text(w, "discipline", e, pupil)
    code = _text(w, "subperiod_code", e, pupil)
    ext = f"final:{pupil}:{name_key(discipline)}:{code}"
    kind = _code(ctx, "final_kind", code, (e, ext, "subperiod_code"))
    period = ctx.names.periods.get(code)
    if kind == "period" and period is None:
        period = ext_ref(SYSTEM, period_ext(code))
    return build(
        FinalMark,
        _base(
            ctx,
            ext_ref(SYSTEM, ext),
            ext,
            pupil_id=ext_ref(SYSTEM, pupil),
            subject_id=ctx.names.subject(discipline, entity=e, record_id=ext, field="discipline"),
            period_id=period,
            kind=kind,
            value=w.get("mark"),
            modified_at=_time(w, "changed", ctx, e, ext),
        ),
        system=SYSTEM,
        record_id=ext,
    )


MAPPERS: dict[Entity, Callable[[Wire, O7Context], Record]] = {
    Entity.PERIODS: map_period,
    Entity.SUBJECTS: map_subject,
    Entity.TEACHERS: map_teacher,
    Entity.CLASSES: map_class,
    Entity.PUPILS: map_pupil,
    Entity.SUBGROUPS: map_subgroup,
    Entity.LESSONS: map_lesson,
    Entity.MARKS: map_mark,
    Entity.FINAL_MARKS: map_final_mark,
    Entity.ATTENDANCE: map_attendance,
}


def map_record(entity: Entity, wire: Wire, ctx: O7Context) -> Record:
    return MAPPERS[entity](wire, ctx)


def map_records(
    entity: Entity, wires: Iterable[Wire], ctx: O7Context
) -> tuple[list[Record], list[RecordError]]:
    """Every record that maps, and one error per record that does not; neither stops the other."""
    good: list[Record] = []
    bad: list[RecordError] = []
    mapper = MAPPERS[entity]
    for wire in wires:
        try:
            good.append(mapper(wire, ctx))
        except RecordError as exc:
            bad.append(exc)
    return good, bad


def deletions(
    stored_ids_in_scope: Iterable[str], seen_ids: Iterable[str], complete: bool
) -> set[str]:
    """Ids held for a window that the window's read no longer shows — only if it was read whole."""
    if not complete:
        return set()
    return set(stored_ids_in_scope) - set(seen_ids)
