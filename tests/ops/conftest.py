"""Stores with a real school in them (pulled from the ES2 simulator), a second fresh
PostgreSQL schema to restore into, a writer that keeps writing through the store, and every
table's rows for comparing two stores."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from core.entities import Entity
from fixtures.generator import generate_school
from fixtures.school import SchoolData
from store import Store
from tests.store.conftest import mark
from tests.sync.worlds import SECRETS, World, es2_server, open_world, system_table

BOTH = {e.value: {"direction": "both"} for e in (Entity.MARKS, Entity.ATTENDANCE)}


@pytest.fixture(scope="session")
def tiny_school() -> SchoolData:
    return generate_school(3, "tiny")


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


def synced_world(store_url: str, school: SchoolData) -> World:
    """A store holding ``school`` as a real pull from the ES2 simulator left it."""
    from sync import jobs
    from sync.pull import PullOptions

    with es2_server(school) as (sim, url):
        world = open_world(
            store_url, school, {"es2": system_table("es2", url, str(sim.school_id), BOTH)}
        )
        job = jobs.open_job(world.store, world.school_config.setup("es2"))
        try:
            report = jobs.pull(world.store, world.config.sync, job, PullOptions())
        finally:
            job.close()
        assert report.status == "success", report.error
    return world


@pytest.fixture
def pg_url_2(pg_server: str) -> Iterator[str]:
    """Another fresh schema (restores go there)."""
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


def all_rows(url: str) -> dict[str, list[str]]:
    """Every table of the store at ``url`` and its rows (each row's values, sorted)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            return {
                n: sorted(repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{n}"')))
                for n in names
            }
    finally:
        engine.dispose()


class Writer:
    """Writes batches of new marks through the store, one transaction each, until stopped —
    what a running sync does to the store while a backup is taken."""

    BATCH = 25

    def __init__(self, store: Store, school_id: str) -> None:
        self.store = store
        self.school_id = school_id
        self.batches = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                first = 100_000 + self.batches * self.BATCH
                marks = [
                    mark(n, school=self.school_id).model_copy(update={"id": f"w-{n}"})
                    for n in range(first, first + self.BATCH)
                ]
                with self.store.begin() as tx:
                    tx.records.upsert(Entity.MARKS, marks, source="journal")
                self.batches += 1
        except BaseException as exc:  # pragma: no cover - reported by the test
            self.error = exc

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def wait_for(self, batches: int) -> None:
        import time

        deadline = time.monotonic() + 30
        while self.batches < batches:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the writer is stuck"
            time.sleep(0.005)
