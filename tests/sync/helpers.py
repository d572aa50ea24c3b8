"""A small in-memory world for planner tests: one class per parallel, lessons, periods."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mapping.model import Mark
from sync.rules import LessonInfo, PupilInfo

UTC = dt.UTC


@dataclass
class FakeContext:
    lessons: dict[str, LessonInfo] = field(default_factory=dict)
    pupils: dict[str, int] = field(default_factory=dict)
    #: what the rules know of each pupil's enrolment
    enrolled: dict[str, PupilInfo] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    #: (parallel, start, end, period id) of closed periods
    closed: list[tuple[int, dt.date, dt.date, str]] = field(default_factory=list)
    closed_ids: set[str] = field(default_factory=set)

    def lesson(self, lesson_id: str) -> LessonInfo | None:
        return self.lessons.get(lesson_id)

    def pupil_parallel(self, pupil_id: str) -> int | None:
        return self.pupils.get(pupil_id)

    def pupil(self, pupil_id: str) -> PupilInfo | None:
        return self.enrolled.get(pupil_id)

    def class_parallel(self, class_id: str) -> int | None:
        return self.classes.get(class_id)

    def closed_period(self, parallel: int, day: dt.date) -> str | None:
        for par, start, end, pid in self.closed:
            if par == parallel and start <= day <= end:
                return pid
        return None

    def period_closed(self, period_id: str) -> bool:
        return period_id in self.closed_ids


def world() -> FakeContext:
    return FakeContext(
        lessons={
            "L5": LessonInfo(dt.date(2025, 10, 14), 5, "C5"),
            "L1": LessonInfo(dt.date(2025, 10, 14), 1, "C1"),
            "L10": LessonInfo(dt.date(2025, 10, 14), 10, "C10"),
            "Lold": LessonInfo(dt.date(2025, 9, 10), 5, "C5"),
        },
        pupils={"P5": 5, "P1": 1, "P10": 10},
        enrolled={"P5": PupilInfo("C5"), "P1": PupilInfo("C1"), "P10": PupilInfo("C10")},
        classes={"C5": 5, "C1": 1, "C10": 10},
    )


def mark(
    value: str = "5",
    *,
    mid: str = "M1",
    pupil: str = "P5",
    lesson: str = "L5",
    created: dt.datetime | None = None,
    modified: dt.datetime | None = None,
    **kw: object,
) -> Mark:
    return Mark(
        id=mid,
        school_id="s",
        pupil_id=pupil,
        lesson_id=lesson,
        value=value,  # type: ignore[arg-type]
        created_at=created or dt.datetime(2025, 10, 14, 9, tzinfo=UTC),
        modified_at=modified,
        **kw,
    )  # type: ignore[arg-type]
