"""The rules of a local entry (``sync.rules``): homework in grade 1, dates inside the year, and
marks or absences only for pupils enrolled in the lesson's class (and subgroup) that day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from mapping.model import Lesson, Mark
from sync import rules

D = dt.date


def lesson(homework: str | None = None) -> Lesson:
    return Lesson(
        id="l1", school_id="s", class_id="1a", subject_id="math", date=D(2025, 9, 3), number=1,
        homework=homework,
    )  # fmt: skip


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


class _Ctx:
    """Rule facts of a school whose grade 5 has periods from 1 Sept to 31 May."""

    def lesson(self, lesson_id: str) -> rules.LessonInfo | None:
        return rules.LessonInfo(D(2026, 6, 3), 5) if lesson_id == "june" else None

    def class_parallel(self, class_id: str) -> int | None:
        return 5 if class_id == "5a" else None

    def year_of(self, parallel: int) -> tuple[dt.date, dt.date] | None:
        return (D(2025, 9, 1), D(2026, 5, 31)) if parallel == 5 else None


def test_a_lesson_or_a_mark_outside_its_class_year_is_out_of_year() -> None:
    ctx: Any = _Ctx()
    june = Lesson(
        id="l", school_id="s", class_id="5a", subject_id="m", date=D(2026, 6, 2), number=1
    )
    found = rules.out_of_year(june, ctx)
    assert found is not None and (found.kind, found.field) == ("outside_year", "date")
    mark = Mark(id="m", school_id="s", pupil_id="p", lesson_id="june", value="5")  # type: ignore[arg-type]
    found = rules.out_of_year(mark, ctx)
    assert found is not None and found.field == "lesson_id"
    other = june.model_copy(update={"class_id": "10b"})  # no periods known: nothing to check
    assert rules.out_of_year(other, ctx) is None
