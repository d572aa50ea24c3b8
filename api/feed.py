"""The change feed: ``GET /feed/v1/changes`` — every applied change in order, with an opaque
cursor; tombstones carry natural keys; a request may wait (long-poll) for the next change.

A page reads the change log's committed head first and then the entries up to it
(:mod:`store.queries.feed`): everything at or below the head is final, so a cursor is never moved
past a position that could still be filled (see ``docs/feed.md``).
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Query, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from api.access import log_people
from api.auth import Principal, authorize, bearer, bearer_secret
from api.cursors import feed_cursor, feed_position
from api.feed_read import FeedRead, View, read_page
from api.responses import PROBLEMS
from api.schemas import FeedPage
from api.settings import ApiSettings
from api.state import AppState, app_state

SCHOOL_ID = r"^[A-Za-z0-9_.-]{1,64}$"


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

        def allowed() -> tuple[Principal, View, int]:
            principal = authorize(state, secret, "feed")
            token = principal.token
            view = View(principal.schools_for(school), principal.personal, token.pupil_id)
            return principal, view, feed_position(cursor)

        def first() -> tuple[Principal, View, FeedRead]:
            # the token's checks and the first read in one trip to a worker thread
            principal, view, start = allowed()
            return principal, view, _read(state, view, start, limit)

        principal, view, page = await run_in_threadpool(first)
        token = principal.token
        while True:
            left = deadline - time.monotonic()
            if page.count or page.more or left <= 0:
                break
            await asyncio.sleep(min(settings.poll_interval, left))
            page = await run_in_threadpool(_read, state, view, page.position, limit)
        if page.people:
            await run_in_threadpool(
                log_people, state.store, principal, page.people, "feed", view.personal
            )
        state.metrics.feed_lag.labels(token.name).set(max(0, page.head - page.position))
        tail = f'],"cursor":"{feed_cursor(page.position)}","more":{str(page.more).lower()}}}'
        body = b'{"events":[' + page.body + tail.encode()
        return Response(body, media_type="application/json")

    return api


def _read(state: AppState, view: View, after: int, limit: int) -> FeedRead:
    scan = state.settings.scan
    return read_page(state.store, view, after=after, limit=limit, scan=scan)
