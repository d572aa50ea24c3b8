"""A console over a store filled by :func:`bench.console_world.build`, served on loopback."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import create_app
from bench.console_world import PASSWORDS, World, build
from console import ConsoleSettings, mount_console
from fixtures.serve import serve_in_thread
from ops.backup import make_backup
from schoolgate.cli.serve_cmd import console_settings
from schoolgate.config import GatewayConfig, parse_config
from store import Store


@dataclass
class Served:
    store: Store
    world: World
    url: str


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    path = tmp_path_factory.mktemp("console") / "store.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.upgrade()
        world = build(store, 10)
    return path, world


#: the configured school's time zone in :func:`gateway_config`
TZ = "Asia/Yekaterinburg"


def gateway_config(world: World, backups: Path | None = None) -> GatewayConfig:
    """A configuration naming the world's school with ES2 (pulled at 06:30 school time) and
    О7 (no schedule), and ``backups`` as the backups' folder."""
    data: dict[str, Any] = {
        "schools": [
            {
                "id": world.school_id,
                "name": world.school_name,
                "timezone": TZ,
                "systems": {
                    "es2": {"base_url": "http://127.0.0.1:9/", "remote_school": "1"},
                    "o7": {"base_url": "http://127.0.0.1:9/", "remote_school": "2"},
                },
            }
        ],
        "schedule": {"schools": {world.school_id: {"es2": {"pull": "30 6 * * *"}}}},
    }
    if backups is not None:
        data["backup"] = {"dir": str(backups)}
    return parse_config(data)


def _serve(tmp_path: Path, world_template: tuple[Path, World], *, secure: bool) -> Iterator[Served]:
    template, world = world_template
    path = tmp_path / f"store-{secure}.db"
    shutil.copyfile(template, path)
    backups = tmp_path / f"backups-{secure}"
    make_backup(f"sqlite:///{path}", backups)
    store = Store.open(f"sqlite:///{path}")
    app = create_app(store)
    # the seams as `schoolgate serve` wires them: next runs, backups, the control report
    wired = console_settings(gateway_config(world, backups), secure=secure)
    settings = replace(
        ConsoleSettings(configured=[(world.school_id, "o7")], cookie_secure=secure),
        timezones=wired.timezones,
        next_runs=wired.next_runs,
        backups=wired.backups,
        control_report=wired.control_report,
    )
    mount_console(app, store, settings)
    try:
        with serve_in_thread(app) as url:
            yield Served(store, world, url)
    finally:
        store.close()


@pytest.fixture
def served(tmp_path: Path, world_template: tuple[Path, World]) -> Iterator[Served]:
    """Secure cookies, as deployed (Chromium keeps them on http://127.0.0.1)."""
    yield from _serve(tmp_path, world_template, secure=True)


@pytest.fixture
def served_plain(tmp_path: Path, world_template: tuple[Path, World]) -> Iterator[Served]:
    """Cookies without ``Secure``, for plain HTTP clients (httpx keeps Secure cookies only for
    https)."""
    yield from _serve(tmp_path, world_template, secure=False)


def sign_in(client: httpx.Client, login: str, password: str | None = None) -> httpx.Response:
    page = client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    resp = client.post(
        "/console/login",
        data={"csrf": token.group(1), "login": login, "password": password or PASSWORDS[login]},
    )
    if password is None:
        assert client.cookies.get("sg_console"), f"{login} did not sign in"
    return resp


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)
