"""The console's seams as ``schoolgate serve`` wires them (:func:`schoolgate.cli.serve_cmd.
console_settings`): the overview's next run from ``[schedule]``, the backups ops made in
``[backup] dir``, the journal-control report with its charts — over a real store."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import threading
import time
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bench.console_world import PASSWORDS, World
from console import create_console
from core.entities import Entity
from mapping.model import Lesson
from ops.backup import make_backup
from schoolgate.cli.serve_cmd import console_settings
from schoolgate.config import GatewayConfig
from schoolgate.console_seams import BUILDING, ControlReports, report_day
from store import Store
from tests.console.conftest import TZ, gateway_config


@pytest.fixture
def url(tmp_path: Path, world_template: tuple[Path, World]) -> str:
    path = tmp_path / "store.db"
    shutil.copyfile(world_template[0], path)
    return f"sqlite:///{path}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = Store.open(url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def world(world_template: tuple[Path, World]) -> World:
    return world_template[1]


def signed_in(store: Store, cfg: GatewayConfig, login: str = "admin") -> TestClient:
    app = create_console(store, console_settings(cfg, secure=False))
    c = TestClient(app, base_url="http://testserver", follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token is not None
    c.post("/login", data={"csrf": token.group(1), "login": login, "password": PASSWORDS[login]})
    return c


def overview_row(html: str, school_id: str, system: str) -> str:
    """The overview's row of (school, system)."""
    rows = [r for r in html.split("<tr") if f"school={school_id}" in r and system in r]
    assert rows, f"no row of {school_id}/{system}"
    return rows[0]


def test_overview_shows_the_next_run_of_the_configured_schedule(store: Store, world: World) -> None:
    c = signed_in(store, gateway_config(world))
    before = dt.datetime.now(zoneinfo.ZoneInfo(TZ))
    html = c.get("/", params={"q": world.school_id}).text
    after = dt.datetime.now(zoneinfo.ZoneInfo(TZ))
    # the next 06:30 in Yekaterinburg, as the page was made
    expected = set()
    for now in (before, after):
        at = now.replace(hour=6, minute=30, second=0, microsecond=0)
        expected.add((at if at > now else at + dt.timedelta(days=1)).strftime("%d.%m.%Y %H:%M"))
    es2 = overview_row(html, world.school_id, "«Электронная школа 2.0»")
    assert any(e in es2 for e in expected), es2
    assert "нет данных" not in es2
    # a system without a schedule: «не назначен», not a guess
    assert "не назначен" in overview_row(html, world.school_id, "«О7.Образование»")


def test_backups_page_lists_what_ops_made(
    store: Store, url: str, world: World, tmp_path: Path
) -> None:
    out = tmp_path / "backups"
    made = [make_backup(url, out, now=lambda: dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC))]
    made.append(make_backup(url, out, now=lambda: dt.datetime(2026, 3, 8, 3, 0, tzinfo=dt.UTC)))
    c = signed_in(store, gateway_config(world, out))
    html = c.get("/backups").text
    assert "нет данных" not in html
    assert [m.name for m in made] == ["schoolgate-20260301-030000", "schoolgate-20260308-030000"]
    # newest first, with its time (Moscow by default), size from the manifest and outcome
    assert html.index(made[1].name) < html.index(made[0].name)
    assert "08.03.2026 06:00" in html and "01.03.2026 06:00" in html
    size = (made[0] / "store.sqlite3").stat().st_size / 1048576
    assert f"{size:.1f}" in html
    assert html.count("готова") == 2 and "sqlite, ревизия схемы" in html
    # a copy whose file went missing is shown as failed, with the reason
    (made[0] / "store.sqlite3").unlink()
    html = c.get("/backups").text
    assert "готова" in html and "ошибка" in html and "нет файла store.sqlite3" in html
    # no folder configured: the page says the list is not connected, not «no backups»
    html = signed_in(store, gateway_config(world)).get("/backups").text
    assert "список резервных копий ещё не подключён" in html


def report_page(c: TestClient, school_id: str, timeout: float = 60) -> str:
    """The control page once the report is built (the first look may find it being built)."""
    deadline = time.monotonic() + timeout
    while True:
        resp = c.get("/control", params={"school": school_id})
        assert resp.status_code == 200
        if "Отчёт составляется" not in resp.text or time.monotonic() > deadline:
            return resp.text
        time.sleep(0.1)


