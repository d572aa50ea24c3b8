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


def _serve(tmp_path: Path, world_template: tuple[Path, World], *, secure: bool) -> Iterator[Served]:
    template, world = world_template
    path = tmp_path / f"store-{secure}.db"
    shutil.copyfile(template, path)
    store = Store.open(f"sqlite:///{path}")
    app = create_app(store)
    settings = ConsoleSettings(configured=[(world.school_id, "o7")], cookie_secure=secure)
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
