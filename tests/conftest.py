"""Shared fixtures: store URLs for both engines.

PostgreSQL tests use the machine's server (``SCHOOLGATE_TEST_PG``, default the local ``test``
database, trust auth). Each test gets its own schema. Under ``CI=true`` an unreachable server is
a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from store import Store

PG_URL = os.environ.get("SCHOOLGATE_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-soak", action="store_true", help="run soak/crash/load tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with `make soak`")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


def _pg_available() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_server() -> str:
    problem = _pg_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable under CI=true: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    return PG_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A URL whose connections use a fresh schema, dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = pg_server.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{pg_server}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/store.db"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store migrated once per session, copied for each test that wants a fresh one."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    with Store.open(f"sqlite:///{path}") as s:
        s.upgrade()
    return path


@dataclass
class _PgTemplate:
    """One schema per test process, migrated once; emptied back to its seed rows per test."""

    url: str
    tables: list[str]
    seeds: dict[str, list[dict[str, Any]]]

    def reset(self) -> None:
        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY"))
                for name, rows in self.seeds.items():
                    if rows:
                        cols = ", ".join(rows[0])
                        marks = ", ".join(f":{c}" for c in rows[0])
                        conn.execute(text(f"INSERT INTO {name} ({cols}) VALUES ({marks})"), rows)
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[_PgTemplate]:
    import psycopg

    schema = f"t_tmpl_{uuid.uuid4().hex[:10]}"
    raw = pg_server.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{pg_server}?options=-csearch_path%3D{schema}"
    try:
        with Store.open(url) as s:
            s.upgrade()
        engine = create_engine(url)
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
            seeds = {
                n: [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {n}"))]
                for n in names
            }
        engine.dispose()
        yield _PgTemplate(url, names, {n: rows for n, rows in seeds.items() if rows})
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run a test once per engine: SQLite file and the real PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store, once per engine. The schema is built once per test process
    (the migrations have their own tests): SQLite copies a migrated file, PostgreSQL empties a
    migrated schema back to its seed rows."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        template: _PgTemplate = request.getfixturevalue("pg_template")
        template.reset()
        url = template.url
    s = Store.open(url)
    try:
        yield s
    finally:
        s.close()
