"""Snapshots of a school: classes, pupils, lessons (with homework), marks, period and final marks,
attendance, subjects and periods — filtered, paged by an opaque cursor, with ``ETag`` /
``If-None-Match``, each page naming the feed cursor it is consistent with."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from api.access import log_people
from api.auth import Principal, require
from api.cursors import feed_cursor, page_after, page_cursor
from api.problems import forbidden
from api.responses import PROBLEMS, dumps
from api.schemas import (
    AttendanceOut,
    ClassOut,
    FinalMarkOut,
    LessonOut,
    MarkOut,
    PeriodOut,
    PupilOut,
    SnapshotPage,
    SubjectOut,
)
from api.settings import ApiSettings
from api.state import app_state
from api.visibility import PEOPLE, diary_entities, shown
from core.entities import Entity
from store import SnapshotFilter, Store

ID = r"^[A-Za-z0-9_.:-]{1,64}$"


def _iso_day(value: object) -> object:
    """Only a calendar date in ISO form (pydantic alone would take ``0`` as 1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is YYYY-MM-DD")
    return value


Day = Annotated[dt.date, BeforeValidator(_iso_day)]
SCHOOL = r"^[A-Za-z0-9_.-]{1,64}$"


@dataclass(frozen=True, slots=True)
class SnapshotRead:
    items: list[dict[str, Any]]
    next: str | None
    feed_position: int


def read_snapshot(
    store: Store,
    principal: Principal,
    entity: Entity,
    school: str,
    where: SnapshotFilter,
    *,
    after_id: str | None,
    limit: int,
) -> SnapshotRead:
    """One page; a diary token's filters are narrowed to its pupil."""
    token = principal.token
    with store.read() as tx:
        q = tx.queries
        head = q.feed_head()  # first: the rows below are at least as new as this position
        if token.pupil_id is not None:
            if entity.value not in diary_entities():
                raise forbidden("a pupil's token does not list this")
            place = q.pupil_place(school, token.pupil_id)
            class_id, groups = place if place is not None else (None, [])
            narrowed = _diary_filter(entity, where, token.pupil_id, class_id, groups)
            if narrowed is None:
                return SnapshotRead([], None, head)
            where = narrowed
        rows = q.snapshot(entity, school, where, after_id=after_id, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [shown(entity.value, r, personal=principal.personal) for r in rows]
    return SnapshotRead(items, page_cursor(rows[-1]["id"]) if more else None, head)


def _diary_filter(
    entity: Entity, where: SnapshotFilter, pupil_id: str, class_id: str | None, groups: list[str]
) -> SnapshotFilter | None:
    """The filter narrowed to what a pupil's diary may see; None when it sees nothing."""
    if entity in (Entity.MARKS, Entity.ATTENDANCE, Entity.FINAL_MARKS, Entity.PUPILS):
        if where.pupil_id not in (None, pupil_id):
            return None
        return replace(where, pupil_id=pupil_id)
    if entity is Entity.LESSONS:
        if class_id is None or where.class_id not in (None, class_id):
            return None
        return replace(where, class_id=class_id, subgroups=groups)
    return where


def etag_of(body: dict[str, Any]) -> str:
    return 'W/"' + hashlib.sha256(dumps(body)).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    bare = etag.removeprefix("W/")
    return "*" in tags or any(t.removeprefix("W/") == bare for t in tags)


async def serve(
    request: Request,
    principal: Principal,
    entity: Entity,
    school: str,
    where: SnapshotFilter,
    cursor: str | None,
    limit: int,
    if_none_match: str | None,
) -> Response:
    principal.schools_for(school)
    state = app_state(request)
    page = await run_in_threadpool(
        read_snapshot,
        state.store,
        principal,
        entity,
        school,
        where,
        after_id=page_after(cursor),
        limit=limit,
    )
    content = {"items": page.items, "next": page.next}
    etag = etag_of(content)
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    if entity.value in PEOPLE and page.items:
        people = [(school, entity.value, item["id"]) for item in page.items]
        await run_in_threadpool(
            log_people, state.store, principal, people, f"snapshot:{entity.value}",
            principal.personal,
        )  # fmt: skip
    body = dumps({**content, "feed_cursor": feed_cursor(page.feed_position)})
    return Response(body, headers={"ETag": etag}, media_type="application/json")


_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    304: {"description": "not modified: the page's ETag matches If-None-Match"},
}


def router(settings: ApiSettings) -> APIRouter:
    api = APIRouter(prefix="/snapshot/v1/{school}", tags=["snapshots"])
    School = Path(pattern=SCHOOL, description="the school's id")  # noqa: N806
    Cursor = Query(None, max_length=200, description="the `next` of the previous page")  # noqa: N806
    Limit = Query(min(500, settings.max_page), ge=1, le=settings.max_page)  # noqa: N806
    ClassQ = Query(None, alias="class", pattern=ID, description="a class's id")  # noqa: N806
    PupilQ = Query(None, alias="pupil", pattern=ID, description="a pupil's id")  # noqa: N806
    FromQ = Query(None, description="from this date (inclusive), YYYY-MM-DD")  # noqa: N806
    ToQ = Query(None, description="up to this date (inclusive), YYYY-MM-DD")  # noqa: N806
    Etag = Header(None, alias="If-None-Match", max_length=500)  # noqa: N806
    reader = require("snapshot")

    def doc(model: type, what: str) -> dict[str, Any]:
        return {"response_model": SnapshotPage[model], "responses": _RESPONSES, "summary": what}  # type: ignore[valid-type]

    def by_lesson(entity: Entity, model: type, what: str) -> None:
        """The route of records filed under a lesson (marks, attendance): by class, pupil and
        the lesson's dates."""

        async def listed(
            request: Request,
            school: str = School,
            class_id: str | None = ClassQ,
            pupil: str | None = PupilQ,
            date_from: Day | None = FromQ,
            date_to: Day | None = ToQ,
            cursor: str | None = Cursor,
            limit: int = Limit,
            if_none_match: str | None = Etag,
            principal: Principal = Depends(reader),
        ) -> Response:
            where = SnapshotFilter(class_id, pupil, date_from, date_to)
            return await serve(
                request, principal, entity, school, where, cursor, limit, if_none_match
            )

        api.get(f"/{entity.value}", name=entity.value, **doc(model, what))(listed)

    @api.get("/classes", **doc(ClassOut, "The school's classes"))
    async def classes(
        request: Request,
        school: str = School,
        cursor: str | None = Cursor,
        limit: int = Limit,
        if_none_match: str | None = Etag,
        principal: Principal = Depends(reader),
    ) -> Response:
        where = SnapshotFilter()
        return await serve(
            request, principal, Entity.CLASSES, school, where, cursor, limit, if_none_match
        )

    @api.get("/pupils", **doc(PupilOut, "Pupils (birth date and СНИЛС with `personal`)"))
    async def pupils(
        request: Request,
        school: str = School,
        class_id: str | None = ClassQ,
        pupil: str | None = PupilQ,
        cursor: str | None = Cursor,
        limit: int = Limit,
        if_none_match: str | None = Etag,
        principal: Principal = Depends(reader),
    ) -> Response:
        where = SnapshotFilter(class_id=class_id, pupil_id=pupil)
        return await serve(
            request, principal, Entity.PUPILS, school, where, cursor, limit, if_none_match
        )

    @api.get("/lessons", **doc(LessonOut, "Lessons with topic and homework"))
    async def lessons(
        request: Request,
        school: str = School,
        class_id: str | None = ClassQ,
        date_from: Day | None = FromQ,
        date_to: Day | None = ToQ,
        cursor: str | None = Cursor,
        limit: int = Limit,
        if_none_match: str | None = Etag,
        principal: Principal = Depends(reader),
    ) -> Response:
        where = SnapshotFilter(class_id=class_id, date_from=date_from, date_to=date_to)
        return await serve(
            request, principal, Entity.LESSONS, school, where, cursor, limit, if_none_match
        )

    by_lesson(Entity.MARKS, MarkOut, "Current marks (dates and classes are their lessons')")

    @api.get("/final_marks", **doc(FinalMarkOut, "Period, year, exam and final marks"))
    async def final_marks(
        request: Request,
        school: str = School,
        class_id: str | None = ClassQ,
        pupil: str | None = PupilQ,
        period: str | None = Query(None, pattern=ID, description="a period's id"),
        cursor: str | None = Cursor,
        limit: int = Limit,
        if_none_match: str | None = Etag,
        principal: Principal = Depends(reader),
    ) -> Response:
        where = SnapshotFilter(class_id=class_id, pupil_id=pupil, period_id=period)
        return await serve(
            request, principal, Entity.FINAL_MARKS, school, where, cursor, limit, if_none_match
        )

    by_lesson(Entity.ATTENDANCE, AttendanceOut, "Attendance (Б, У, Н, О) by lesson")

    @api.get("/subjects", **doc(SubjectOut, "Subjects"))
    async def subjects(
        request: Request,
        school: str = School,
        cursor: str | None = Cursor,
        limit: int = Limit,
        if_none_match: str | None = Etag,
        principal: Principal = Depends(reader),
    ) -> Response:
        where = SnapshotFilter()
        return await serve(
            request, principal, Entity.SUBJECTS, school, where, cursor, limit, if_none_match
        )

    @api.get("/periods", **doc(PeriodOut, "Marking periods (closed ones are frozen)"))
    async def periods(
        request: Request,
        school: str = School,
        cursor: str | None = Cursor,
        limit: int = Limit,
        if_none_match: str | None = Etag,
        principal: Principal = Depends(reader),
    ) -> Response:
        where = SnapshotFilter()
        return await serve(
            request, principal, Entity.PERIODS, school, where, cursor, limit, if_none_match
        )

    return api
