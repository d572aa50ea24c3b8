"""The change feed: ``GET /feed/v1/changes`` — every applied change in order, with an opaque
cursor; tombstones carry natural keys; a request may wait (long-poll) for the next change.

A page reads the change log's committed head first and then the entries up to it
(:mod:`store.queries.feed`): everything at or below the head is final, so a cursor is never moved
past a position that could still be filled (see ``docs/feed.md``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from fastapi import APIRouter, Query, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from api.access import log_people
from api.auth import Principal, authorize, bearer, bearer_secret
from api.cursors import feed_cursor, feed_position
from api.responses import PROBLEMS
from api.schemas import FeedPage
from api.settings import ApiSettings
from api.state import app_state
from api.visibility import DIARY_OWN, DIARY_SHARED, PEOPLE, hidden_fields
from store import FeedScope, Store

SCHOOL_ID = r"^[A-Za-z0-9_.-]{1,64}$"


@dataclass(frozen=True, slots=True)
class View:
    """What the reader may see: its schools, personal fields or not, one pupil or all."""

    schools: tuple[str, ...]
    personal: bool
    pupil_id: str | None = None


@dataclass(frozen=True, slots=True)
class FeedRead:
    #: the events, each as JSON text
    events: list[str]
    #: where the next read continues
    position: int
    more: bool
    head: int
    #: (school, entity, id) of people whose records this page showed
    people: list[tuple[str, str, str]]


def read_page(store: Store, view: View, *, after: int, limit: int, scan: int) -> FeedRead:
    """One page of the feed after position ``after``. A diary (one pupil's) reads at most
    ``scan`` positions of the log per page to find its pupil's entries."""
    with store.read() as tx:
        q = tx.queries
        head = q.feed_head()  # first: every position up to it is final
        if head <= after:
            return FeedRead([], after, False, head, [])
        scope: FeedScope | None = None
        upto = head
        if view.pupil_id is not None:
            place = q.pupil_place(view.schools[0], view.pupil_id)
            class_id, groups = place if place is not None else (None, [])
            scope = FeedScope(view.pupil_id, class_id, groups, DIARY_OWN, DIARY_SHARED)
            upto = min(head, after + scan)
        page = q.feed_page(
            after,
            upto,
            limit,
            schools=view.schools,
            hidden=hidden_fields(personal=view.personal),
            scope=scope,
            flagged=sorted(PEOPLE),
        )
    if len(page.events) == limit and page.last is not None:
        position, more = page.last, True
    else:
        position, more = upto, upto < head
    return FeedRead(page.events, position, more, head, page.shown)


def router(settings: ApiSettings) -> APIRouter:
    api = APIRouter(tags=["feed"])

    @api.get(
        "/feed/v1/changes",
        response_model=FeedPage,
        responses=PROBLEMS,
        summary="Every applied change, in order, after a cursor",
    )
    async def changes(
        request: Request,
        cursor: str | None = Query(
            None, max_length=100, description="from the last page (none: from the start)"
        ),
        limit: int = Query(settings.max_page, ge=1, le=settings.max_page),
        school: str | None = Query(
            None, pattern=SCHOOL_ID, description="one of the token's schools (default: all)"
        ),
        wait: float = Query(
            0,
            ge=0,
            le=settings.max_wait,
            description="seconds to wait for a change when there is none yet (long-poll)",
        ),
        credentials: HTTPAuthorizationCredentials | None = Security(bearer),
    ) -> Response:
        state = app_state(request)
        secret = bearer_secret(credentials)
        deadline = time.monotonic() + wait

        def first() -> tuple[Principal, View, FeedRead]:
            # the token's checks and the first read in one trip to a worker thread
            principal = authorize(state, secret, "feed")
            token = principal.token
            view = View(principal.schools_for(school), principal.personal, token.pupil_id)
            start = feed_position(cursor)
            return (
                principal,
                view,
                read_page(state.store, view, after=start, limit=limit, scan=settings.scan),
            )

        principal, view, page = await run_in_threadpool(first)
        token = principal.token
        while True:
            left = deadline - time.monotonic()
            if page.events or page.more or left <= 0:
                break
            after = page.position
            await asyncio.sleep(min(settings.poll_interval, left))
            page = await run_in_threadpool(
                read_page, state.store, view, after=after, limit=limit, scan=settings.scan
            )
        if page.people:
            await run_in_threadpool(
                log_people, state.store, principal, page.people, "feed", view.personal
            )
        state.metrics.feed_lag.labels(token.name).set(max(0, page.head - page.position))
        body = (
            f'{{"events":[{",".join(page.events)}],'
            f'"cursor":"{feed_cursor(page.position)}","more":{"true" if page.more else "false"}}}'
        )
        return Response(body.encode("utf-8"), media_type="application/json")

    return api
