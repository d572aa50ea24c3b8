"""The reconciliation's workbook read back with openpyxl: what Excel users rely on — frozen header
rows, a filter on the header, column widths, dates as dates (DD.MM.YYYY) and counts as numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook

from reports import text
from reports.reconcile.output import write_reconciliation
from reports.reconcile.view import OUTCOME_COLUMNS, ROW_COLUMNS, SECTIONS
from reports.render.xlsx import DATE_FORMAT, INT_FORMAT
from reports.text import zone
from tests.reports.test_reconcile import _reconcile
from tests.reports.worlds import SeededWorld


def test_the_workbook_is_ready_for_excel(seeded: SeededWorld, tmp_path: Path) -> None:
    rid = _reconcile(seeded.world)
    path = write_reconciliation(seeded.store, rid, "xlsx", tmp_path / "r.xlsx",
                                tz=zone("Europe/Moscow"), school_name="Школа")  # fmt: skip
    wb = load_workbook(path)  # not read-only: freeze panes, filters and widths are read too
    names = [text.SECTION[s][:31] for s in SECTIONS]
    assert wb.sheetnames[:2] == ["Итог", "Сводка"]
    assert wb.sheetnames[2 : 2 + len(SECTIONS)] == names
    assert str(wb["Итог"]["A2"].value).startswith("Найдено расхождений: 7")

    summary = wb["Сводка"]
    assert summary.freeze_panes == "A3"
    header = [c.value for c in summary[2]]
    assert header[:2] == ["Класс", "Предмет"]
    assert header[2 : 2 + len(OUTCOME_COLUMNS)] == [t for _, t in OUTCOME_COLUMNS]
    assert (
        summary.auto_filter.ref
        == f"A2:{summary.cell(2, len(header)).column_letter}{summary.max_row}"
    )
    counts = [summary.cell(r, 3) for r in range(3, summary.max_row + 1)]
    assert counts and all(
        isinstance(c.value, int) and c.number_format == INT_FORMAT for c in counts
    )
    assert sum(c.value for c in counts) > 1000  # «Совпали»: the records that matched
    assert summary.column_dimensions["B"].width == 28

    dated = 0
    for name, section in zip(names, SECTIONS, strict=True):
        ws = wb[name]
        assert ws.freeze_panes == "A3", name
        assert [c.value for c in ws[2]] == [c.title for c in ROW_COLUMNS]
        assert ws.auto_filter.ref == f"A2:L{max(2, ws.max_row)}", name
        for i, col in enumerate(ROW_COLUMNS, start=1):
            assert ws.column_dimensions[ws.cell(2, i).column_letter].width == col.width
        day_col = [c.key for c in ROW_COLUMNS].index("day") + 1
        for r in range(3, ws.max_row + 1):
            cell = ws.cell(r, day_col)
            if cell.value is not None:
                assert isinstance(cell.value, dt.datetime | dt.date), (section, cell.value)
                assert cell.number_format == DATE_FORMAT
                dated += 1
    assert dated >= 4  # the marks and the absence carry their lesson's date
