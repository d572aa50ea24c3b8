"""The local journal's write API, ``/journal/v1/{school}/…``: lessons (topic, homework,
substitute), marks, attendance and period marks, through the same journal path as every local
entry (:class:`sync.journal.Journal`: audit, change log and outbox in one transaction).

Every request carries an ``Idempotency-Key``: a retry with the same key and body gets the first
answer again and writes nothing; the same key with another body is refused. A request whose items
break the canonical model, name records the school does not have, or break the school's rules is
refused as a whole (422), each failing item named with its field and rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from api.auth import Principal, require
from api.checks import Facts, build, check
from api.problems import ApiProblem, ItemError
from api.responses import PROBLEMS, dumps, json_response
from api.schemas import (
    AttendanceIn,
    Deleted,
    FinalMarkIn,
    LessonIn,
    MarkIn,
    Write,
    Written,
    _In,
)
from api.settings import ApiSettings, SchoolSetup
from api.state import AppState, app_state
from core.entities import Entity
from mapping.model import Record
from store.types import utcnow
from sync.ids import new_gids
from sync.journal import Journal, WriteResult

SCHOOL = r"^[A-Za-z0-9_.-]{1,64}$"
ID = r"^[A-Za-z0-9_.:-]{1,64}$"
KEY = r"^[\x21-\x7e]{1,200}$"
KINDS: dict[str, Entity] = {
    "lessons": Entity.LESSONS,
    "marks": Entity.MARKS,
    "attendance": Entity.ATTENDANCE,
    "final_marks": Entity.FINAL_MARKS,
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    404: PROBLEMS[403] | {"description": "the school takes no journal writes here; no such record"},
    409: PROBLEMS[403] | {"description": "a request with this Idempotency-Key is still running"},
    422: PROBLEMS[403]
    | {"description": "items refused (each with its field and rule), or the key reused"},
}


def _journal_school(state: AppState, principal: Principal, school: str) -> SchoolSetup:
    principal.schools_for(school)
    setup = state.settings.schools.get(school)
    if setup is None:
        raise ApiProblem(404, "not_journal_school", "this server takes no journal writes for it")
    return setup


def request_hash(method: str, path: str, body: Any) -> str:
    return hashlib.sha256(f"{method} {path}\n".encode() + dumps(body)).hexdigest()


def idempotent(
    state: AppState,
    principal: Principal,
    key: str,
    digest: str,
    run: Callable[[], tuple[int, dict[str, Any]]],
) -> Response:
    """Run ``run`` once per (token, key): a retry gets the kept answer."""
    token_id = principal.token.id
    stale = dt.timedelta(seconds=state.settings.idempotency_stale_after)
    with state.store.begin() as tx:
        claim = tx.idempotency.claim(token_id, key, digest, stale_after=stale)
    if claim.outcome == "done":
        assert claim.status is not None and claim.response is not None
        return json_response(claim.response, claim.status, {"Idempotent-Replayed": "true"})
    if claim.outcome == "pending":
        raise ApiProblem(409, "in_progress", "a request with this key is still running")
    if claim.outcome == "mismatch":
        raise ApiProblem(
            422, "idempotency_key_reused", "this Idempotency-Key was used with another request"
        )
    try:
        status, body = run()
    except BaseException:
        with state.store.begin() as tx:
            tx.idempotency.release(token_id, key)
        raise
    with state.store.begin() as tx:
        tx.idempotency.complete(token_id, key, status, body)
    return json_response(body, status)


def write_items(
    state: AppState,
    principal: Principal,
    setup: SchoolSetup,
    school: str,
    entity: Entity,
    items: Sequence[_In],
) -> tuple[int, dict[str, Any]]:
    """Check every item, then store them all through the journal — or refuse them all."""
    given = [item.model_dump(exclude_unset=True) for item in items]
    now = utcnow()
    fresh = new_gids(len(given))
    errors: list[ItemError] = []
    built: list[tuple[int, Record]] = []
    with state.store.read() as tx:
        named = [g["id"] for g in given if g.get("id")]
        stored = {
            rid: rec
            for rid, rec in tx.records.get(entity, named).items()
            if rec.school_id == school
        }
        seen: set[str] = set()
        for i, g in enumerate(given):
            rid = g.get("id")
            if rid is not None and rid not in stored:
                errors.append(ItemError(i, "id", "unknown_id", f"no such {entity} here", rid))
                continue
            if rid is not None and rid in seen:
                errors.append(ItemError(i, "id", "duplicate_id", "named twice in one request", rid))
                continue
            if rid is not None:
                seen.add(rid)
            rec = build(
                entity,
                i,
                g,
                stored.get(rid) if rid else None,
                school_id=school,
                new_id=fresh[i],
                now=now,
            )
            if isinstance(rec, ItemError):
                errors.append(rec)
            else:
                built.append((i, rec))
        facts = Facts.read(tx, school, [r for _, r in built])
    passed: list[tuple[int, Record]] = []
    for i, rec in built:
        found = check(i, rec, stored.get(rec.id), facts)
        if found is not None:
            errors.append(found)
        else:
            passed.append((i, rec))
    records = [r for _, r in built]
    index_of = {r.id: i for i, r in built}
    journal = Journal(state.store, school, setup.push_targets, deadlines=setup.deadlines)
    # the school's rules are the journal's: asked first, so that a request is taken whole or
    # refused whole, every refused item named at once
    asked = journal.check([r for _, r in passed], actor=principal.actor)
    errors += _items(asked, index_of)
    if errors:
        raise _refused(errors, len(items))
    done = journal.write(records, actor=principal.actor)
    if done.refused:  # the store moved between the question and the write
        raise _refused(_items(done, index_of), len(items), stored=len(done.accepted))
    body = {
        "ids": [r.id for r in records],
        "created": done.created,
        "updated": done.updated,
        "unchanged": done.unchanged,
        "queued": done.queued,
    }
    return 200, body


def _items(result: WriteResult, index_of: dict[str, int]) -> list[ItemError]:
    return [
        ItemError(index_of.get(f.record_id, 0), f.field, f.rule, f.reason, f.record_id)
        for f in result.refused
    ]


def _refused(errors: Sequence[ItemError], total: int, *, stored: int = 0) -> ApiProblem:
    said = f"{stored} others were stored" if stored else "nothing was stored"
    return ApiProblem(
        422,
        "invalid_items",
        f"{len(errors)} of {total} items refused; {said}",
        items=sorted(errors, key=lambda e: e.index),
    )


def delete_item(
    state: AppState,
    principal: Principal,
    setup: SchoolSetup,
    school: str,
    entity: Entity,
    record_id: str,
) -> tuple[int, dict[str, Any]]:
    with state.store.read() as tx:
        stored = tx.records.get(entity, [record_id]).get(record_id)
    if stored is None or stored.school_id != school:
        raise ApiProblem(404, "not_found", f"no such {entity} here")
    journal = Journal(state.store, school, setup.push_targets, deadlines=setup.deadlines)
    done = journal.delete(entity, [record_id], actor=principal.actor)
    if done.refused:
        raise _refused(_items(done, {record_id: 0}), 1)
    return 200, {"deleted": done.deleted}


def router(settings: ApiSettings) -> APIRouter:
    api = APIRouter(prefix="/journal/v1/{school}", tags=["journal"])
    School = Path(pattern=SCHOOL, description="the school's id")  # noqa: N806
    Key = Header(  # noqa: N806
        alias="Idempotency-Key",
        pattern=KEY,
        description="one per request: a retry with the same key and body is answered the same",
    )
    journal_scope = require("journal")

    def writer(school: str = School, principal: Principal = Depends(journal_scope)) -> Principal:
        """The caller, with the ``journal`` scope and the school the path names — checked
        before the body is read, so a request for another school learns nothing of it."""
        principal.schools_for(school)
        return principal

    def post(kind: str, model: type[_In], what: str) -> None:
        entity = KINDS[kind]

        def write(
            request: Request,
            body: Any,
            school: str = School,
            idempotency_key: str = Key,
            principal: Principal = Depends(writer),
        ) -> Response:
            state = app_state(request)
            setup = _journal_school(state, principal, school)
            payload = body.model_dump(mode="json", exclude_unset=True)
            digest = request_hash("POST", request.url.path, payload)
            return idempotent(
                state,
                principal,
                idempotency_key,
                digest,
                lambda: write_items(state, principal, setup, school, entity, body.items),
            )

        # the body's model differs per kind: given as an object, not a name to resolve
        write.__annotations__["body"] = Write[model]  # type: ignore[valid-type]
        api.post(
            f"/{kind}",
            response_model=Written,
            responses=_RESPONSES,
            summary=what,
            operation_id=f"write_{kind}",
        )(write)

    post("lessons", LessonIn, "Enter lessons: topic, homework, substitute teacher")
    post("marks", MarkIn, "Enter or correct marks")
    post("attendance", AttendanceIn, "Enter attendance (Б, У, Н, О)")
    post("final_marks", FinalMarkIn, "Enter period, year, exam and final marks")

    @api.delete(
        "/{kind}/{record_id}",
        response_model=Deleted,
        responses=_RESPONSES,
        summary="Delete a lesson, mark, absence or period mark entered here",
    )
    def remove(
        request: Request,
        kind: Literal["lessons", "marks", "attendance", "final_marks"],
        record_id: str = Path(pattern=ID),
        school: str = School,
        idempotency_key: str = Key,
        principal: Principal = Depends(writer),
    ) -> Response:
        state = app_state(request)
        setup = _journal_school(state, principal, school)
        digest = request_hash("DELETE", request.url.path, None)
        entity = KINDS[kind]
        return idempotent(
            state,
            principal,
            idempotency_key,
            digest,
            lambda: delete_item(state, principal, setup, school, entity, record_id),
        )

    return api
