"""A migrated store on each engine, and small canonical records to put in it."""

from __future__ import annotations

import datetime as dt

from mapping.model import Lesson, Mark, Pupil

SCHOOL = "sch1"
AT = dt.datetime(2026, 2, 3, 10, 0, tzinfo=dt.UTC)


def mark(n: int, value: str = "5", *, lesson: int | None = None, school: str = SCHOOL) -> Mark:
    return Mark(
        id=f"mark-{n}",
        school_id=school,
        ext_ids={"es2": str(9000 + n)},
        modified_at=AT,
        pupil_id=f"pupil-{n % 7}",
        lesson_id=f"lesson-{n % 5 if lesson is None else lesson}",
        value=value,
        work_type="Контрольная работа" if n % 2 else None,
        weight=1 + n % 3,
    )


def lesson(n: int, day: dt.date, *, cls: str = "class-5a") -> Lesson:
    return Lesson(
        id=f"lesson-{n}",
        school_id=SCHOOL,
        class_id=cls,
        subject_id="subject-math",
        teacher_id="teacher-1",
        date=day,
        number=1 + n % 6,
        topic=f"Тема {n}",
    )


def pupil(n: int) -> Pupil:
    return Pupil(
        id=f"pupil-{n}",
        school_id=SCHOOL,
        last_name="Иванова",
        first_name="Мария",
        birth_date=dt.date(2014, 5, 1 + n % 28),
        class_id="class-5a",
    )
