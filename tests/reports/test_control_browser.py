"""The journal-control report in headless Chromium (Debian's ``/usr/bin/chromium``, which
``make test`` installs when missing): it renders, the charts have a size, nothing runs wider
than the page on screen or on A4 landscape paper; PNGs of both are kept in ``tests/output/`` for
a person to look at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from store import Store
from tests.reports import control_world as cw
from tests.reports.test_control import make

CHROMIUM = "/usr/bin/chromium"
#: A4 landscape at 96 dpi less the 10 mm side margins of the print CSS
A4_LANDSCAPE_PX = 1047


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_control_report_renders_in_chromium(store: Store, tmp_path: Path, output_dir: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install -y chromium)")
    cw.build(store)
    html = make(store, "html", tmp_path / "control.html")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(html.as_uri())
            assert page.locator("h1").inner_text().startswith("Контроль ведения")
            assert page.locator("#verdict").inner_text().startswith("Замечаний: 10")
            heat = page.locator("#heatmap svg").bounding_box()
            assert heat is not None and heat["width"] > 100 and heat["height"] > 60
            assert page.locator("#weekly svg").count() == 3
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1400
            page.screenshot(path=str(output_dir / "control.png"), full_page=True)
            page.set_viewport_size({"width": A4_LANDSCAPE_PX, "height": 740})
            page.emulate_media(media="print")
            assert page.evaluate("document.documentElement.scrollWidth") <= A4_LANDSCAPE_PX
            page.screenshot(path=str(output_dir / "control-print.png"), full_page=True)
        finally:
            browser.close()
    for name in ("control.png", "control-print.png"):
        png = (output_dir / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
