from __future__ import annotations

import datetime as dt

import pytest

from core.entities import Entity, ext_ref
from core.errors import RecordError, SentToReview
from mapping.model import Lesson, Period, SchoolClass, Subgroup, Subject, Teacher
from mapping.o7 import (
    NameIndex,
    O7Context,
    absence_to_wire,
    class_name,
    deletions,
    map_attendance,
    map_class,
    map_final_mark,
    map_lesson,
    map_mark,
    map_pupil,
    map_record,
    map_records,
    map_subgroup,
    map_subject,
    map_teacher,
    mark_to_wire,
    period_codes,
)
from mapping.profile import load_profile
from mapping.values import AttendanceCode

PROFILE = load_profile("o7")


def _teacher(tid: str, last: str, first: str, middle: str | None = None) -> Teacher:
    return Teacher(id=tid, school_id="s", last_name=last, first_name=first, middle_name=middle)


SUBJECTS = [
    Subject(id="subj-inf", school_id="s", name="Информатика"),
    Subject(id="subj-phys", school_id="s", name="Физика"),
]
TEACHERS = [
    _teacher("t-orl", "Орлова", "Анна", "Петровна"),
    _teacher("t-yozh", "Ёжиков", "Пётр"),
    _teacher("t-kim1", "Ким", "Ли"),
    _teacher("t-kim2", "КИМ", "ли"),  # a namesake: the name alone cannot tell them apart
]
CLASSES = [
    SchoolClass(
        id="cls-5a", school_id="s", name="5А", parallel=5, year="2025/2026", ext_ids={"o7": "c1"}
    )
]
GROUPS = [
    Subgroup(id="g-1", school_id="s", class_id="cls-5a", subject_id="subj-inf", name="Группа 1")
]
PERIODS = [
    Period(
        id=f"p-{n}",
        school_id="s",
        name=f"{n}",
        kind="quarter",
        parallels=(5,),
        start=dt.date(2025, 9, 1) + dt.timedelta(days=60 * n),
        end=dt.date(2025, 9, 2) + dt.timedelta(days=60 * n),
    )
    for n in (2, 0, 1)
] + [
    Period(
        id="p-year",
        school_id="s",
        name="год",
        kind="year",
        parallels=(5,),
        start=dt.date(2025, 9, 1),
        end=dt.date(2026, 5, 31),
    )
]
INDEX = NameIndex.from_roster(
    teachers=TEACHERS, subjects=SUBJECTS, subgroups=GROUPS, classes=CLASSES, periods=PERIODS
)
CTX = O7Context(PROFILE, "s", "2025/2026", INDEX)

LESSON = {
    "lesson_guid": "l1",
    "class_id": "c1",
    "date": "14.10.2025",
    "number": 3,
    "discipline": "информатика",
    "group_name": "группа  1",
    "teacher_fio": "Орлова Анна Петровна",
    "replacement_teacher_fio": "Ежиков Петр",
    "topic": "Циклы",
    "homework": "",
}


def test_profile_is_shipped_with_moscow_time() -> None:
    assert PROFILE.code("final_kind", "итог") == "final"
    assert PROFILE.code("attendance", "ОП") == "О"
    assert dt.datetime(2025, 1, 1, tzinfo=PROFILE.timezone).utcoffset() == dt.timedelta(hours=3)


def test_period_codes_follow_kind_and_order() -> None:
    assert period_codes(PERIODS) == {"1ч": "p-0", "2ч": "p-1", "3ч": "p-2", "год": "p-year"}


