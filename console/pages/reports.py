"""Reports: stored reconciliations with the drill-down class → subject → pupil and the XLSX
download, the journal-control report (a seam: :data:`console.seams.ControlReport`), marking
periods with close and reopen."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from console.roles import Action
from console.web import (
    Console,
    NotFound,
    Pager,
    address,
    console_of,
    current,
    decision_form,
    redirect,
    render,
    require,
    schools_of,
    scope_of,
    tz_of,
)
from core.entities import Entity
from core.errors import GatewayError, StoreError
from mapping.model import Pupil, SchoolClass, Subject
from reports import text
from reports.names import Names
from reports.reconcile.view import OUTCOME_COLUMNS, SECTIONS, ReconciliationView
from reports.render.xlsx import write_xlsx
from store import Reconciliation, Tx
from store.console import Session
from store.queries import Roster
from sync import periods as period_ops

router = APIRouter()
NONE = "-"  # the drill-down's «no class» / «no subject» in a URL


@router.get("/reconciliations")
def reconciliations(
    request: Request,
    session: Annotated[Session, Depends(current)],
    school: str = "",
    page: str = "1",
) -> Response:
    require(session, Action.VIEW, school or None)
    con = console_of(request)
    pager = Pager.of(con, page)
    with con.store.read() as tx:
        found = tx.queries.scoped_reconciliations(scope_of(session), school or None, pager.paging)
    return render(
        request,
        session,
        "reconciliations.html.j2",
        recs=found,
        school=school,
        section_titles=text.SECTION,
        **pager.shown(found.total),
    )


def _arg(value: str | None) -> str | None:
    return None if value in (None, "", NONE) else value


def _view(
    tx: Tx,
    rec: Reconciliation,
    con: Console,
    classes: Iterable[str | None],
    subjects: Iterable[str | None],
    pupils: Iterable[str],
) -> ReconciliationView:
    """The report's view with names read for the rows on the page alone: three statements,
    not the large school's whole roster."""
    q = tx.queries
    roster = Roster(
        classes={
            k: v
            for k, v in q.records_by_id(Entity.CLASSES, [c for c in classes if c]).items()
            if isinstance(v, SchoolClass)
        },
        subjects={
            k: v
            for k, v in q.records_by_id(Entity.SUBJECTS, [s for s in subjects if s]).items()
            if isinstance(v, Subject)
        },
        pupils={
            k: v
            for k, v in q.records_by_id(Entity.PUPILS, list(pupils)).items()
            if isinstance(v, Pupil)
        },
    )
    names = Names(tx, rec.school_id, roster)
    school = q.school_names([rec.school_id]).get(rec.school_id) or con.settings.school_names.get(
        rec.school_id, ""
    )
    return ReconciliationView(
        tx, rec, tz=tz_of(con.settings, rec.school_id), school_name=school, names=names
    )


@router.get("/reconciliations/{rec_id}.xlsx")
def reconciliation_xlsx(
    request: Request, session: Annotated[Session, Depends(current)], rec_id: int
) -> Response:
    con = console_of(request)
    with tempfile.TemporaryDirectory() as tmp, con.store.read() as tx:
        rec = tx.queries.reconciliation(rec_id)
        if rec is None:
            raise NotFound(f"Сверки № {rec_id} нет.")
        require(session, Action.VIEW, rec.school_id)
        out = Path(tmp) / "report.xlsx"
        view = ReconciliationView(tx, rec, tz=tz_of(con.settings, rec.school_id))
        write_xlsx(view.document(), out)
        body = out.read_bytes()
    name = f"sverka-{rec.school_id}-{rec.system}-{rec.id}.xlsx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/reconciliations/{rec_id}")
