"""Every page issues the same number of statements for 10 rows as for 1,000 (counted with an
SQLAlchemy event listener on the store's engine), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from bench.console_world import PASSWORDS, World, build
from console import create_console
from ops.backup import make_backup
from schoolgate.cli.serve_cmd import console_settings
from schoolgate.console_seams import ControlReports
from store import Store
from tests.console.conftest import gateway_config


def pages(world: World) -> list[str]:
    rec, cls, subj = world.reconciliation, world.class_id, world.subject_id
    return [
        "/",
        "/?state=attention&q=reg",
        "/runs",
        f"/runs/{world.failed_run}",
        "/conflicts",
        "/conflicts?status=",
        f"/conflicts/{world.conflicts[0]}",
        "/holds",
        "/identities",
        "/reconciliations",
        f"/reconciliations/{rec}",
        f"/reconciliations/{rec}?class={cls}",
        f"/reconciliations/{rec}?class={cls}&subject={subj}",
        "/control",
        f"/control?school={world.school_id}",
        "/periods",
        "/backups",
        "/users",
        "/audit",
    ]


def statements(
    store: Store, rows: int, backups: Path | None = None
) -> Iterator[tuple[str, int, int]]:
    """(page, statements, rows shown) for every page of a world with ``rows`` of each kind,
    the seams wired as ``schoolgate serve`` wires them (the control report built on the page's
    first request: counted too)."""
    world = build(store, rows)
    settings = console_settings(gateway_config(world, backups), secure=False)
    # the report built within the request (it waits for it), its statements counted with it
    report = ControlReports.of(gateway_config(world, backups), wait=60)
    app = create_console(store, replace(settings, page_size=1000, control_report=report))
    count = [0]

    def counted(*_: object) -> None:
        count[0] += 1

    client = TestClient(app, base_url="http://testserver")
    login = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert token is not None
    client.post(
        "/login", data={"csrf": token.group(1), "login": "admin", "password": PASSWORDS["admin"]}
    )
    event.listen(store.engine, "before_cursor_execute", counted)
    try:
        for path in pages(world):
            count[0] = 0
            resp = client.get(path)
            assert resp.status_code == 200, (path, resp.text[:500])
            yield path, count[0], resp.text.count("<tr")
    finally:
        event.remove(store.engine, "before_cursor_execute", counted)


@pytest.mark.slow
def test_statements_do_not_grow_with_rows(tmp_path, request) -> None:
    counts: dict[int, dict[str, tuple[int, int]]] = {}
    for rows in (10, 1000):
        url = f"sqlite:///{tmp_path}/store-{rows}.db"
        with Store.open(url) as store:
            store.upgrade()
            out = tmp_path / f"backups-{rows}"
            make_backup(url, out)
            counts[rows] = {p: (n, shown) for p, n, shown in statements(store, rows, out)}
    for path, (small, _shown) in counts[10].items():
        big, _ = counts[1000][path]
        assert big == small, f"{path}: {small} statements for 10 rows, {big} for 1,000"
        assert small <= 20, f"{path}: {small} statements"
    # the pages did show more rows with more data (so the test measured something)
    assert counts[1000]["/conflicts"][1] > 500 > counts[10]["/conflicts"][1]
    assert counts[1000]["/holds"][1] > 500
    assert counts[1000]["/identities"][1] > 500
    assert counts[1000]["/"][1] > 500
    # the seams were wired: the backup listed, the report shown
    report = next(p for p in counts[10] if p.startswith("/control?school="))
    assert counts[10]["/backups"][1] == 2 and counts[10][report][1] > 10


@pytest.mark.postgres
def test_statements_on_postgresql(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        store.upgrade()
        found = {p: n for p, n, _ in statements(store, 10)}
    assert all(0 < n <= 20 for n in found.values()), found


@pytest.mark.postgres
def test_overview_with_configured_pairs_on_postgresql(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        store.upgrade()
        world = build(store, 10)
        app = create_console(store, console_settings(gateway_config(world), secure=False))
        client = TestClient(app, base_url="http://testserver")
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        client.post(
            "/login",
            data={"csrf": token.group(1), "login": "admin", "password": PASSWORDS["admin"]},
        )
        assert client.get("/").status_code == 200
