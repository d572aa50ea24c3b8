"""A journal-control report written out in one of the four formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from reports.control.engine import ControlRun, run_control
from reports.control.model import INFORMATIONAL, SECTIONS
from reports.control.settings import ControlSettings
from reports.control.view import SECTION_SHORT, SECTION_TITLE, ControlView
from reports.errors import ReportError
from reports.render.csv_out import write_csv
from reports.render.html import render_html, render_string
from reports.render.json_out import write_json
from reports.render.xlsx import write_xlsx
from store import Store, Tx
from sync.rules import Deadlines

FORMATS = ("html", "xlsx", "json", "csv")


def write_control(
    store: Store,
    school_id: str,
    fmt: str,
    out: Path,
    *,
    period: str | None = None,
    month: str | None = None,
    settings: ControlSettings | None = None,
    deadlines: Deadlines | None = None,
    tz: dt.tzinfo = dt.UTC,
    school_name: str = "",
    now: dt.datetime | None = None,
) -> ControlRun:
    """Check the school's journal and write the report as ``fmt`` to ``out``."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    with store.read() as tx:
        run = run_control(
            tx,
            school_id,
            period=period,
            month=month,
            settings=settings,
            deadlines=deadlines,
            tz=tz,
            school_name=school_name,
            now=now,
        )
        view = ControlView(tx, run)
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "html":
            render_html("control.html.j2", out, **_context(view))
        elif fmt == "xlsx":
            write_xlsx(view.document(), out)
        elif fmt == "csv":
            write_csv(view.document(), out)
        else:
            write_json(view.payload(), out)
    return run


def _context(
    view: ControlView, row_limit: int | None = None, generated: dt.datetime | None = None
) -> dict[str, Any]:
    made = (generated or view.run.made_at).astimezone(view.run.tz)
    return {
        "view": view,
        "sections": SECTIONS,
        "informational": INFORMATIONAL,
        "section_titles": SECTION_TITLE,
        "section_short": SECTION_SHORT,
        "generated": made.strftime("%d.%m.%Y %H:%M"),
        "row_limit": row_limit,
    }


def control_fragment(
    tx: Tx, run: ControlRun, *, row_limit: int | None = None, generated: dt.datetime | None = None
) -> str:
    """The report's content as an HTML fragment (no ``<html>``, no styles; the charts inline
    SVG) for a page that has its own: the web console. ``row_limit``: at most this many rows of
    each detail section (their count is still given in full); ``generated``: when it was made,
    if not at the moment it is as of."""
    context = _context(ControlView(tx, run), row_limit, generated)
    return render_string("control_body.html.j2", **context)
