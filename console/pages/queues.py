"""What waits for a person: the conflict queue (base, incoming and current side by side; take
the store's or the system's version), held pulls (approve, discard), identity reviews (link,
keep apart). Deciding needs the deputy director's or the administrator's role; each decision
and each refusal is in the console's audit with the comment given."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from console.names import PageNames
from console.roles import Action, may
from console.web import (
    NotFound,
    Pager,
    address,
    check_csrf,
    console_of,
    current,
    decision_form,
    form_of,
    redirect,
    refuse_unless_deciding,
    render,
    require,
    scope_of,
)
from core.entities import Entity
from core.errors import GatewayError, StoreError
from store.console import Session
from store.queries import QueueScope
from sync import resolutions

router = APIRouter()
CONFLICT_STATUSES = ("open", "waiting", "rejected", "noted", "resolved")
HOLD_STATUSES = ("waiting", "approved", "discarded")
REVIEW_STATUSES = ("open", "linked", "rejected")


def _scope(
    session: Session,
    school: str,
    status: str,
    known: tuple[str, ...],
    search: str = "",
    longest: int = 0,
    **more: Any,
) -> QueueScope:
    """A queue's rows the page lists: the user's schools (or the one asked), the status asked
    when it is one the queue knows (else every status), the search text (at most ``longest``
    characters) when given."""
    return QueueScope(
        schools=scope_of(session),
        school_id=school or None,
        statuses=(status,) if status in known else (),
        search=search.strip()[:longest] or None,
        **more,
    )


def _comment(form: dict[str, str]) -> str | None:
    text = form.get("comment", "").strip()
    return text[:1000] or None


def _audit(
    request: Request,
    session: Session,
    action: str,
    school_id: str | None,
    target: str,
    detail: str | None,
    outcome: str = "ok",
) -> None:
    con = console_of(request)
    with con.store.begin() as tx:
        tx.console.audit(
            login=session.user.login,
            user_id=session.user.id,
            action=action,
            school_id=school_id,
            target=target,
            outcome=outcome,
            detail=detail,
            address=address(request),
        )


# -- conflicts ------------------------------------------------------------------------------------
@router.get("/conflicts")
def conflicts(
    request: Request,
    session: Annotated[Session, Depends(current)],
    school: str = "",
    system: str = "",
    status: str = "open",
    kind: str = "",
    q: str = "",
    page: str = "1",
) -> Response:
    require(session, Action.VIEW, school or None)
    con = console_of(request)
    pager = Pager.of(con, page)
    where = _scope(
        session, school, status, CONFLICT_STATUSES, q, 64,
        system=system or None, kinds=(kind,) if kind else (),
    )  # fmt: skip
    statuses = where.statuses
    with con.store.read() as tx:
        found = tx.queries.conflict_queue(where, pager.paging)
        kinds = tx.queries.queue_kinds(scope_of(session), statuses)
    return render(
        request,
        session,
        "conflicts.html.j2",
        conflicts=found,
        kinds=kinds,
        statuses=CONFLICT_STATUSES,
        school=school,
        system=system,
        status=status,
        kind=kind,
        q=q,
        **pager.shown(found.total),
    )


@router.get("/conflicts/{conflict_id}")
def conflict(
    request: Request, session: Annotated[Session, Depends(current)], conflict_id: int
) -> Response:
    con = console_of(request)
    with con.store.read() as tx:
        c = tx.queries.conflict(conflict_id)
        if c is None:
            raise NotFound(f"Конфликта № {conflict_id} нет.")
        require(session, Action.VIEW, c.school_id)
        names = PageNames(tx)
        names.resolve([c.base, c.incoming, c.current])
        names.people({Entity(c.entity): [c.record_id]} if c.entity in _NAMED else {})
    versions = (c.base, c.incoming, c.current)
    fields = sorted(set().union(*(v or {} for v in versions)) - {"id", "school_id", "ext_ids"})
    rows: list[dict[str, Any]] = []
    for f in fields:
        shown = [names.value(f, (v or {}).get(f)) if v is not None else "—" for v in versions]
        raw = [(v or {}).get(f) for v in versions]
        rows.append(
            {"field": f, "values": shown, "differs": len({repr(x) for x in raw}) > 1,
             "key": f == c.field}
        )  # fmt: skip
    return render(
        request,
        session,
        "conflict.html.j2",
        c=c,
        rows=rows,
        record_name=names.labels.get(c.record_id, ""),
        can_decide=may(session.user, Action.DECIDE) and c.status == "open",
    )


_NAMED = {e.value for e in (Entity.PUPILS, Entity.TEACHERS, Entity.CLASSES, Entity.LESSONS)}


@router.post("/conflicts/{conflict_id}/resolve")
async def resolve(
    request: Request, session: Annotated[Session, Depends(current)], conflict_id: int
) -> Response:
    form = await form_of(request)
    check_csrf(request, session, form, "conflict_resolve")
    refuse_unless_deciding(request, session, "conflict_resolve", f"conflict:{conflict_id}")
    con = console_of(request)
    with con.store.read() as tx:
        c = tx.queries.conflict(conflict_id)
    if c is None:
        raise NotFound(f"Конфликта № {conflict_id} нет.")
    require(session, Action.DECIDE, c.school_id)
    take = form.get("take")
    if take not in ("local", "remote"):
        raise GatewayError("Выберите, чью версию оставить: шлюза или системы.")
    comment = _comment(form)
    try:
        await run_in_threadpool(
            resolutions.resolve_conflict,
            con.store,
            conflict_id,
            "local" if take == "local" else "remote",
            by=session.user.login,
        )
    except StoreError:
        _audit(request, session, "conflict_resolve", c.school_id, f"conflict:{conflict_id}",
               "already decided", "failed")  # fmt: skip
        return redirect(request, f"/conflicts/{conflict_id}", ("error", "Этот конфликт уже решён."))
    detail = f"take-{take}" + (f": {comment}" if comment else "")
    _audit(request, session, "conflict_resolve", c.school_id, f"conflict:{conflict_id}", detail)
    said = (
        "оставлена версия шлюза (будет отправлена в систему)"
        if take == "local"
        else ("принята версия системы")
    )
    return redirect(request, "/conflicts", ("ok", f"Конфликт № {conflict_id} решён: {said}."))


# -- holds ----------------------------------------------------------------------------------------
@router.get("/holds")
def holds(
    request: Request,
    session: Annotated[Session, Depends(current)],
    school: str = "",
    status: str = "waiting",
    page: str = "1",
) -> Response:
    require(session, Action.VIEW, school or None)
    con = console_of(request)
    pager = Pager.of(con, page)
    where = _scope(session, school, status, HOLD_STATUSES)
    with con.store.read() as tx:
        found = tx.queries.scoped_holds(where, pager.paging)
    return render(
        request,
        session,
        "holds.html.j2",
        holds=found,
        statuses=HOLD_STATUSES,
        school=school,
        status=status,
        **pager.shown(found.total),
    )


@router.post("/holds/{hold_id}/{decision}")
async def decide_hold(
    request: Request,
    session: Annotated[Session, Depends(current)],
    hold_id: int,
    decision: str,
) -> Response:
    form, action = await decision_form(
        request, session, "hold", decision, ("approve", "discard"), f"hold:{hold_id}"
    )
    con = console_of(request)
    with con.store.read() as tx:
        hold = tx.holds.get(hold_id)
    if hold is None:
        raise NotFound(f"Задержанной загрузки № {hold_id} нет.")
    require(session, Action.DECIDE, hold.school_id)
    comment = _comment(form)
    by = session.user.login
    try:
        if decision == "discard":
            await run_in_threadpool(resolutions.discard_hold, con.store, hold_id, by=by)
            said = "отклонена: из неё ничего не применено"
        elif con.settings.approve_hold is not None:
            said = await run_in_threadpool(con.settings.approve_hold, con.store, hold_id, by)
        else:
            await run_in_threadpool(resolutions.approve_hold, con.store, hold_id, by=by)
            said = "одобрена; загрузку выполнит `schoolgate holds approve` или следующий запуск"
    except StoreError:
        return redirect(request, "/holds", ("error", "Эта загрузка уже решена."))
    detail = decision + (f": {comment}" if comment else "")
    _audit(request, session, action, hold.school_id, f"hold:{hold_id}", detail)
    return redirect(request, "/holds", ("ok", f"Загрузка № {hold_id} {said}."))


# -- identity reviews -----------------------------------------------------------------------------
@router.get("/identities")
def identities(
    request: Request,
    session: Annotated[Session, Depends(current)],
    school: str = "",
    status: str = "open",
    q: str = "",
    page: str = "1",
) -> Response:
    require(session, Action.VIEW, school or None)
    con = console_of(request)
    pager = Pager.of(con, page)
    where = _scope(session, school, status, REVIEW_STATUSES, q, 128)
    with con.store.read() as tx:
        found = tx.queries.scoped_reviews(where, pager.paging)
        wanted: dict[Entity, set[str]] = {}
        for r in found.items:
            wanted.setdefault(Entity(r.entity), set()).update(r.candidate_ids)
            if r.linked_id:
                wanted[Entity(r.entity)].add(r.linked_id)
        people = {e: tx.queries.records_by_id(e, ids) for e, ids in wanted.items()}
    return render(
        request,
        session,
        "identities.html.j2",
        reviews=found,
        people={k: v for found_ in people.values() for k, v in found_.items()},
        statuses=REVIEW_STATUSES,
        school=school,
        status=status,
        q=q,
        **pager.shown(found.total),
    )


@router.post("/identities/{item_id}/{decision}")
async def decide_identity(
    request: Request,
    session: Annotated[Session, Depends(current)],
    item_id: int,
    decision: str,
) -> Response:
    form, action = await decision_form(
        request, session, "identity", decision, ("link", "reject"), f"review:{item_id}"
    )
    con = console_of(request)
    with con.store.read() as tx:
        item = tx.queries.review(item_id)
    if item is None:
        raise NotFound(f"Записи на проверке № {item_id} нет.")
    require(session, Action.DECIDE, item.school_id)
    link_to = form.get("to", "").strip() if decision == "link" else None
    if decision == "link" and link_to not in item.candidate_ids:
        raise GatewayError("Выберите человека из предложенных.")
    try:
        await run_in_threadpool(
            resolutions.decide_identity, con.store, item_id, link_to=link_to, by=session.user.login
        )
    except StoreError:
        return redirect(request, "/identities", ("error", "Эта запись уже решена."))
    comment = _comment(form)
    detail = (f"link {link_to}" if link_to else "keep apart") + (f": {comment}" if comment else "")
    _audit(request, session, action, item.school_id, f"review:{item_id}", detail)
    said = "связана с выбранным человеком" if link_to else "оставлена отдельным человеком"
    return redirect(request, "/identities", ("ok", f"Запись № {item_id} {said}."))
