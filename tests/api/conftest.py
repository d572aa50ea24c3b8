"""Worlds for API tests: two generated schools in a store, the API served by uvicorn on loopback
in a thread, and tokens.

School A (``sch1``) and school B (``sch2``) are two tiny generated schools (different seeds; B's
records relabelled to its own id). The filled SQLite store is built once per test process and
copied for each test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api import ApiSettings, SchoolSetup, create_app, issue
from core.entities import Entity
from fixtures.generator import generate_school
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.model import Record
from store import Store, Token

A, B = "sch1", "sch2"
#: the systems A's local journal pushes to (for the outbox checks)
TARGETS = {
    Entity.MARKS: ("es2", "o7"),
    Entity.ATTENDANCE: ("es2",),
    Entity.LESSONS: ("es2",),
    Entity.FINAL_MARKS: ("es2",),
}


def school_records(school: SchoolData, school_id: str) -> dict[Entity, list[Record]]:
    """Every record of a generated school, relabelled to ``school_id``."""
    out: dict[Entity, list[Record]] = {
        Entity.SCHOOLS: [school.school.model_copy(update={"id": school_id})],
        Entity.YEARS: [school.year],
    }
    for entity in Entity:
        if entity not in (Entity.SCHOOLS, Entity.YEARS):
            out[entity] = list(school.records(entity))
    return {
        e: [r.model_copy(update={"school_id": school_id}) for r in recs] for e, recs in out.items()
    }


def fill(store: Store, records: dict[Entity, list[Record]], source: str = "es2") -> None:
    with store.begin() as tx:
        for entity, recs in records.items():
            tx.records.upsert(entity, recs, source=source)


@dataclass
class Schools:
    a: dict[Entity, list[Record]]
    b: dict[Entity, list[Record]]


@pytest.fixture(scope="session")
def schools() -> Schools:
    return Schools(
        school_records(generate_school(1, "tiny"), A), school_records(generate_school(2, "tiny"), B)
    )


@pytest.fixture(scope="session")
def filled_template(tmp_path_factory: pytest.TempPathFactory, schools: Schools) -> Path:
    path = tmp_path_factory.mktemp("api") / "store.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.upgrade()
        fill(store, schools.a)
        fill(store, schools.b)
    return path


@pytest.fixture
def store(filled_template: Path, tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store holding schools A and B."""
    path = tmp_path / "store.db"
    shutil.copyfile(filled_template, path)
    s = Store.open(f"sqlite:///{path}")
    try:
        yield s
    finally:
        s.close()


def api_settings(**kw: object) -> ApiSettings:
    return ApiSettings(schools={A: SchoolSetup(push_targets=TARGETS)}, **kw)  # type: ignore[arg-type]


@pytest.fixture
def server(store: Store) -> Iterator[str]:
    """The API over ``store`` on a free loopback port: its base URL."""
    with serve_in_thread(create_app(store, api_settings(poll_interval=0.05))) as url:
        yield url


MakeToken = Callable[..., tuple[Token, httpx.Client]]


@pytest.fixture
def client_for(store: Store, server: str) -> Iterator[MakeToken]:
    """``client_for(name, schools, scopes, **kw)``: a token and an HTTP client that sends it."""
    clients: list[httpx.Client] = []

    def make(
        name: str, schools: list[str], scopes: list[str], **kw: object
    ) -> tuple[Token, httpx.Client]:
        token, secret = issue(store, name=name, schools=schools, scopes=scopes, **kw)  # type: ignore[arg-type]
        client = httpx.Client(
            base_url=server, headers={"Authorization": f"Bearer {secret}"}, timeout=30
        )
        clients.append(client)
        return token, client

    yield make
    for c in clients:
        c.close()


def follow(client: httpx.Client, **params: object) -> tuple[list[dict[str, object]], str]:
    """Every event of the feed from ``cursor`` (or the start) to now; and the last cursor."""
    events: list[dict[str, object]] = []
    query = {k: v for k, v in params.items() if v is not None}
    for _ in range(10_000):
        r = client.get("/feed/v1/changes", params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        events += page["events"]
        query["cursor"] = page["cursor"]
        if not page["more"]:
            return events, str(page["cursor"])
    raise AssertionError("the feed never ended")
