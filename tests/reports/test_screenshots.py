"""The reports as a person sees them: rendered by headless Chromium (Debian's ``chromium``,
installed by ``make test`` where missing) to PNGs kept in ``tests/output/`` — the reconciliation
on screen and a page of the printed class journal (print media, A4 landscape)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reports.journal_print import write_journal
from reports.reconcile.output import write_reconciliation
from reports.text import zone
from tests.reports.test_reconcile import _reconcile
from tests.reports.worlds import SeededWorld
from tests.sync.worlds import World

CHROMIUM = Path("/usr/bin/chromium")
TZ = zone("Europe/Moscow")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():  # `make test` installs it; a bare pytest run says what is missing
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def _size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()
    assert data.startswith(PNG)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_the_reconciliation_on_screen(
    browser: object, seeded: SeededWorld, output_dir: Path
) -> None:
    rid = _reconcile(seeded.world)
    html = write_reconciliation(
        seeded.store, rid, "html", output_dir / "reconciliation.html", tz=TZ,
        school_name="МБОУ СОШ № 3",
    )  # fmt: skip
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page.goto(html.as_uri())
    verdict = page.locator("#verdict")
    assert verdict.inner_text().startswith("Найдено расхождений: 7")
    # every detail row is visible and no cell overflows the page's width
    rows = page.locator("table.detail tbody tr")
    assert rows.count() == 7
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1400, "the report is wider than the window"
    shot = output_dir / "reconciliation.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    w, h = _size(shot)
    assert w == 1400 and h > 600


def test_a_printed_journal_page(
    browser: object, clean: tuple[World, object], output_dir: Path
) -> None:
    world, _ = clean
    html = output_dir / "journal-print.html"
    j = write_journal(world.store, world.school.school.id, "5А", "I четверть", "html", html,
                      tz=TZ, school_name="МБОУ СОШ № 3")  # fmt: skip
    # A4 landscape at 96 px per inch: 1123 × 794
    page = browser.new_page(viewport={"width": 1123, "height": 794})  # type: ignore[attr-defined]
    page.emulate_media(media="print")
    page.goto(html.as_uri())
    first = page.locator("section.subject").first
    # the subject's grid fits the printed page's width (A4 landscape less its margins)
    grid = first.locator("table.grid").first.bounding_box()
    assert grid is not None and grid["width"] <= 1123 - 2 * 38, grid
    first.scroll_into_view_if_needed()
    shot = output_dir / "journal-page.png"
    first.screenshot(path=str(shot))
    assert _size(shot)[0] > 600
    cover = output_dir / "journal-cover.png"
    page.locator("section.cover").screenshot(path=str(cover))
    pdf = output_dir / "journal-chromium.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    page.close()
    assert pdf.read_bytes().startswith(b"%PDF")
    assert j.subjects


def test_chromium_is_debians() -> None:
    assert shutil.which("chromium") == str(CHROMIUM) or CHROMIUM.exists()
