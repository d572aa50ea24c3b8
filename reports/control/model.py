"""What the journal-control checks find: findings (one row of a report section each) and the
figures per class × subject × teacher, per teacher and per class and week. Plain data; the
checks that make them are :mod:`reports.control.checks`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: report sections in the order a report shows them
SECTIONS = (
    "no_marks",
    "one_mark",
    "below_norm",
    "no_topic",
    "no_homework",
    "absence_no_reason",
    "late_mark",
    "changed_mark",
    "period_mark",
    "substitution",
)

#: sections that are facts to know rather than faults (a substitution recorded correctly)
INFORMATIONAL = frozenset({"substitution"})

#: the count, among a course's, of substitutions recorded wrongly (the teacher as substitute)
WRONG_SUBSTITUTION = "substitution_wrong"

CourseKey = tuple[str, str, str | None]  # class, subject, subgroup


@dataclass(frozen=True, slots=True)
class Finding:
    """One row of a section. ``key`` names what it is about (a pupil, lesson, mark, absence or
    period mark id; a change: the mark id and the audit row) and is unique within its section."""

    kind: str
    key: str
    class_id: str
    subject_id: str | None
    subgroup_id: str | None = None
    teacher_id: str | None = None
    pupil_id: str | None = None
    lesson_id: str | None = None
    day: dt.date | None = None
    number: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    problem: bool = True

    @property
    def course(self) -> CourseKey | None:
        return (
            None if self.subject_id is None else (self.class_id, self.subject_id, self.subgroup_id)
        )


@dataclass
class CourseStats:
    """A class × subject (× subgroup) and its teacher over the span."""

    class_id: str
    subject_id: str
    subgroup_id: str | None
    teacher_id: str | None
    graded: bool
    lessons: int = 0
    weekly_hours: int = 0
    norm: int = 0
    pupils: int = 0
    marks: int = 0
    at_norm: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> CourseKey:
        return (self.class_id, self.subject_id, self.subgroup_id)

    @property
    def accumulation(self) -> float | None:
        """Share of pupils with at least the norm of marks (``None``: no marks are given)."""
        if not self.graded or not self.pupils:
            return None
        return self.at_norm / self.pupils

    @property
    def marks_per_pupil(self) -> float | None:
        if not self.graded or not self.pupils:
            return None
        return self.marks / self.pupils


@dataclass
class TeacherStats:
    teacher_id: str
    lessons: int = 0
    with_topic: int = 0
    with_homework: int = 0
    marks: int = 0
    substituted: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def works_in_journal(self) -> bool:
        """Fills in the journal: topics recorded or marks entered on the span's lessons."""
        return self.with_topic > 0 or self.marks > 0


@dataclass
class ControlResult:
    findings: list[Finding]
    courses: list[CourseStats]
    teachers: list[TeacherStats]
    #: class → Monday of the week → current marks on that week's lessons
    weekly: dict[str, dict[dt.date, int]]
    #: classes looked at (with lessons or pupils in the span)
    class_ids: list[str]
    lessons: int = 0
    marks: int = 0
    absences: int = 0

    def of(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    @property
    def problems(self) -> int:
        return sum(1 for f in self.findings if f.problem)
