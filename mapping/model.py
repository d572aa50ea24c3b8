"""The canonical model: one shape for every system's data (pydantic v2, frozen).

Every record has a stable gateway ``id``, the ``ext_ids`` it has in each external system,
``modified_at`` and a ``content_hash`` over its content fields (everything but identity and
timestamps). Reference fields hold gateway ids; straight out of a system's mapping profile — before
identity resolution — ids and references are *external references* ``"<system>:<external id>"``
(see :func:`ext_ref`), which :mod:`mapping.identity` rewrites to gateway ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from core.entities import Entity
from core.errors import RecordError
from mapping.hashing import Hasher, compile_hasher
from mapping.notes import FieldNote
from mapping.values import AttendanceCode, MarkValue

Name = Annotated[str, Field(min_length=1, max_length=200)]
#: a lesson's topic (тема урока) is a line of the class journal; homework may be longer
TOPIC_MAX = 500
HOMEWORK_MAX = 5000
Topic = Annotated[str | None, Field(default=None, max_length=TOPIC_MAX)]
Homework = Annotated[str | None, Field(default=None, max_length=HOMEWORK_MAX)]

#: fields holding personal data (ПДн): their values never leave the records table
PERSONAL_FIELDS = frozenset({"last_name", "first_name", "middle_name", "birth_date", "snils"})
Parallel = Annotated[int, Field(ge=1, le=11)]

#: Fields that describe a record rather than its content; they do not enter the hash.
META_FIELDS = frozenset({"id", "school_id", "ext_ids", "modified_at", "created_at"})
_HASHERS: dict[type[Record], Hasher] = {}


class Record(BaseModel):
    """Base of every canonical record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: ClassVar[Entity]
    #: reference field → the entity it points to
    refs: ClassVar[Mapping[str, Entity]] = {}
    #: references whose unknown target is dropped with a note instead of making the record wait
    #: (a lesson is a lesson whoever taught it; see :mod:`sync.resolver`)
    soft_refs: ClassVar[frozenset[str]] = frozenset()

    id: str = Field(min_length=1)
    school_id: str = Field(min_length=1)
    ext_ids: dict[str, str] = Field(default_factory=dict)
    modified_at: AwareDatetime | None = None

    @property
    def field_notes(self) -> tuple[FieldNote, ...]:
        """Optional fields whose received values were invalid and were stored empty (see
        :func:`mapping.validation.build`); carried by copies of the record."""
        notes: tuple[FieldNote, ...] = self.__dict__.get("_field_notes", ())
        return notes

    def content(self) -> dict[str, Any]:
        """The content fields in JSON form: what a change is measured on."""
        return self.model_dump(mode="json", exclude=set(META_FIELDS))

    @property
    def content_hash(self) -> str:
        """A digest of :meth:`content` (see :mod:`mapping.hashing`), computed once per
        (immutable) record and kept in its ``__dict__`` (as ``functools.cached_property``
        would, without its per-call lock)."""
        found: str | None = self.__dict__.get("content_hash")
        if found is None:
            cls = type(self)
            hasher = _HASHERS.get(cls)
            if hasher is None:
                hasher = _HASHERS[cls] = compile_hasher(cls, META_FIELDS)
            found = self.__dict__["content_hash"] = hasher(self)
        return found

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied (not validated, as in pydantic); its hash is computed
        afresh when ``update`` touches content. Shallow copies — the sync engine's hot path —
        skip pydantic's generic copying."""
        if deep:
            copy = super().model_copy(update=update, deep=True)
            copy.__dict__.pop("content_hash", None)
            return copy
        values = dict(self.__dict__)
        if update and not update.keys() <= META_FIELDS:
            values.pop("content_hash", None)  # the copy's content differs: hash afresh
        fields_set = self.__pydantic_fields_set__
        if update:
            values.update(update)
            fields_set = fields_set | update.keys()
        copy = object.__new__(type(self))
        object.__setattr__(copy, "__dict__", values)
        object.__setattr__(copy, "__pydantic_fields_set__", fields_set)
        object.__setattr__(copy, "__pydantic_extra__", None)
        object.__setattr__(copy, "__pydantic_private__", None)
        return copy


class School(Record):
    entity = Entity.SCHOOLS
    name: Name
    timezone: str = "Europe/Moscow"


class AcademicYear(Record):
    entity = Entity.YEARS
    name: Annotated[str, Field(pattern=r"^\d{4}/\d{4}$")]
    start: dt.date
    end: dt.date


PeriodKind = Literal["quarter", "half", "year"]