def test_lesson_resolves_names_against_the_roster() -> None:
    rec = map_lesson(LESSON, CTX)
    assert rec.model_dump(
        include={
            "id",
            "class_id",
            "subject_id",
            "subgroup_id",
            "teacher_id",
            "substitute_teacher_id",
            "homework",
            "date",
        }
    ) == {
        "id": "o7:l1",
        "class_id": "o7:c1",
        "subject_id": "subj-inf",
        "subgroup_id": "g-1",
        "teacher_id": "t-orl",
        "substitute_teacher_id": "t-yozh",
        "homework": None,
        "date": dt.date(2025, 10, 14),
    }


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"discipline": "Астрология"}, "unknown subject", "discipline"),
        ({"group_name": "Группа 3"}, "unknown subgroup", "group_name"),
        ({"date": "2025-10-14"}, "not a date DD.MM.YYYY", "date"),
    ],
)
def test_unresolvable_names_are_errors_for_that_record(
    change: dict[str, str], reason: str, field: str
) -> None:
    with pytest.raises(RecordError) as info:
        map_lesson({**LESSON, **change}, CTX)
    err = info.value
    assert (err.reason, err.field, err.record_id, err.entity) == (reason, field, "l1", "lessons")
    for value in change.values():
        assert value not in str(err)  # no personal data in the message


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"teacher_fio": "Ким Ли"}, "2 teachers share this name"),
        ({"replacement_teacher_fio": "Некто Новый"}, "unknown teacher name"),
    ],
)
def test_a_teacher_the_roster_cannot_name_never_costs_the_lesson(
    change: dict[str, str], reason: str
) -> None:
    lesson = map_lesson({**LESSON, **change}, CTX)
    assert isinstance(lesson, Lesson) and lesson.id == "o7:l1"
    field = next(iter(change))
    assert (
        getattr(lesson, "teacher_id" if field == "teacher_fio" else "substitute_teacher_id") is None
    )
    assert [(n.field, n.reason, n.value) for n in lesson.field_notes] == [(field, reason, None)]


def test_bad_records_do_not_stop_good_ones() -> None:
    good, bad = map_records(
        Entity.LESSONS, [LESSON, {**LESSON, "lesson_guid": "l2", "discipline": "Астрология"}], CTX
    )
    assert [r.id for r in good] == ["o7:l1"] and [e.record_id for e in bad] == ["l2"]


def test_pupil_fio_status_and_birthday() -> None:
    rec = map_pupil(
        {
            "pupil_guid": "p1",
            "fio": "Петров-Водкин  Иван",
            "birthday": "12.03.2013",
            "status": "выбыл",
            "class_id": "c1",
            "subgroups": [],
        },
        CTX,
    )
    assert (rec.last_name, rec.first_name, rec.middle_name) == ("Петров-Водкин", "Иван", None)
    assert rec.birth_date == dt.date(2013, 3, 12)
    assert (rec.status, rec.left_date, rec.class_id) == ("left", None, "o7:c1")
    with pytest.raises(RecordError, match="status"):
        map_record(
            Entity.PUPILS,
            {"pupil_guid": "p1", "fio": "А Б", "birthday": "12.03.2013", "status": "спит"},
            CTX,
        )
    with pytest.raises(RecordError) as info:
        map_record(
            Entity.PUPILS,
            {"pupil_guid": "p9", "fio": "Одинокий", "birthday": "12.03.2013", "status": "учится"},
            CTX,
        )
    assert "Одинокий" not in str(info.value) and info.value.field == "fio"


def test_mark_time_is_moscow_local_to_utc() -> None:
    rec = map_mark(
        {
            "mark_guid": "m1",
            "pupil_guid": "p1",
            "lesson_guid": "l1",
            "mark": "4/5",
            "mark_type": "КР",
            "changed": "14.10.2025 15:02:11",
        },
        CTX,
    )
    assert rec.modified_at == dt.datetime(2025, 10, 14, 12, 2, 11, tzinfo=dt.UTC)
    assert (str(rec.value), rec.work_type, rec.pupil_id) == ("4/5", "Контрольная работа", "o7:p1")
    with pytest.raises(RecordError, match="value"):
        map_record(
            Entity.MARKS,
            {"mark_guid": "m2", "pupil_guid": "p", "lesson_guid": "l", "mark": "."},
            CTX,
        )


@pytest.mark.parametrize(
    ("code", "kind", "period"),
    [
        ("1ч", "period", "p-0"),
        ("3ч", "period", "p-2"),
        ("год", "year", "p-year"),
        ("экз", "exam", None),
        ("итог", "final", None),
        ("2п", "period", "o7:period:2п"),
    ],
)
def test_final_mark_period_codes(code: str, kind: str, period: str | None) -> None:
    rec = map_final_mark(
        {
            "pupil_guid": "p1",
            "discipline": "Физика",
            "subperiod_code": code,
            "mark": "4",
            "changed": "01.11.2025 10:00:00",
        },
        CTX,
    )
    assert (rec.kind, rec.period_id, rec.subject_id) == (kind, period, "subj-phys")


