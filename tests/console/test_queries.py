"""Every page issues the same number of statements for 10 rows as for 1,000 (counted with an
SQLAlchemy event listener on the store's engine), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from bench.console_world import PASSWORDS, World, build
from console import ConsoleSettings, create_console
from store import Store


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
        "/periods",
        "/backups",
        "/users",
        "/audit",
    ]


def statements(store: Store, rows: int) -> Iterator[tuple[str, int, int]]:
    """(page, statements, rows shown) for every page of a world with ``rows`` of each kind."""
    world = build(store, rows)
    app = create_console(store, ConsoleSettings(cookie_secure=False, page_size=1000))
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
        with Store.open(f"sqlite:///{tmp_path}/store-{rows}.db") as store:
            store.upgrade()
            counts[rows] = {p: (n, shown) for p, n, shown in statements(store, rows)}
    for path, (small, _shown) in counts[10].items():
        big, _ = counts[1000][path]
        assert big == small, f"{path}: {small} statements for 10 rows, {big} for 1,000"
        assert small <= 20, f"{path}: {small} statements"
    # the pages did show more rows with more data (so the test measured something)
    assert counts[1000]["/conflicts"][1] > 500 > counts[10]["/conflicts"][1]
    assert counts[1000]["/holds"][1] > 500
    assert counts[1000]["/identities"][1] > 500
    assert counts[1000]["/"][1] > 500


@pytest.mark.postgres
def test_statements_on_postgresql(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        store.upgrade()
        found = {p: n for p, n, _ in statements(store, 10)}
    assert all(0 < n <= 20 for n in found.values()), found
