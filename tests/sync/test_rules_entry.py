"""The rules of a local entry (``sync.rules``): homework in grade 1, dates inside the year, and
marks or absences only for pupils enrolled in the lesson's class (and subgroup) that day."""

from __future__ import annotations

import datetime as dt

import pytest

from mapping.model import Attendance, Enrolment, Lesson, Mark
from sync import rules
from sync.rules import Stay

D = dt.date


def lesson(homework: str | None = None) -> Lesson:
    return Lesson(
        id="l1", school_id="s", class_id="1a", subject_id="math", date=D(2025, 9, 3), number=1,
        homework=homework,
    )  # fmt: skip


def move(kind: str, day: dt.date, src: str | None = None, dst: str | None = None) -> Enrolment:
    return Enrolment(
        id=f"e-{kind}-{day}", school_id="s", pupil_id="p1", kind=kind, date=day,  # type: ignore[arg-type]
        from_class_id=src, to_class_id=dst,
    )  # fmt: skip


def test_grade1_homework_is_refused_only_in_grade_1() -> None:
    found = rules.grade1_homework(lesson("прочитать"), 1)
    assert found is not None and found.blocking and found.field == "homework"
    assert rules.grade1_homework(lesson(None), 1) is None
    assert rules.grade1_homework(lesson("прочитать"), 2) is None
    assert rules.grade1_homework(lesson("прочитать"), None) is None


@pytest.mark.parametrize(
    ("day", "refused"),
    [
        (D(2025, 9, 1), False),
        (D(2026, 5, 31), False),
        (D(2025, 8, 31), True),
        (D(2026, 6, 1), True),
    ],
)
def test_outside_year(day: dt.date, refused: bool) -> None:
    found = rules.outside_year(day, (D(2025, 9, 1), D(2026, 5, 31)), "date")
    assert (found is not None) is refused
    if found is not None:
        assert found.blocking and found.field == "date" and found.kind == "outside_year"
    assert rules.outside_year(day, None, "date") is None  # no year known: nothing to check


def test_stays_follow_admission_transfer_and_leaving() -> None:
    moves = [
        move("leaving", D(2026, 3, 1), src="5b"),
        move("admission", D(2025, 9, 10), dst="5a"),
        move("transfer", D(2025, 12, 1), src="5a", dst="5b"),
    ]
    assert rules.stays(moves, "5b", D(2026, 3, 1)) == [
        Stay("5a", D(2025, 9, 10), D(2025, 12, 1)),
        Stay("5b", D(2025, 12, 1), D(2026, 3, 1)),
    ]


def test_stays_without_movements_are_the_current_class() -> None:
    assert rules.stays([], "7a", None) == [Stay("7a", None, None)]
    assert rules.stays([], None, None) == []
    # a history that starts with a transfer: the pupil was in the first class before it
    assert rules.stays([move("transfer", D(2025, 11, 3), src="7a", dst="7b")], "7b", None) == [
        Stay("7a", None, D(2025, 11, 3)),
        Stay("7b", D(2025, 11, 3), None),
    ]


@pytest.mark.parametrize(
    ("day", "klass", "kind"),
    [
        (D(2025, 9, 9), "5a", "not_enrolled"),  # before admission
        (D(2025, 9, 10), "5a", None),
        (D(2025, 11, 30), "5a", None),
        (D(2025, 12, 1), "5a", "not_enrolled"),  # transferred that day
        (D(2025, 12, 1), "5b", None),
        (D(2026, 2, 28), "5b", None),
        (D(2026, 3, 1), "5b", "not_enrolled"),  # left
    ],
)
def test_not_enrolled(day: dt.date, klass: str, kind: str | None) -> None:
    stays = [Stay("5a", D(2025, 9, 10), D(2025, 12, 1)), Stay("5b", D(2025, 12, 1), D(2026, 3, 1))]
    absence = Attendance(id="a", school_id="s", pupil_id="p1", lesson_id="l", code="Н")
    found = rules.not_enrolled(absence, day, klass, stays, None)
    assert (found.kind if found else None) == kind
    if found is not None:
        assert found.blocking and found.field == "pupil_id"


def test_not_in_the_lessons_subgroup() -> None:
    mark = Mark(id="m", school_id="s", pupil_id="p1", lesson_id="l", value="5")
    stays = [Stay("5a", None, None)]
    found = rules.not_enrolled(mark, D(2025, 10, 1), "5a", stays, ("p2", "p3"))
    assert found is not None and found.kind == "not_in_subgroup" and found.blocking
    assert rules.not_enrolled(mark, D(2025, 10, 1), "5a", stays, ("p1",)) is None
