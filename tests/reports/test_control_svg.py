"""The charts of the journal-control report: inline SVG that parses as XML (lxml, strict), with
one heat-map cell per class × subject painted by its threshold and one small bar panel per class."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from reports.render import charts
from reports.render.document import PAINT
from store import Store
from tests.reports import control_world as cw
from tests.reports.test_control import make

SVG = "{http://www.w3.org/2000/svg}"


def _svgs(html: str) -> list[etree._Element]:
    return [etree.fromstring(m.encode()) for m in re.findall(r"<svg .*?</svg>", html, re.S)]


def test_report_charts_are_well_formed_svg(store: Store, tmp_path: Path) -> None:
    cw.build(store)
    html = make(store, "html", tmp_path / "c.html").read_text("utf-8")
    heat, *bars = _svgs(html)
    assert heat.tag == f"{SVG}svg" and "script" not in html
    cells = heat.findall(f"{SVG}rect")
    assert len(cells) == 4  # 5А, 5Б × Математика, Русский язык (1А takes no marks)
    fills = sorted(c.get("fill") for c in cells)
    assert fills == sorted(["#" + PAINT["bad"], *["#" + PAINT["good"]] * 3])
    texts = [t.text for t in heat.iter(f"{SVG}text")]
    assert {"5А", "5Б", "Математика", "Русский язык", "25", "100"} <= set(texts)
    assert [b.find(f"{SVG}text").text for b in bars] == ["1А", "5А", "5Б"]
    assert all(len(b.findall(f"{SVG}rect")) == 3 for b in bars)  # three weeks


def test_heatmap_escapes_and_leaves_missing_cells_blank() -> None:
    svg = charts.heatmap(
        "t", ["5<А>"], ["Физика & астрономия", "ИЗО"], {("5<А>", "ИЗО"): 0.5},
        lambda v: None if v is None else "warn",
    )  # fmt: skip
    root = etree.fromstring(svg.encode())
    rects = root.findall(f"{SVG}rect")
    assert [r.get("fill") for r in rects] == ["#F3F5F9", "#" + PAINT["warn"]]
    assert "Физика & астрономия" in [t.text for t in root.iter(f"{SVG}text")]


def test_small_bars_share_their_scale() -> None:
    low = etree.fromstring(charts.small_bars("t", "5А", [("a", 5), ("b", 10)], 20).encode())
    heights = [float(r.get("height") or 0) for r in low.findall(f"{SVG}rect")]
    assert heights[1] == 2 * heights[0] and heights[1] < 84 / 2  # 10 of 20: half the plot


def test_long_subject_names_are_cut_with_the_whole_name_as_a_tooltip() -> None:
    name = "Основы религиозных культур и светской этики"
    root = etree.fromstring(charts.heatmap("t", ["4А"], [name], {}, lambda v: None).encode())
    label = next(t for t in root.iter(f"{SVG}text") if t.text and t.text.startswith("Основы"))
    assert label.text is not None and label.text.endswith("…") and len(label.text) <= 22
    assert name in [t.text for t in root.iter(f"{SVG}title")]
    assert float(root.get("height") or 0) < 200  # room for the cut label, not the whole name
