"""A :class:`~reports.render.document.Document` as an Excel workbook (openpyxl, write-only: a
large sheet streams). Every table sheet has its title in the first row, the header in the second,
both frozen, a filter on the header, widths per column, dates as dates (DD.MM.YYYY) and numbers
as numbers; painted cells are filled; a colour scale makes a heat map; charts get sheets of their
own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from reports.render.document import PAINT, Cell, Column, Document, Table

DATE_FORMAT = "DD.MM.YYYY"
INT_FORMAT = "#,##0"
RATIO_FORMAT = "0%"
NUMBER_FORMAT = "0.00"
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_WRAP = Alignment(wrap_text=True, vertical="top")
_FILLS = {name: PatternFill("solid", fgColor=colour) for name, colour in PAINT.items()}
#: Excel's own limit on a sheet name
_SHEET_NAME = 31


def _cell(ws: WriteOnlyWorksheet, col: Column, value: Cell, paint: str | None) -> Any:
    c = WriteOnlyCell(ws, value=value)  # type: ignore[arg-type]  # a date is a cell value too
    if col.kind == "date" and isinstance(value, dt.date):
        c.number_format = DATE_FORMAT
    elif col.kind == "int":
        c.number_format = INT_FORMAT
    elif col.kind == "ratio":
        c.number_format = RATIO_FORMAT
    elif col.kind == "number":
        c.number_format = NUMBER_FORMAT
    elif col.width >= 30:
        c.alignment = _WRAP
    if paint is not None:
        c.fill = _FILLS[paint]
    return c


def _sheet(wb: Workbook, table: Table) -> int:
    ws = wb.create_sheet(table.name[:_SHEET_NAME])
    ws.freeze_panes = "A3"
    for i, col in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    title = WriteOnlyCell(ws, value=table.title)
    title.font = _TITLE
    ws.append([title])
    header = []
    for col in table.columns:
        h = WriteOnlyCell(ws, value=col.title)
        h.font = _BOLD
        h.fill = _HEADER_FILL
        h.alignment = _WRAP
        header.append(h)
    ws.append(header)
    n = 0
    for row in table.rows:
        painted = table.paint(row) if table.paint else {}
        ws.append(
            [
                _cell(ws, col, v, painted.get(i))
                for i, (col, v) in enumerate(zip(table.columns, row, strict=True))
            ]
        )
        n += 1
    last = get_column_letter(len(table.columns))
    ws.auto_filter.ref = f"A2:{last}{max(2, n + 2)}"
    if table.scale is not None and n:
        first, end = table.scale
        area = f"{get_column_letter(first + 1)}3:{get_column_letter(end + 1)}{n + 2}"
        low, high = table.scale_range
        ws.conditional_formatting.add(
            area,
            ColorScaleRule(  # type: ignore[no-untyped-call]
                start_type="num",
                start_value=low,
                start_color="F8696B",
                mid_type="num",
                mid_value=(low + high) / 2,
                mid_color="FFEB84",
                end_type="num",
                end_value=high,
                end_color="63BE7B",
            ),
        )
    if table.note:
        ws.append([])
        ws.append([table.note])
    return n


def _front(wb: Workbook, doc: Document) -> None:
    """The first sheet: the title and the lines a person reads first."""
    ws = wb.create_sheet("Итог")
    ws.column_dimensions["A"].width = 160
    title = WriteOnlyCell(ws, value=doc.title)
    title.font = _TITLE
    ws.append([title])
    for line in doc.lines:
        cell = WriteOnlyCell(ws, value=line)
        cell.alignment = _WRAP
        ws.append([cell])


def write_xlsx(doc: Document, out: Path) -> None:
    wb = Workbook(write_only=True)
    _front(wb, doc)
    sizes: dict[str, tuple[Any, int]] = {}
    for table in doc.tables:
        n = _sheet(wb, table)
        sizes[table.name] = (wb[table.name[:_SHEET_NAME]], n)
    for chart in doc.charts:
        ws, n = sizes[chart.table]
        if n == 0:
            continue
        bars = BarChart()
        bars.type = "col"
        bars.title = chart.title
        bars.y_axis.title = chart.y_title
        bars.x_axis.title = chart.x_title
        if chart.stacked:
            bars.grouping = "stacked"
            bars.overlap = 100
        first, last = chart.series
        data = Reference(ws, min_col=first + 1, max_col=last + 1, min_row=2, max_row=n + 2)
        bars.add_data(data, titles_from_data=True)
        cats = Reference(ws, min_col=chart.categories + 1, min_row=3, max_row=n + 2)
        bars.set_categories(cats)
        sheet = wb.create_chartsheet(chart.name[:_SHEET_NAME])
        sheet.add_chart(bars)
    wb.save(out)
