"""The overview of schools × systems, a school's runs, a run's detail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.roles import Action
from console.web import COUNT, NotFound, Pager, console_of, current, render, require, scope_of
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
    pager = Pager.of(con, page)
    where = OverviewFilter(
        schools=scope_of(session),
        system=system or None,
        state=state if state in STATES and state else None,
        search=q.strip()[:100] or None,
    )
    with con.store.read() as tx:
        rows, totals = tx.queries.overview(where, pager.paging, con.settings.configured)
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
        **pager.shown(rows.total),
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
    pager = Pager.of(con, page)
    with con.store.read() as tx:
        found = tx.queries.scoped_runs(
            scope_of(session),
            school_id=school or None,
            system=system or None,
            statuses=(status,) if status else (),
            paging=pager.paging,
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
        **pager.shown(found.total),
    )


@router.get("/runs/{run_id}")
def run_detail(
    request: Request,
    session: Annotated[Session, Depends(current)],
    run_id: int,
    page: str = "1",
) -> Response:
    con = console_of(request)
    pager = Pager.of(con, page)
    with con.store.read() as tx:
        run = tx.queries.run(run_id)
        if run is None:
            raise NotFound(f"Запуска № {run_id} нет.")
        require(session, Action.VIEW, run.school_id)
        findings, by_status = tx.queries.run_findings(run, pager.paging)
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
        **pager.shown(findings.total),
    )
