"""Wire ⇄ canonical mapping: the canonical model, value types, identity resolution, profiles."""

from mapping.model import (
    MODELS,
    AcademicYear,
    Attendance,
    Enrolment,
    FinalMark,
    Lesson,
    Mark,
    Period,
    Pupil,
    Record,
    School,
    SchoolClass,
    Subgroup,
    Subject,
    Teacher,
    Tombstone,
)
from mapping.values import AttendanceCode, InvalidValue, MarkKind, MarkValue

__all__ = [
    "MODELS",
    "AcademicYear",
    "Attendance",
    "AttendanceCode",
    "Enrolment",
    "FinalMark",
    "InvalidValue",
    "Lesson",
    "Mark",
    "MarkKind",
    "MarkValue",
    "Period",
    "Pupil",
    "Record",
    "School",
    "SchoolClass",
    "Subgroup",
    "Subject",
    "Teacher",
    "Tombstone",
]
