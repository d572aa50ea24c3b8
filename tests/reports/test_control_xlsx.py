"""The journal-control workbook read back with openpyxl: frozen header rows, filters, column
widths, date, percentage and integer formats, threshold fills, the heat map's conditional
colour scale and the chart sheet of marks per week."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart
from openpyxl.worksheet.worksheet import Worksheet

from reports.render.document import PAINT
from store import Store
from tests.reports import control_world as cw
from tests.reports.test_control import make


@pytest.fixture
def book(store: Store, tmp_path: Path) -> object:
    cw.build(store)
    return load_workbook(make(store, "xlsx", tmp_path / "control.xlsx"))


def _header(ws: Worksheet) -> list[str]:
    return [str(c.value) for c in ws[2]]


def test_sheets_have_frozen_headers_filters_and_widths(book: object) -> None:
    wb = book  # type: ignore[assignment]
    assert wb.sheetnames[0] == "Итог"
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes == "A3", ws.title
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A2:"), ws.title
    summary = wb["Сводка"]
    assert summary.column_dimensions["B"].width == 22  # «Предмет»
    assert wb["Исправления"].column_dimensions["G"].width == 50  # «Замечание»


def test_numbers_dates_and_fills(book: object) -> None:
    wb = book  # type: ignore[assignment]
    summary = wb["Сводка"]
    head = _header(summary)
    acc, lessons = head.index("Накопляемость") + 1, head.index("Уроков") + 1
    rows = {(r[0].value, r[1].value): r for r in summary.iter_rows(min_row=3)}
    bad = rows[("5А", "Математика")][acc - 1]
    good = rows[("5Б", "Математика")][acc - 1]
    assert bad.number_format == "0%" and bad.value == pytest.approx(0.25)
    assert bad.fill.fgColor.rgb.endswith(PAINT["bad"])
    assert good.fill.fgColor.rgb.endswith(PAINT["good"])
    assert rows[("5А", "Математика")][lessons - 1].number_format == "#,##0"
    late = wb["Поздние отметки"]
    day = late.cell(row=3, column=_header(late).index("Дата") + 1)
    assert day.value == dt.datetime(2025, 9, 15) and day.number_format == "DD.MM.YYYY"


def test_heat_map_has_a_conditional_colour_scale(book: object) -> None:
    ws = book["Накопляемость"]  # type: ignore[index]
    rules = [(str(cf.sqref), r.type) for cf in ws.conditional_formatting for r in cf.rules]
    assert rules == [("B3:C4", "colorScale")]
    assert [c.value for c in ws[3]] == ["5А", 0.25, 1.0]


def test_chart_sheet_of_marks_per_week(book: object) -> None:
    wb = book  # type: ignore[assignment]
    (sheet,) = wb.chartsheets
    (chart,) = sheet._charts
    assert isinstance(chart, BarChart)
    assert len(chart.series) == 3  # three weeks, a bar each per class
    weekly = wb["Отметки по неделям"]
    assert [c.value for c in weekly[2]] == ["Класс", "с 08.09.2025", "с 15.09.2025", "с 22.09.2025"]
