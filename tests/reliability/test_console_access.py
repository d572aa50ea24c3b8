"""Access to the web console: every route of the server's console (its routes read from the
application ``schoolgate serve`` builds, so a route added without a rule fails) × anonymous, a
deputy director of the school, a deputy director of another school, a director, an
administrator × a GET and a POST without a CSRF token, with another session's and with its own
(:data:`tests.reliability.access_matrix.CONSOLE`)."""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.console_world import PASSWORDS, World, build
from console import users
from schoolgate.cli.serve_cmd import api_settings, build_app
from store import Paging, Store
from store.queries import AuditFilter
from tests.console.conftest import gateway_config
from tests.reliability.access_matrix import (
    API,
    CONSOLE,
    ConsoleCell,
    console_cells,
    console_missing_rules,
    console_routes,
    console_stale_rules,
    routes_of,
)

TARGET = "matrix-target"  # the user the administrator's user actions are tried on
_n = itertools.count()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    path = tmp_path_factory.mktemp("console_access") / "store.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.upgrade()
        world = build(store, 10)
        users.create_user(
            store, login=TARGET, name="Цель", role="director", schools=[world.school_id], by="test"
        )
    return path, world


@dataclass
class Server:
    app: Any
    store: Store
    world: World


@pytest.fixture
def server(tmp_path: Path, template: tuple[Path, World]) -> Iterator[Server]:
    """The application ``schoolgate serve`` runs: the feed API with the console mounted."""
    path = tmp_path / "store.db"
    shutil.copyfile(template[0], path)
    store = Store.open(f"sqlite:///{path}")
    cfg = gateway_config(template[1], tmp_path / "backups")
    try:
        yield Server(build_app(cfg, store, api_settings(cfg), secure=False), store, template[1])
    finally:
        store.close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def _signed_in(app: Any, login: str) -> tuple[TestClient, str]:
    """A client signed in as ``login`` and its session's CSRF token."""
    c = _client(app)
    r = c.post(
        "/console/login",
        data={
            "csrf": _csrf(c.get("/console/login").text),
            "login": login,
            "password": PASSWORDS[login],
        },
    )
    assert r.status_code == 303, (login, r.status_code)
    return c, _csrf(c.get("/console/").text)


def _path(cell: ConsoleCell, world: World, n: int) -> str:
    """The route's template filled with objects of the world's school (the ``n``-th of a kind
    for a POST carried out, so that no two decisions meet the same object)."""
    return cell.path.format(
        run_id=world.failed_run,
        conflict_id=world.conflicts[n % len(world.conflicts)],
        hold_id=world.holds[n % len(world.holds)],
        item_id=world.reviews[n % len(world.reviews)],
        rec_id=world.reconciliation,
        period_id=world.period_id,
        login=TARGET,
        decision={"holds": "discard", "identities": "reject", "periods": "close"}.get(
            [*cell.path.split("/"), "", ""][2], ""
        ),
        what="reset",
    )


def _form(cell: ConsoleCell) -> dict[str, str]:
    """What the route's own form would post (so that a POST allowed is carried out)."""
    if cell.path.endswith("/resolve"):
        return {"take": "remote", "comment": "матрица доступа"}
    if cell.path == "/console/users":
        return {"login": f"matrix-{next(_n)}", "name": "Проверка", "role": "director",
                "schools": "reg0001"}  # fmt: skip
    if cell.path == "/console/login":
        return {"login": "nobody", "password": "wrong-password-1"}
    return {}


def _ok(cell: ConsoleCell, status: int, location: str) -> bool:
    # signing out sends to the sign-in form; every other POST carried out back to a page
    signs_out = cell.path == "/console/logout"
    return {
        "page": status == 200,
        "redirect": status == 307,
        "sign_in": status == 303 and "/console/login" in location,
        "done": status == 303 and ("/console/login" in location) == signs_out,
        "answered": status not in (403, 405) and status < 500,
        "forbidden": status == 403,
        "method": status == 405,
    }[cell.expect]


def test_every_console_route_has_a_rule(server: Server) -> None:
    assert console_missing_rules(server.app) == set(), "a console route without an access rule"
    assert console_stale_rules(server.app) == set(), (
        "a rule for a route the console no longer serves"
    )
    # and the server serves nothing the API's and the console's tables do not name
    named = set(API.rules) | set(CONSOLE.rules)
    assert {r for r in routes_of(server.app) if r[1] not in API.docs} - named == set()


def test_a_new_console_route_without_a_rule_is_caught(server: Server) -> None:
    from fastapi.responses import PlainTextResponse

    console = next(r.app for r in server.app.routes if getattr(r, "path", "") == "/console")

    @console.post("/export")
    def export() -> PlainTextResponse:  # pragma: no cover - never called
        return PlainTextResponse("")

    assert ("POST", "/console/export") in console_routes(server.app)
    assert console_missing_rules(server.app) == {("POST", "/console/export")}


def test_the_permission_matrix_of_the_console(server: Server) -> None:
    world = server.world
    app = server.app
    sessions = {
        role.name: _signed_in(app, role.login) for role in CONSOLE.roles if role.login is not None
    }
    matrix = console_cells()
    routes = {path for _, path in CONSOLE.rules}
    assert len(matrix) == len(routes) * 4 * len(CONSOLE.roles)
    assert {c.expect for c in matrix} >= {"page", "sign_in", "done", "forbidden", "method"}
    wrong: list[str] = []
    for n, cell in enumerate(matrix):
        signed = sessions.get(cell.role.name)
        client = signed[0] if signed else _client(app)
        own = signed[1] if signed else ""
        # another session's token: the administrator's, or the deputy's for the administrator
        foreign = sessions["deputy" if cell.role.name == "administrator" else "administrator"][1]
        path = _path(cell, world, n)
        if cell.attempt == "GET":
            r = client.get(path)
        else:
            form = _form(cell)
            if cell.path == "/console/login":
                # the sign-in form's own token is a signed cookie of this browser's form
                if cell.attempt == "POST valid token":
                    token = _csrf(client.get("/console/login").text)
                else:
                    token = "" if cell.attempt == "POST no token" else foreign
            elif cell.path == "/console/logout" and cell.attempt == "POST valid token" and signed:
                client, token = _signed_in(app, cell.role.login or "")  # a session to end
            else:
                token = {"POST no token": "", "POST foreign token": foreign}.get(cell.attempt, own)
            if token:
                form["csrf"] = token
            r = client.post(path, data=form)
            if cell.path == "/console/logout" and r.status_code == 303:
                after = client.get("/console/")  # the session is over
                assert after.status_code == 303 and "/console/login" in after.headers["location"]
        if not _ok(cell, r.status_code, r.headers.get("location", "")):
            wrong.append(
                f"{cell.role.name} {cell.attempt} {cell.path}: {r.status_code}, "
                f"expected {cell.expect}"
            )
    assert wrong == [], "\n".join(wrong)
    # every signed-in POST refused for its token left an audit entry
    refused_csrf = sum(
        1
        for c in matrix
        if c.role.login is not None
        and c.attempt in ("POST no token", "POST foreign token")
        and c.expect == "forbidden"
        and c.path != "/console/login"
    )
    with server.store.read() as tx:
        audit = tx.queries.console_audit(AuditFilter(), Paging(100_000)).items
    assert sum(1 for a in audit if a.outcome == "refused" and "CSRF" in (a.detail or "")) == (
        refused_csrf
    )
