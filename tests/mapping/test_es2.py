"""ES2 wire ⇄ canonical through the shipped profile (and an override of it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from core.entities import Entity
from core.errors import RecordError
from mapping.es2 import format_snils, to_canonical, to_wire
from mapping.model import (
    Attendance,
    FinalMark,
    Lesson,
    Mark,
    Pupil,
    SchoolClass,
    Subgroup,
    Tombstone,
)
from mapping.profile import load_profile

PROFILE = load_profile("es2")


def canon(entity: Entity, wire: dict[str, Any]) -> Any:
    return to_canonical(entity, wire, profile=PROFILE, school_id="sch")


MARK = {
    "id": 7000001,
    "pupil_id": 55001,
    "lesson_id": 900001,
    "value": "5",
    "work_type": {"code": "КР", "name": "Контрольная работа"},
    "weight": 2,
    "created_at": "2025-10-14T09:00:00+07:00",
    "updated_at": "2025-10-14T10:30:00+07:00",
    "deleted": False,
}
PUPIL = {
    "id": 55001,
    "last_name": "Иванова",
    "first_name": "Мария",
    "middle_name": "Сергеевна",
    "birth_date": "2014-03-12",
    "snils": "112-233-445 95",
    "group_id": 1017,
    "status": "active",
    "left_date": None,
    "updated_at": "2025-09-01T08:00:00+07:00",
    "deleted": False,
}
LESSON = {
    "id": 900001,
    "group_id": 1017,
    "subgroup_id": None,
    "subject_id": 7,
    "teacher_id": 302,
    "substitute_teacher_id": None,
    "date": "2025-10-14",
    "number": 3,
    "topic": "Дроби",
    "homework": "№ 12",
    "updated_at": "2025-10-14T10:30:00+07:00",
}


def test_mark_ids_refs_times_and_work_type() -> None:
    m = canon(Entity.MARKS, MARK)
    assert isinstance(m, Mark)
    assert m.id == "es2:7000001" and m.ext_ids == {"es2": "7000001"}
    assert m.pupil_id == "es2:55001" and m.lesson_id == "es2:900001"
    assert str(m.value) == "5" and m.weight == 2 and m.work_type == "Контрольная работа"
    assert m.modified_at == dt.datetime(2025, 10, 14, 3, 30, tzinfo=dt.UTC)
    assert m.modified_at is not None and m.modified_at.utcoffset() == dt.timedelta(0)


def test_unknown_work_type_code_falls_back_to_wire_name() -> None:
    m = canon(Entity.MARKS, {**MARK, "work_type": {"code": "ZZ", "name": "Зачётная работа"}})
    assert m.work_type == "Зачётная работа"


def test_tombstone() -> None:
    t = canon(Entity.MARKS, {**MARK, "deleted": True})
    assert isinstance(t, Tombstone) and t.id == "es2:7000001" and t.entity is Entity.MARKS


@pytest.mark.parametrize("value", ["6", ".", "", "отл"])
def test_bad_mark_value_names_record_not_value(value: str) -> None:
    with pytest.raises(RecordError) as info:
        canon(Entity.MARKS, {**MARK, "value": value})
    err = info.value
    assert err.entity == "marks" and err.record_id == "7000001" and err.field == "value"
    if value:
        assert repr(value) not in str(err)


def test_late_code_op_maps_to_o() -> None:
    a = canon(
        Entity.ATTENDANCE,
        {
            "id": 8000001,
            "pupil_id": 55001,
            "lesson_id": 900001,
            "code": "ОП",
            "updated_at": "2025-10-14T10:00:00+07:00",
        },
    )
    assert isinstance(a, Attendance) and a.code.value == "О"
    with pytest.raises(RecordError, match="attendance 8000002 field 'code'"):
        canon(Entity.ATTENDANCE, {"id": 8000002, "pupil_id": 1, "lesson_id": 2, "code": "Х"})


def test_pupil_without_personal_data_in_errors() -> None:
    p = canon(Entity.PUPILS, PUPIL)
    assert isinstance(p, Pupil) and p.class_id == "es2:1017" and p.snils == "11223344595"
    # a СНИЛС that fails its checksum is an optional field: the pupil is kept without it, and
    # the note names the field and the reason — never the number, which is personal data
    kept = canon(Entity.PUPILS, {**PUPIL, "snils": "112-233-445 96"})
    assert isinstance(kept, Pupil) and kept.snils is None and kept.last_name == PUPIL["last_name"]
    [note] = kept.field_notes
    assert (note.field, note.value) == ("snils", None) and "checksum" in note.reason
    assert "112" not in repr(kept.field_notes) and "Иванова" not in repr(kept.field_notes)
    # a required field that cannot be read still refuses the record, without personal data
    with pytest.raises(RecordError) as info:
        canon(Entity.PUPILS, {**PUPIL, "birth_date": "12.03.2014"})
    assert "2014" not in str(info.value) and "Иванова" not in str(info.value)
    assert info.value.record_id == "55001" and info.value.field == "birth_date"


def test_an_invalid_optional_field_is_dropped_with_a_note_not_the_record() -> None:
    left = canon(Entity.PUPILS, {**PUPIL, "status": "left", "left_date": "31.12.2025"})
    assert isinstance(left, Pupil) and left.status == "left" and left.left_date is None
    assert [(n.field, n.value) for n in left.field_notes] == [("left_date", "31.12.2025")]
    lesson = canon(Entity.LESSONS, {**LESSON, "topic": "Т" * 501})
    assert isinstance(lesson, Lesson) and lesson.topic is None and lesson.homework
    [note] = lesson.field_notes
    assert note.field == "topic" and note.value is not None and "501 characters" in note.value
    mark = canon(Entity.MARKS, {**MARK, "created_at": "вчера"})
    assert isinstance(mark, Mark) and mark.created_at is None
    assert [n.field for n in mark.field_notes] == ["created_at"]
    clean = canon(Entity.MARKS, MARK)
    assert clean.field_notes == ()  # type: ignore[union-attr]


def test_not_attested_is_a_current_mark_the_contract_allows() -> None:
    m = canon(Entity.MARKS, {**MARK, "value": "н/а"})
    assert isinstance(m, Mark) and str(m.value) == "н/а"


def test_other_entities() -> None:
    g = canon(
        Entity.CLASSES,
        {"id": 1017, "name": "5А", "parallel": 5, "year": "2025/2026", "class_teacher_id": 301},
    )
    assert isinstance(g, SchoolClass) and g.class_teacher_id == "es2:301"
    s = canon(
        Entity.SUBGROUPS,
        {
            "id": 88,
            "group_id": 1017,
            "subject_id": 7,
            "name": "1 подгр.",
            "teacher_id": 302,
            "pupil_ids": [55007, 55001],
        },
    )
    assert isinstance(s, Subgroup) and s.member_ids == ("es2:55001", "es2:55007")
    les = canon(
        Entity.LESSONS,
        {
            "id": 900001,
            "group_id": 1017,
            "subgroup_id": None,
            "subject_id": 7,
            "teacher_id": 302,
            "substitute_teacher_id": 303,
            "date": "2025-10-14",
            "number": 3,
            "topic": "Т",
            "homework": "",
            "updated_at": "2025-10-14T10:00:00+07:00",
        },
    )
    assert (
        isinstance(les, Lesson) and les.substitute_teacher_id == "es2:303" and les.homework is None
    )
    f = canon(
        Entity.FINAL_MARKS,
        {
            "id": 9001,
            "pupil_id": 55001,
            "subject_id": 7,
            "period_id": 3,
            "kind": "period",
            "value": "н/а",
        },
    )
    assert isinstance(f, FinalMark) and f.period_id == "es2:3" and str(f.value) == "н/а"
    p = canon(
        Entity.PERIODS,
        {
            "id": 3,
            "name": "I четверть",
            "kind": "quarter",
            "parallels": [5, 2],
            "start": "2025-09-01",
            "end": "2025-10-26",
        },
    )
    assert p.parallels == (2, 5) and p.kind == "quarter"


def test_missing_reference_is_record_error() -> None:
    with pytest.raises(RecordError, match="marks 7000001 field 'lesson_id'"):
        canon(Entity.MARKS, {**MARK, "lesson_id": None})


def test_naive_time_read_in_profile_zone() -> None:
    m = canon(Entity.MARKS, {**MARK, "updated_at": "2025-10-14T10:30:00"})
    assert m.modified_at == dt.datetime(2025, 10, 14, 3, 30, tzinfo=dt.UTC)


def _ext(entity: Entity, gid: str) -> str | None:
    return {"p1": "55001", "l1": "900001", "c1": "1017", "s1": "7"}.get(gid)


def test_to_wire_round_trip_mark_and_attendance() -> None:
    m = Mark(
        id="m1",
        school_id="sch",
        pupil_id="p1",
        lesson_id="l1",
        value="4/5",
        work_type="Контрольная работа",
        weight=2,
    )
    w = to_wire(m, profile=PROFILE, resolve_ext=_ext)
    assert w == {
        "pupil_id": 55001,
        "lesson_id": 900001,
        "value": "4/5",
        "work_type": "КР",
        "weight": 2,
    }
    a = Attendance(id="a1", school_id="sch", pupil_id="p1", lesson_id="l1", code="О")
    assert to_wire(a, profile=PROFILE, resolve_ext=_ext)["code"] == "ОП"
    f = FinalMark(id="f1", school_id="sch", pupil_id="p1", subject_id="s1", kind="year", value="5")
    assert to_wire(f, profile=PROFILE, resolve_ext=_ext)["period_id"] is None


def test_to_wire_pupil_and_unknown_reference() -> None:
    p = canon(Entity.PUPILS, PUPIL).model_copy(update={"id": "p1", "class_id": "c1"})
    w = to_wire(p, profile=PROFILE, resolve_ext=_ext)
    assert w["snils"] == "112-233-445 95" and w["group_id"] == 1017 and w["status"] == "active"
    m = Mark(id="m2", school_id="sch", pupil_id="nobody", lesson_id="l1", value="5")
    with pytest.raises(RecordError, match="pupil_id"):
        to_wire(m, profile=PROFILE, resolve_ext=_ext)
    assert format_snils(None) is None


def test_override_file_changes_a_code(tmp_path: Path) -> None:
    override = tmp_path / "es2.toml"
    override.write_text(
        '[codes.attendance]\n"ОП" = "Н"\n\n[codes.work_type]\n"КР" = "Контрольная"\n',
        encoding="utf-8",
    )
    prof = load_profile("es2", override)
    a = to_canonical(
        Entity.ATTENDANCE,
        {"id": 1, "pupil_id": 2, "lesson_id": 3, "code": "ОП"},
        profile=prof,
        school_id="sch",
    )
    assert a.code.value == "Н"  # type: ignore[union-attr]
    assert prof.code("attendance", "Б") == "Б"  # the rest of the table stands
    m = to_canonical(Entity.MARKS, MARK, profile=prof, school_id="sch")
    assert m.work_type == "Контрольная"  # type: ignore[union-attr]


def test_a_corrected_name_and_a_dropped_field_on_one_record() -> None:
    both = canon(Entity.PUPILS, {**PUPIL, "first_name": "Mария", "snils": "112-233-445 96"})
    assert isinstance(both, Pupil) and both.first_name == "Мария" and both.snils is None
    assert sorted((n.field, n.corrected) for n in both.field_notes) == [
        ("first_name", True),
        ("snils", False),
    ]
