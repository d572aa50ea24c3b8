"""A stored reconciliation written out in one of the four formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reports import text
from reports.errors import ReportError
from reports.reconcile.view import OUTCOME_COLUMNS, SECTIONS, ReconciliationView
from reports.render.csv_out import write_csv
from reports.render.html import render_html
from reports.render.json_out import write_json
from reports.render.xlsx import write_xlsx
from store import Store

FORMATS = ("html", "xlsx", "json", "csv")


def write_reconciliation(
    store: Store,
    reconciliation_id: int,
    fmt: str,
    out: Path,
    *,
    tz: dt.tzinfo,
    school_name: str = "",
) -> Path:
    """Write reconciliation ``reconciliation_id`` as ``fmt`` to ``out``; returns ``out``."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    with store.read() as tx:
        rec = tx.queries.reconciliation(reconciliation_id)
        if rec is None:
            raise ReportError(f"no reconciliation {reconciliation_id}")
        view = ReconciliationView(tx, rec, tz=tz, school_name=school_name)
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "html":
            render_html(
                "reconciliation.html.j2",
                out,
                view=view,
                sections=SECTIONS,
                section_titles=text.SECTION,
                entity_one=text.ENTITY_ONE,
                outcome_columns=OUTCOME_COLUMNS,
                generated=text.moment(dt.datetime.now(dt.UTC), tz),
            )
        elif fmt == "xlsx":
            write_xlsx(view.document(), out)
        elif fmt == "csv":
            write_csv(view.document(), out)
        else:
            write_json(view.payload(), out)
    return out
