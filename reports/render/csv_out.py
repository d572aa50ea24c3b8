"""A :class:`~reports.render.document.Document` as CSV for Excel: UTF-8 with a byte-order mark,
``;`` between fields (what Excel in Russian expects), dates DD.MM.YYYY. The document's lines come
first, then each table — its title on a line of its own, its header, its rows — with an empty line
between tables."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from reports import text
from reports.render.document import Cell, Document


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return text.day(value)
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def write_csv(doc: Document, out: Path) -> None:
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        w.writerow([doc.title])
        for line in doc.lines:
            w.writerow([line])
        for table in doc.tables:
            w.writerow([])
            w.writerow([table.title])
            w.writerow([c.title for c in table.columns])
            for row in table.rows:
                w.writerow([_text(v) for v in row])