def test_control_page_shows_the_report_with_its_charts(store: Store, world: World) -> None:
    c = signed_in(store, gateway_config(world), "deputy")
    html = report_page(c, world.school_id)
    assert "нет данных" not in html
    report = html[html.index('<div class="report">') :]
    # the report's own parts: the verdict, the heat map and weekly bars as inline SVG
    assert 'id="verdict"' in report and 'id="heatmap"' in report
    assert report.count("<svg") >= 2
    assert "Контроль ведения электронного журнала" in report and world.school_name in report
    assert "нечего" not in report  # the month of the latest lessons, not an empty one
    # a fragment inside the console's page: no second document, no inline style sheet
    assert "<html" not in report and "<style" not in report


def change_a_lesson(store: Store, world: World) -> None:
    with store.read() as tx:
        before = tx.changes.last_position()
        lesson = next(
            x for x in tx.records.iter(Entity.LESSONS, world.school_id) if isinstance(x, Lesson)
        )
    with store.begin() as tx:
        topic = f"Новая тема {before}"
        tx.records.upsert(
            Entity.LESSONS, [lesson.model_copy(update={"topic": topic})], source="es2"
        )
    with store.read() as tx:
        assert tx.changes.last_position() > before


def test_control_report_is_kept_until_the_store_changes(store: Store, world: World) -> None:
    reports = ControlReports.of(gateway_config(world), wait=60, refresh_after=0)
    first = reports(store, world.school_id)
    assert first is not None and first is not BUILDING and "<svg" in first.html
    assert reports(store, world.school_id) is first  # kept
    change_a_lesson(store, world)
    # the store changed: the kept report is shown while a new one is built, then the new one
    assert reports(store, world.school_id) is first
    deadline = time.monotonic() + 60
    while (again := reports(store, world.school_id)) is first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert again is not None and again is not first and "<svg" in again.html
    assert reports(store, "no-such-school") is None  # nothing synced: no report


def test_a_slow_report_never_holds_the_page(store: Store, world: World) -> None:
    """The first look at a school whose report takes long gets «составляется» at once; the
    report follows; a store change within ``refresh_after`` keeps the report shown."""
    gate = threading.Event()
    reports = ControlReports.of(gateway_config(world), wait=0.05)
    build = reports._build

    def slow(*args: object) -> object:
        gate.wait(30)
        return build(*args)  # type: ignore[arg-type]

    reports._build = slow  # type: ignore[method-assign]
    t0 = time.monotonic()
    assert reports(store, world.school_id) is BUILDING
    assert reports(store, world.school_id) is BUILDING  # one build, not two
    assert time.monotonic() - t0 < 1
    gate.set()
    deadline = time.monotonic() + 60
    while (page := reports(store, world.school_id)) is BUILDING and time.monotonic() < deadline:
        time.sleep(0.05)
    assert page is not None and "<svg" in page.html
    change_a_lesson(store, world)
    assert reports(store, world.school_id) is page  # young: shown as it is, not rebuilt
    assert not reports._building


def test_report_day_is_today_or_the_end_of_an_ended_year(store: Store, world: World) -> None:
    with store.read() as tx:
        periods = list(tx.records.iter(Entity.PERIODS, world.school_id))
    end = max(p.end for p in periods)  # type: ignore[attr-defined]
    assert report_day(periods, end - dt.timedelta(days=3)) == end - dt.timedelta(days=3)  # type: ignore[arg-type]
    assert report_day(periods, end + dt.timedelta(days=200)) == end  # type: ignore[arg-type]
    assert report_day([], end) is None


def test_control_page_offers_a_configured_school_the_store_has_no_record_of(
    store: Store, url: str, world: World
) -> None:
    """The demo's store holds no school record (its systems bring none): the control page
    still offers the configured school, and shows its report."""
    import sqlite3

    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    with con:
        con.execute("DELETE FROM schools")
    con.close()
    c = signed_in(store, gateway_config(world), "deputy")
    html = report_page(c, "")
    assert f'<option value="{world.school_id}" selected>' in html
    assert 'id="verdict"' in html and html.count("<svg") >= 2
    # the periods page names the school too, not its id alone
    assert f'<td data-label="Школа">{world.school_name}</td>' in c.get("/periods").text
