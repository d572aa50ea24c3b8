"""A class journal written out: HTML whose print CSS makes the paper copy (A4 landscape, a page
per subject, a header and footer naming the school, class and period, the deputy director's
signature line), or the same HTML laid out to PDF by WeasyPrint (no browser needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reports import text
from reports.errors import ReportError
from reports.journal_print.build import ABSENCE_CODES, ClassJournal, read_journal
from reports.render.html import render_string
from store import Store

FORMATS = ("html", "pdf")
TEMPLATE = "journal.html.j2"


def journal_html(journal: ClassJournal, *, generated: str) -> str:
    return render_string(
        TEMPLATE,
        j=journal,
        codes=ABSENCE_CODES,
        attendance=text.ATTENDANCE,
        generated=generated,
    )


def write_journal(
    store: Store,
    school_id: str,
    class_name: str,
    period: str,
    fmt: str,
    out: Path,
    *,
    tz: dt.tzinfo,
    school_name: str = "",
) -> ClassJournal:
    """Write the journal of ``class_name`` for ``period`` as ``fmt`` (html or pdf) to ``out``."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    with store.read() as tx:
        journal = read_journal(tx, school_id, class_name, period, school_name or school_id)
    html = journal_html(journal, generated=text.moment(dt.datetime.now(dt.UTC), tz))
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        out.write_text(html, encoding="utf-8")
    else:
        from weasyprint import HTML

        HTML(string=html, base_url=str(out.parent)).write_pdf(out)
    return journal