class Period(Record):
    """A marking period, configured per school and per parallel."""

    entity = Entity.PERIODS
    name: Name
    kind: PeriodKind
    parallels: tuple[Parallel, ...]
    start: dt.date
    end: dt.date
    closed: bool = False

    @field_validator("parallels")
    @classmethod
    def _sorted(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(sorted(set(v)))

    @model_validator(mode="after")
    def _dates(self) -> Period:
        if self.end < self.start:
            raise ValueError("period ends before it starts")
        return self

    def covers(self, parallel: int, day: dt.date) -> bool:
        return parallel in self.parallels and self.start <= day <= self.end


class Subject(Record):
    entity = Entity.SUBJECTS
    name: Name
    short: str | None = None


class Teacher(Record):
    entity = Entity.TEACHERS
    last_name: Name
    first_name: Name
    middle_name: str | None = None


class SchoolClass(Record):
    entity = Entity.CLASSES
    refs = {"class_teacher_id": Entity.TEACHERS}
    soft_refs = frozenset({"class_teacher_id"})
    name: Name
    parallel: Parallel
    year: Annotated[str, Field(pattern=r"^\d{4}/\d{4}$")]
    class_teacher_id: str | None = None


def _snils_ok(digits: str) -> bool:
    number, check = digits[:9], int(digits[9:])
    if int(number) <= 1_001_998:
        return True  # numbers this low carry no checksum
    total = sum(int(d) * w for d, w in zip(number, range(9, 0, -1), strict=True))
    expected = total % 101
    return (0 if expected == 100 else expected) == check


class Pupil(Record):
    entity = Entity.PUPILS
    refs = {"class_id": Entity.CLASSES}
    last_name: Name
    first_name: Name
    middle_name: str | None = None
    birth_date: dt.date
    snils: str | None = None
    class_id: str | None = None
    status: Literal["active", "left"] = "active"
    left_date: dt.date | None = None

    @field_validator("snils", mode="before")
    @classmethod
    def _snils(cls, v: object) -> object:
        if v is None or v == "":
            return None
        if not isinstance(v, str):
            raise ValueError("СНИЛС must be a string")
        digits = "".join(ch for ch in v if ch.isdigit())
        if len(digits) != 11 or not _snils_ok(digits):
            raise ValueError("СНИЛС is malformed or its checksum does not match")
        return digits

    @model_validator(mode="after")
    def _left(self) -> Pupil:
        if self.status == "active" and self.left_date is not None:
            raise ValueError("an active pupil has no leaving date")
        return self


EnrolmentKind = Literal["admission", "transfer", "leaving", "promotion"]


class Enrolment(Record):
    """A movement of a pupil: admission, transfer between classes, leaving, year-end promotion."""

    entity = Entity.ENROLMENTS
    refs = {
        "pupil_id": Entity.PUPILS,
        "from_class_id": Entity.CLASSES,
        "to_class_id": Entity.CLASSES,
    }
    pupil_id: str
    kind: EnrolmentKind
    date: dt.date
    from_class_id: str | None = None
    to_class_id: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Enrolment:
        need_from = self.kind in ("transfer", "leaving", "promotion")
        need_to = self.kind in ("admission", "transfer", "promotion")
        if need_from and self.from_class_id is None:
            raise ValueError(f"{self.kind} needs from_class_id")
        if need_to and self.to_class_id is None:
            raise ValueError(f"{self.kind} needs to_class_id")
        return self


class Subgroup(Record):
    """A class split for a subject; each subgroup has its own teacher and records."""

    entity = Entity.SUBGROUPS
    refs = {
        "class_id": Entity.CLASSES,
        "subject_id": Entity.SUBJECTS,
        "teacher_id": Entity.TEACHERS,
    }
    #: members are listed again with every read of the subgroup: an unknown one is left out
    soft_refs = frozenset({"teacher_id", "member_ids"})
    class_id: str
    subject_id: str
    teacher_id: str | None = None
    name: Name
    member_ids: tuple[str, ...] = ()

    @field_validator("member_ids")
    @classmethod
    def _sorted(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(v)))


class Lesson(Record):
    entity = Entity.LESSONS
    refs = {
        "class_id": Entity.CLASSES,
        "subgroup_id": Entity.SUBGROUPS,
        "subject_id": Entity.SUBJECTS,
        "teacher_id": Entity.TEACHERS,
        "substitute_teacher_id": Entity.TEACHERS,
    }
    soft_refs = frozenset({"teacher_id", "substitute_teacher_id"})
    class_id: str
    subgroup_id: str | None = None
    subject_id: str
    teacher_id: str | None = None
    substitute_teacher_id: str | None = None
    date: dt.date
    number: Annotated[int, Field(ge=0, le=12)]
    topic: Topic = None
    homework: Homework = None


class _Graded(Record):
    """A record carrying a mark value: grade 1 gets no marks (безотметочное обучение)."""

    def check_grade(self, parallel: int) -> None:
        """Raise :class:`RecordError` when the pupil's parallel takes no marks."""
        if parallel == 1:
            raise RecordError(
                "a mark for a first-grade pupil (безотметочное обучение)",
                entity=self.entity,
                record_id=self.id,
                field="value",
            )


class Mark(_Graded):
    """A current mark for a lesson (``kind`` current)."""

    entity = Entity.MARKS
    refs = {"pupil_id": Entity.PUPILS, "lesson_id": Entity.LESSONS}
    pupil_id: str
    lesson_id: str
    value: MarkValue
    work_type: str | None = None
    weight: Annotated[int, Field(ge=1, le=10)] = 1
    created_at: AwareDatetime | None = None


FinalKind = Literal["period", "year", "exam", "final"]


class FinalMark(_Graded):
    """A period, year, exam or final (итоговая) mark per pupil and subject."""

    entity = Entity.FINAL_MARKS
    refs = {"pupil_id": Entity.PUPILS, "subject_id": Entity.SUBJECTS, "period_id": Entity.PERIODS}
    pupil_id: str
    subject_id: str
    period_id: str | None = None
    kind: FinalKind
    value: MarkValue

    @model_validator(mode="after")
    def _period(self) -> FinalMark:
        if self.kind == "period" and self.period_id is None:
            raise ValueError("a period mark needs period_id")
        return self


class Attendance(Record):
    entity = Entity.ATTENDANCE
    refs = {"pupil_id": Entity.PUPILS, "lesson_id": Entity.LESSONS}
    pupil_id: str
    lesson_id: str
    code: AttendanceCode


class Tombstone(BaseModel):
    """A record deleted at the source, named by (external or gateway) id."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    entity: Entity
    id: str
    school_id: str
    modified_at: AwareDatetime | None = None


MODELS: dict[Entity, type[Record]] = {
    m.entity: m
    for m in (
        School,
        AcademicYear,
        Period,
        Subject,
        Teacher,
        SchoolClass,
        Pupil,
        Enrolment,
        Subgroup,
        Lesson,
        Mark,
        FinalMark,
        Attendance,
    )
}
