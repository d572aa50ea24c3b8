"""The overview of schools × systems, a school's runs, a run's detail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.roles import Action
from console.web import COUNT, NotFound, console_of, current, int_arg, render, require, scope_of
from store import Paging
from store.console import Session
from store.queries import OverviewFilter

router = APIRouter()
STATES = {
    "": "все",
    "attention": "требуют внимания",
    "failed": "с ошибкой",
    "ok": "без замечаний",
}
SYSTEMS = ("es2", "asiou", "o7")


@router.get("/")
def overview(
    request: Request,
    session: Annotated[Session, Depends(current)],
    q: str = "",
    system: str = "",
    state: str = "",
    page: str = "1",
) -> Response:
    require(session, Action.VIEW)
    con = console_of(request)
    size = con.settings.page_size
    number = int_arg(page, 1, low=1)
    where = OverviewFilter(
        schools=scope_of(session),
        system=system or None,
        state=state if state in STATES and state else None,
        search=q.strip()[:100] or None,
    )
    with con.store.read() as tx:
        rows, totals = tx.queries.overview(
            where, Paging(size, (number - 1) * size), con.settings.configured
        )
    next_runs = (
        con.settings.next_runs([(r.school_id, r.system) for r in rows.items])
        if con.settings.next_runs is not None
        else None
    )
    return render(
        request,
        session,
        "overview.html.j2",
        rows=rows,
        totals=totals,
        next_runs=next_runs,
        q=q,
        system=system,
        state=state,
        states=STATES,
        systems=SYSTEMS,
        page=number,
        pages=max(1, -(-rows.total // size)),
    )


@router.get("/runs")
def runs(
    request: Request,
    session: Annotated[Session, Depends(current)],
    school: str = "",
    system: str = "",
    status: str = "",
    page: str = "1",
) -> Response:
    require(session, Action.VIEW, school or None)
    con = console_of(request)
    size = con.settings.page_size
    number = int_arg(page, 1, low=1)
    with con.store.read() as tx:
        found = tx.queries.scoped_runs(
            scope_of(session),
            school_id=school or None,
            system=system or None,
            statuses=(status,) if status else (),
            paging=Paging(size, (number - 1) * size),
        )
    return render(
        request,
        session,
        "runs.html.j2",
        runs=found,
        school=school,
        system=system,
        status=status,
        systems=SYSTEMS,
        page=number,
        pages=max(1, -(-found.total // size)),
    )


@router.get("/runs/{run_id}")
def run_detail(
    request: Request,
    session: Annotated[Session, Depends(current)],
    run_id: int,
    page: str = "1",
) -> Response:
    con = console_of(request)
    size = con.settings.page_size
    number = int_arg(page, 1, low=1)
    with con.store.read() as tx:
        run = tx.queries.run(run_id)
        if run is None:
            raise NotFound(f"Запуска № {run_id} нет.")
        require(session, Action.VIEW, run.school_id)
        findings, by_status = tx.queries.run_findings(run, Paging(size, (number - 1) * size))
    counts = {k: v for k, v in sorted(run.counts.items()) if isinstance(v, dict)}
    found = {c for v in counts.values() for c in v if isinstance(v.get(c), int)}
    columns = [c for c in COUNT if c in found] + sorted(found - set(COUNT))
    return render(
        request,
        session,
        "run.html.j2",
        run=run,
        counts=counts,
        columns=columns,
        findings=findings,
        by_status=by_status,
        page=number,
        pages=max(1, -(-findings.total // size)),
    )