def reconciliation(
    request: Request,
    session: Annotated[Session, Depends(current)],
    rec_id: int,
    cls: Annotated[str | None, "class"] = None,
    subject: str | None = None,
    page: str = "1",
) -> Response:
    cls = request.query_params.get("class", cls)
    con = console_of(request)
    pager = Pager.of(con, page)
    with con.store.read() as tx:
        rec = tx.queries.reconciliation(rec_id)
        if rec is None:
            raise NotFound(f"Сверки № {rec_id} нет.")
        require(session, Action.VIEW, rec.school_id)
        level = "classes" if cls is None else ("subjects" if subject is None else "rows")
        buckets: list[dict[str, object]] = []
        rows = None
        if level == "rows":
            found = tx.queries.reconciliation_rows(rec_id, _arg(cls), _arg(subject), pager.paging)
            pupils = {i.pupil_id for i in found.items if i.pupil_id} | {
                i.record_id for i in found.items if i.entity == "pupils" and i.record_id
            }
            view = _view(tx, rec, con, [_arg(cls)], [_arg(subject)], pupils)
            rows = (found, [view.row(i) for i in found.items])
        else:
            raw = tx.queries.reconciliation_buckets(
                rec_id, _arg(cls), by_subject=level == "subjects"
            )
            view = _view(
                tx, rec, con, [b.class_id for b in raw] + [_arg(cls)],
                [b.subject_id for b in raw], (),
            )  # fmt: skip
            for b in raw:
                buckets.append(
                    {
                        "class_id": b.class_id or NONE,
                        "subject_id": b.subject_id or NONE,
                        "class": view.names.class_name(b.class_id) or "вся школа",
                        "subject": view.names.subject_name(b.subject_id)
                        or ("состав класса" if b.class_id else "справочники"),
                        "sections": b.sections,
                        "total": b.total,
                        "order": view._class_order(b.class_id),
                    }
                )
            buckets.sort(key=lambda b: (b["order"], b["subject"]))
        class_name = view.names.class_name(_arg(cls)) if cls else ""
        subject_name = view.names.subject_name(_arg(subject)) if subject else ""
        lines = view.lines()
        title = view.title
    return render(
        request,
        session,
        "reconciliation.html.j2",
        rec=rec,
        title=title,
        lines=lines,
        level=level,
        buckets=buckets,
        rows=rows,
        cls=cls or "",
        subject=subject or "",
        class_name=class_name or ("вся школа" if cls == NONE else ""),
        subject_name=subject_name,
        sections=SECTIONS,
        section_titles=text.SECTION,
        outcome_columns=OUTCOME_COLUMNS,
        **pager.shown(rows[0].total if rows else 0),
    )


# -- journal control (seam) ------------------------------------------------------------------------
@router.get("/control")
def control(
    request: Request, session: Annotated[Session, Depends(current)], school: str = ""
) -> Response:
    require(session, Action.VIEW, school or None)
    con = console_of(request)
    with con.store.read() as tx:
        schools = schools_of(con, session, tx)
    chosen = school or next(iter(schools), "")
    report = None
    if con.settings.control_report is not None and chosen:
        require(session, Action.VIEW, chosen)
        report = con.settings.control_report(con.store, chosen)
    return render(
        request,
        session,
        "control.html.j2",
        schools=schools,
        school=chosen,
        report=report,
        available=con.settings.control_report is not None,
    )


# -- periods ---------------------------------------------------------------------------------------
@router.get("/periods")
def periods(
    request: Request, session: Annotated[Session, Depends(current)], school: str = ""
) -> Response:
    require(session, Action.VIEW, school or None)
    con = console_of(request)
    with con.store.read() as tx:
        rows = tx.queries.period_rows(scope_of(session), school or None)
        schools = schools_of(con, session, tx)
    return render(
        request,
        session,
        "periods.html.j2",
        periods=rows,
        schools=schools,
        school=school,
        period_kind=text.PERIOD_KIND,
    )


@router.post("/periods/{period_id}/{decision}")
async def period_decide(
    request: Request,
    session: Annotated[Session, Depends(current)],
    period_id: str,
    decision: str,
) -> Response:
    form, action = await decision_form(
        request, session, "period", decision, ("close", "reopen"), f"period:{period_id}"
    )
    con = console_of(request)
    with con.store.read() as tx:
        found = tx.queries.records_by_id(Entity.PERIODS, [period_id]).get(period_id)
    if found is None:
        raise NotFound(f"Периода {period_id} нет.")
    require(session, Action.DECIDE, found.school_id)
    fn = period_ops.close_period if decision == "close" else period_ops.reopen_period
    try:
        state = await run_in_threadpool(fn, con.store, period_id, by=session.user.login)
    except (StoreError, GatewayError) as exc:
        return redirect(request, "/periods", ("error", f"Не выполнено: {exc}"))
    comment = form.get("comment", "").strip()[:1000] or None
    with con.store.begin() as tx:
        tx.console.audit(
            login=session.user.login,
            user_id=session.user.id,
            action=action,
            school_id=found.school_id,
            target=f"period:{period_id}",
            detail=comment,
            address=address(request),
        )
    said = "закрыт" if decision == "close" else "открыт заново"
    return redirect(request, "/periods", ("ok", f"Период «{state.period.name}» {said}."))
