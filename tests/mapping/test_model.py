"""Canonical model validation, content hashes, and errors that never echo personal data."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from core.entities import Entity
from core.errors import RecordError
from mapping.model import (
    MODELS,
    Attendance,
    Enrolment,
    FinalMark,
    Lesson,
    Mark,
    Period,
    Pupil,
    Subgroup,
)
from mapping.validation import build
from mapping.values import MarkValue

BASE = {"school_id": "s1"}


def pupil(**kw: object) -> Pupil:
    fields = {
        "id": "p1",
        **BASE,
        "last_name": "Королёва",
        "first_name": "Алёна",
        "middle_name": None,
        "birth_date": dt.date(2014, 3, 12),
    } | kw
    return Pupil(**fields)  # type: ignore[arg-type]


def mark(**kw: object) -> Mark:
    fields = {"id": "m1", **BASE, "pupil_id": "p1", "lesson_id": "l1", "value": "5"} | kw
    return Mark(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["1", "2", "3", "4", "5", "4/5", "зач", "незач", "осв"])
def test_current_mark_values(value: str) -> None:
    assert str(mark(value=value).value) == value


def test_not_attested_is_a_valid_value_of_current_and_final_marks() -> None:
    # ES2's contract lists н/а among current-mark values: the model stores it; the school's
    # rules note it as unusual (sync.rules.unusual_value)
    assert str(mark(value="н/а").value) == "н/а"
    fm = FinalMark(
        id="f", **BASE, pupil_id="p1", subject_id="s", period_id="P1", kind="period", value="н/а"
    )
    assert str(fm.value) == "н/а"


@pytest.mark.parametrize("value", ["6", "0", ".", "", "4/6"])
def test_invalid_mark_is_an_error_naming_field_and_value(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        mark(value=value)
    err = info.value.errors()[0]
    assert err["loc"] == ("value",)


@pytest.mark.parametrize("code", ["Б", "У", "Н", "О"])
def test_attendance_codes_accepted(code: str) -> None:
    a = Attendance(id="a", **BASE, pupil_id="p", lesson_id="l", code=code)  # type: ignore[arg-type]
    assert a.code.value == code


@pytest.mark.parametrize("code", ["ОП", "X", ""])
def test_attendance_invalid(code: str) -> None:
    with pytest.raises(ValidationError):
        Attendance(id="a", **BASE, pupil_id="p", lesson_id="l", code=code)  # type: ignore[arg-type]


def test_period_mark_needs_a_period() -> None:
    with pytest.raises(ValidationError, match="period_id"):
        FinalMark(id="f", **BASE, pupil_id="p", subject_id="s", kind="period", value="4")
    FinalMark(id="f", **BASE, pupil_id="p", subject_id="s", kind="exam", value="4")


def test_period_dates_and_parallels() -> None:
    p = Period(
        id="q1",
        **BASE,
        name="I четверть",
        kind="quarter",
        parallels=(9, 2, 3, 2),
        start=dt.date(2025, 9, 1),
        end=dt.date(2025, 10, 26),
    )
    assert p.parallels == (2, 3, 9)
    assert p.covers(3, dt.date(2025, 10, 1)) and not p.covers(10, dt.date(2025, 10, 1))
    with pytest.raises(ValidationError, match="ends before"):
        Period(
            id="q",
            **BASE,
            name="x",
            kind="quarter",
            parallels=(2,),
            start=dt.date(2025, 10, 1),
            end=dt.date(2025, 9, 1),
        )
    with pytest.raises(ValidationError):
        Period(
            id="q",
            **BASE,
            name="x",
            kind="quarter",
            parallels=(12,),
            start=dt.date(2025, 9, 1),
            end=dt.date(2025, 10, 1),
        )


def test_snils_normalised_and_checked() -> None:
    assert pupil(snils="123-456-789 64").snils == "12345678964"
    assert pupil(snils="").snils is None
    with pytest.raises(ValidationError, match="checksum"):
        pupil(snils="123-456-789 65")


def test_left_pupil_and_enrolment_shapes() -> None:
    with pytest.raises(ValidationError, match="leaving date"):
        pupil(status="active", left_date=dt.date(2026, 1, 1))
    pupil(status="left", left_date=dt.date(2026, 1, 1))
    Enrolment(
        id="e", **BASE, pupil_id="p", kind="admission", date=dt.date(2025, 9, 1), to_class_id="c"
    )
    with pytest.raises(ValidationError, match="from_class_id"):
        Enrolment(
            id="e", **BASE, pupil_id="p", kind="transfer", date=dt.date(2025, 9, 1), to_class_id="c"
        )


def test_lesson_number_bounds() -> None:
    Lesson(id="l", **BASE, class_id="c", subject_id="s", date=dt.date(2025, 9, 1), number=1)
    with pytest.raises(ValidationError):
        Lesson(id="l", **BASE, class_id="c", subject_id="s", date=dt.date(2025, 9, 1), number=13)


def test_content_hash_ignores_identity_and_timestamps() -> None:
    a = mark(created_at=dt.datetime(2025, 9, 1, tzinfo=dt.UTC))
    b = mark(id="other", ext_ids={"es2": "1"}, modified_at=dt.datetime(2025, 9, 2, tzinfo=dt.UTC))
    assert a.content_hash == b.content_hash
    assert mark(value="4").content_hash != a.content_hash
    assert mark(weight=2).content_hash != a.content_hash


def test_subgroup_members_are_a_set() -> None:
    s1 = Subgroup(
        id="g", **BASE, class_id="c", subject_id="s", name="1 подгр.", member_ids=("b", "a", "b")
    )
    s2 = Subgroup(
        id="g", **BASE, class_id="c", subject_id="s", name="1 подгр.", member_ids=("a", "b")
    )
    assert s1.member_ids == ("a", "b") and s1.content_hash == s2.content_hash


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError):
        mark(modified_at=dt.datetime(2025, 9, 1, 10, 0))


def test_models_cover_every_entity() -> None:
    assert set(MODELS) == set(Entity)


def test_build_names_record_and_field_without_personal_data() -> None:
    with pytest.raises(RecordError) as info:
        build(
            Pupil,
            {
                "id": "es2:55001",
                **BASE,
                "last_name": "Иванова",
                "first_name": "Мария",
                "birth_date": "12.03.2014",
            },
            system="es2",
            record_id=55001,
        )
    message = str(info.value)
    assert "55001" in message and "birth_date" in message and "pupils" in message
    assert "Иванова" not in message and "12.03.2014" not in message
    assert info.value.field == "birth_date" and info.value.entity == "pupils"


def test_mark_for_first_grade_is_invalid() -> None:
    m = mark()
    with pytest.raises(RecordError, match="first-grade"):
        m.check_grade(1)
    m.check_grade(2)
    fm = FinalMark(id="f", **BASE, pupil_id="p", subject_id="s", kind="year", value="5")
    with pytest.raises(RecordError, match="first-grade"):
        fm.check_grade(1)


def test_hash_is_recomputed_for_copies_and_ignored_by_equality() -> None:
    a = mark(value="5")
    h = a.content_hash
    b = a.model_copy(update={"value": MarkValue.parse("3")})
    assert b.content_hash != h
    assert b.content_hash == mark(value="3").content_hash
    assert a == mark(value="5")  # a computed hash does not enter equality
