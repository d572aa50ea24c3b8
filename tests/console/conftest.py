"""A console over a store filled by :func:`bench.console_world.build`, served on loopback."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api import create_app
from bench.console_world import PASSWORDS, World, build
from console import ConsoleSettings, mount_console
from fixtures.serve import serve_in_thread
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


@pytest.fixture
def served(tmp_path: Path, world_template: tuple[Path, World]) -> Iterator[Served]:
    template, world = world_template
    path = tmp_path / "store.db"
    shutil.copyfile(template, path)
    store = Store.open(f"sqlite:///{path}")
    app = create_app(store)
    mount_console(app, store, ConsoleSettings(configured=[(world.school_id, "o7")]))
    try:
        with serve_in_thread(app) as url:
            yield Served(store, world, url)
    finally:
        store.close()


def sign_in(client: httpx.Client, login: str, password: str | None = None) -> httpx.Response:
    page = client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        "/console/login",
        data={"csrf": token.group(1), "login": login, "password": password or PASSWORDS[login]},
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)
