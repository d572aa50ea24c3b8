"""Reading a journal-control report back from each format: which rows each section shows (by the
finding's key), and the lines a person reads first."""

from __future__ import annotations

import csv
import json
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from openpyxl import load_workbook

from reports.control.model import SECTIONS
from reports.control.view import SECTION_TITLE

Found = Counter[tuple[str, str]]  # (section, key) → times shown


def _section_of_title(title: str) -> str | None:
    head = title.rsplit(" — ", 1)[0]
    return next((s for s in SECTIONS if SECTION_TITLE[s] == head), None)


def from_json(path: Path) -> Found:
    data = json.loads(path.read_text("utf-8"))
    return Counter((s, r["key"]) for s, rows in data["sections"].items() for r in rows)


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.found: Found = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.section = a.get("data-section")
        elif tag == "tr" and self.section and a.get("data-key"):
            self.found[(self.section, str(a["data-key"]))] += 1


def from_html(path: Path) -> Found:
    parser = _Rows()
    parser.feed(path.read_text("utf-8"))
    return parser.found


def from_xlsx(path: Path) -> Found:
    wb = load_workbook(path, read_only=True)
    found: Found = Counter()
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        section = _section_of_title(str(rows[0][0])) if rows else None
        if section is None:
            continue
        key = list(rows[1]).index("Id записи")
        for row in rows[2:]:
            if row and row[key]:
                found[(section, str(row[key]))] += 1
    return found


def from_csv(path: Path) -> Found:
    found: Found = Counter()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh, delimiter=";"))
    section, key = None, -1
    for i, line in enumerate(lines):
        if len(line) == 1 and (s := _section_of_title(line[0])) is not None:
            section, key = s, lines[i + 1].index("Id записи")
            continue
        if not line:
            section = None
        elif section and len(line) > key and line[key] and line[key] != "Id записи":
            found[(section, line[key])] += 1
    return found


def text_of(path: Path) -> str:
    """Everything a format says, as text (the cells of every sheet for XLSX)."""
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        return "\n".join(
            str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
            if v is not None
        )  # fmt: skip
    return path.read_text("utf-8-sig")


READERS = {"json": from_json, "html": from_html, "xlsx": from_xlsx, "csv": from_csv}
