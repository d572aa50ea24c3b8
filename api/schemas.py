"""The API's documented shapes (OpenAPI): pages of the feed and of snapshots, journal writes and
their answers, errors. Responses on the hot path are built as plain JSON that matches these."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from core.entities import Entity

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
#: text as the store's columns take it (no NUL, within the column's width)
Line = Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")]
Text = Annotated[str, Field(max_length=10_000, pattern=r"^[^\x00]*$")]
Code = Annotated[str, Field(max_length=8, pattern=r"^[^\x00]*$")]


class ItemProblem(BaseModel):
    index: int = Field(description="the item's place in the request's `items`")
    id: str | None
    field: str | None = Field(description="the field that broke the rule, when one did")
    rule: str = Field(description="the rule or check that refused the item")
    message: str


class Problem(BaseModel):
    """Every answer other than success."""

    error: str = Field(description="a stable code: unauthorized, forbidden, rate_limited, …")
    message: str
    items: list[ItemProblem] | None = Field(
        default=None, description="a refused write: each item that failed, its field and rule"
    )


# -- feed --------------------------------------------------------------------------------------
class FeedEvent(BaseModel):
    cursor: str = Field(description="resume after this event by passing it as `cursor`")
    school: str
    entity: Entity
    id: str
    op: Literal["create", "update", "delete"]
    version: int = Field(description="the record's version this change made")
    at: dt.datetime
    source: str = Field(description="the system the change came from, or `local`")
    key: dict[str, Any] | None = Field(
        description="a tombstone's natural key: school, and as the entity has them class, "
        "pupil, subject, date, lesson"
    )
    data: dict[str, Any] | None = Field(
        description="the record as it is now when this change made its current version; null "
        "for a tombstone or when a later event carries a newer version"
    )


class FeedPage(BaseModel):
    events: list[FeedEvent]
    cursor: str = Field(description="pass it back to continue after this page")
    more: bool = Field(description="more changes are there now: ask again at once")


# -- snapshots ---------------------------------------------------------------------------------
class _Out(BaseModel):
    id: str
    version: int


class ClassOut(_Out):
    name: str
    parallel: int
    year: str
    class_teacher_id: str | None


class PupilOut(_Out):
    model_config = ConfigDict(
        json_schema_extra={
            "description": "birth_date and snils only for a token with the personal scope"
        }
    )
    last_name: str
    first_name: str
    middle_name: str | None
    class_id: str | None
    status: str
    left_date: dt.date | None
    birth_date: dt.date | None = None
    snils: str | None = None


class LessonOut(_Out):
    class_id: str
    subgroup_id: str | None
    subject_id: str
    teacher_id: str | None
    substitute_teacher_id: str | None
    date: dt.date
    number: int
    topic: str | None
    homework: str | None


class MarkOut(_Out):
    pupil_id: str
    lesson_id: str
    value: str
    work_type: str | None
    weight: int
    created_at: dt.datetime | None


class FinalMarkOut(_Out):
    pupil_id: str
    subject_id: str
    period_id: str | None
    kind: str
    value: str


class AttendanceOut(_Out):
    pupil_id: str
    lesson_id: str
    code: str


class SubjectOut(_Out):
    name: str
    short: str | None


class PeriodOut(_Out):
    name: str
    kind: str
    parallels: list[int]
    start: dt.date
    end: dt.date
    closed: bool


T = TypeVar("T")


class SnapshotPage(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(description="the cursor of the next page; null on the last")
    feed_cursor: str = Field(
        description="the feed position this page is consistent with: follow the feed from the "
        "first page's to miss nothing (changes already seen come again, with their versions)"
    )


# -- journal writes ----------------------------------------------------------------------------
class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Id | None = Field(
        default=None, description="a stored record to change; leave out to create one"
    )


class LessonIn(_In):
    """A lesson: topic, homework and substitute teacher of a stored lesson, or a new lesson."""

    class_id: Id | None = None
    subgroup_id: Id | None = None
    subject_id: Id | None = None
    teacher_id: Id | None = None
    substitute_teacher_id: Id | None = None
    date: dt.date | None = None
    number: int | None = None
    topic: Text | None = None
    homework: Text | None = None


class MarkIn(_In):
    pupil_id: Id | None = None
    lesson_id: Id | None = None
    value: Code | None = Field(default=None, description="1–5, 4/5, зач, незач, осв")
    work_type: Line | None = None
    weight: int | None = None


class AttendanceIn(_In):
    pupil_id: Id | None = None
    lesson_id: Id | None = None
    code: Code | None = Field(default=None, description="Б, У, Н or О")


class FinalMarkIn(_In):
    pupil_id: Id | None = None
    subject_id: Id | None = None
    period_id: Id | None = None
    kind: Code | None = Field(default=None, description="period, year, exam or final")
    value: Code | None = None


I = TypeVar("I")  # noqa: E741


class Write(BaseModel, Generic[I]):
    model_config = ConfigDict(extra="forbid")
    items: list[I] = Field(min_length=1, max_length=1000)


class Written(BaseModel):
    ids: list[str] = Field(description="the records' ids, in the order of the items")
    created: int
    updated: int
    unchanged: int
    queued: int = Field(description="pushes queued for the school's systems")


class Deleted(BaseModel):
    deleted: int


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    store: bool
    revision: str | None
    head: str | None
    migrations_current: bool
