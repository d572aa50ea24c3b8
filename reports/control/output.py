"""A journal-control report written out in one of the four formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reports.control.engine import ControlRun, run_control
from reports.control.model import INFORMATIONAL, SECTIONS
from reports.control.settings import ControlSettings
from reports.control.view import SECTION_SHORT, SECTION_TITLE, ControlView
from reports.errors import ReportError
from reports.render.csv_out import write_csv
from reports.render.html import render_html
from reports.render.json_out import write_json
from reports.render.xlsx import write_xlsx
from store import Store
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
            render_html(
                "control.html.j2",
                out,
                view=view,
                sections=SECTIONS,
                informational=INFORMATIONAL,
                section_titles=SECTION_TITLE,
                section_short=SECTION_SHORT,
                generated=view.run.made_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
            )
        elif fmt == "xlsx":
            write_xlsx(view.document(), out)
        elif fmt == "csv":
            write_csv(view.document(), out)
        else:
            write_json(view.payload(), out)
    return run
