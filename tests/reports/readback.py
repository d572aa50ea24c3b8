"""Reading the four formats back: which rows each section shows, by the record's ids."""

from __future__ import annotations

import csv
import json
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from openpyxl import load_workbook

from reports import text
from reports.reconcile.view import SECTIONS

Found = Counter[tuple[str, str]]  # (section, gateway id or external id) → times shown


def _key(record_id: str | None, external_id: str | None) -> str:
    return record_id or f"ext:{external_id}"


def from_json(path: Path) -> Found:
    data = json.loads(path.read_text("utf-8"))
    return Counter(
        (section, _key(r["record_id"], r["external_id"]))
        for section, rows in data["sections"].items()
        for r in rows
    )


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.found: Found = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and "data-section" in a:
            self.section = a["data-section"]
        elif tag == "table":
            self.section = None
        elif tag == "tr" and self.section and "data-entity" in a:
            self.found[
                (self.section, _key(a.get("data-record") or None, a.get("data-external")))
            ] += 1


def from_html(path: Path) -> Found:
    parser = _Rows()
    parser.feed(path.read_text("utf-8"))
    return parser.found


def _section_of_title(title: str) -> str | None:
    for s in SECTIONS:
        if title.startswith(text.SECTION[s]):
            return s
    return None


def from_xlsx(path: Path) -> Found:
    wb = load_workbook(path, read_only=True)
    found: Found = Counter()
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        section = _section_of_title(str(rows[0][0])) if rows else None
        if section is None:
            continue
        header = list(rows[1])
        ext, rid = header.index("Id в системе"), header.index("Id в шлюзе")
        for row in rows[2:]:
            if row and any(v is not None for v in row):
                found[(section, _key(row[rid] or None, row[ext]))] += 1
    return found


def from_csv(path: Path) -> Found:
    found: Found = Counter()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh, delimiter=";"))
    section = None
    header: list[str] = []
    for i, line in enumerate(lines):
        if len(line) == 1 and (s := _section_of_title(line[0])) is not None:
            section, header = s, lines[i + 1]
            continue
        if section and line and line != header and len(line) == len(header):
            found[
                (
                    section,
                    _key(
                        line[header.index("Id в шлюзе")] or None, line[header.index("Id в системе")]
                    ),
                )
            ] += 1
        elif not line:
            section = None
    return found


READERS = {"json": from_json, "html": from_html, "xlsx": from_xlsx, "csv": from_csv}