def test_unknown_period_code_is_an_error() -> None:
    with pytest.raises(RecordError, match="final_kind"):
        map_record(
            Entity.FINAL_MARKS,
            {"pupil_guid": "p1", "discipline": "Физика", "subperiod_code": "5ч", "mark": "4"},
            CTX,
        )


def test_attendance_and_class() -> None:
    rec = map_attendance(
        {"pupil_guid": "p1", "lesson_guid": "l1", "reason": "ОП", "changed": "14.10.2025 09:00:00"},
        CTX,
    )
    assert (rec.id, rec.code) == ("o7:absence:p1:l1", AttendanceCode.LATE)
    cls = map_class(
        {
            "class_id": "c1",
            "class_name": "5 а",
            "grade": 5,
            "class_teacher_fio": "Орлова Анна Петровна",
        },
        CTX,
    )
    assert (cls.name, cls.year, cls.class_teacher_id) == ("5А", "2025/2026", "t-orl")
    assert class_name("10 Б") == "10Б"


def test_derived_names_take_roster_ids_or_mint_hashed_ones() -> None:
    known = map_teacher({"fio": "орлова анна петровна"}, CTX)
    assert known.id == "t-orl"
    new = map_teacher({"fio": "Сидоров Иван"}, CTX)
    assert new.id.startswith("o7:teacher:") and "Сидоров" not in new.id
    assert new.id == map_teacher({"fio": "СИДОРОВ  иван"}, CTX).id
    # two teachers of the roster share the name: a person decides, with both as candidates
    with pytest.raises(SentToReview, match="2 teachers share this name") as info:
        map_teacher({"fio": "Ким Ли"}, CTX)
    assert len(info.value.candidates) == 2


def test_o7_only_index_from_its_own_derived_records() -> None:
    ctx = O7Context(PROFILE, "s", "2025/2026")
    teachers = [map_teacher({"fio": f}, ctx) for f in ("Орлова Анна Петровна", "Ёжиков Пётр")]
    subjects = [map_subject({"discipline": "Информатика"}, ctx)]
    group = map_subgroup(
        {
            "class_id": "c1",
            "discipline": "Информатика",
            "group_name": "Группа 1",
            "teacher_fio": None,
            "pupil_guids": ["p2", "p1"],
        },
        O7Context(
            PROFILE, "s", "2025/2026", NameIndex.from_roster(teachers=teachers, subjects=subjects)
        ),
    )
    assert isinstance(group, Subgroup) and group.member_ids == ("o7:p1", "o7:p2")
    index = NameIndex.from_roster(teachers=teachers, subjects=subjects, subgroups=[group])
    lesson = map_lesson(LESSON, O7Context(PROFILE, "s", "2025/2026", index))
    assert lesson.subgroup_id == group.id == ext_ref("o7", group.ext_ids["o7"])
    assert lesson.teacher_id == teachers[0].id


def test_deletions_only_from_a_complete_window() -> None:
    assert deletions({"a", "b", "c"}, {"a", "c", "d"}, complete=True) == {"b"}
    assert deletions({"a", "b", "c"}, {"a"}, complete=False) == set()


def test_push_payloads() -> None:
    guids = {"pg": "P-1", "lg": "L-1"}
    mark = map_mark(
        {
            "mark_guid": "m",
            "pupil_guid": "x",
            "lesson_guid": "y",
            "mark": "5",
            "mark_type": "Ответ на уроке",
        },
        CTX,
    )
    mark = mark.model_copy(update={"pupil_id": "pg", "lesson_id": "lg"})
    assert mark_to_wire(mark, lambda e, g: guids.get(g), PROFILE) == {
        "pupil_guid": "P-1",
        "lesson_guid": "L-1",
        "mark": "5",
        "mark_type": "Ответ на уроке",
    }
    with pytest.raises(RecordError, match="no О7 id"):
        mark_to_wire(mark, lambda e, g: None, PROFILE)
    absence = map_attendance({"pupil_guid": "x", "lesson_guid": "y", "reason": "ОП"}, CTX)
    absence = absence.model_copy(update={"pupil_id": "pg", "lesson_id": "lg"})
    assert absence_to_wire(absence, lambda e, g: guids.get(g), PROFILE)["reason"] == "О"
