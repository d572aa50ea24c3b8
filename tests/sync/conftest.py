"""Worlds for sync tests: a tiny generated school behind the ES2 simulator and a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.entities import Entity
from fixtures.generator import generate_school
from fixtures.school import SchoolData
from store import Store
from sync import jobs
from sync.pull import PullOptions
from sync.runs import RunReport
from tests.sync.worlds import SECRETS, World, es2_server, make_config, system_table

BOTH = {
    e.value: {"direction": "both"} for e in (Entity.MARKS, Entity.ATTENDANCE, Entity.FINAL_MARKS)
}


@pytest.fixture(scope="session")
def tiny_school() -> SchoolData:
    return generate_school(3, "tiny")


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def world(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    with es2_server(tiny_school) as (sim, url):
        config = make_config(
            f"sqlite:///{tmp_path}/s.db",
            tiny_school,
            {"es2": system_table("es2", url, str(sim.school_id), BOTH)},
        )
        store = Store.open(config.store.url)
        store.upgrade()
        w = World(tiny_school, store, config)
        w.sim = sim  # type: ignore[attr-defined]
        yield w


def pull(world: World, system: str = "es2", **opts: Any) -> RunReport:
    job = jobs.open_job(world.store, world.school_config.setup(system))
    try:
        return jobs.pull(world.store, world.config.sync, job, PullOptions(**opts))
    finally:
        job.close()


def push(world: World, system: str = "es2") -> RunReport:
    job = jobs.open_job(world.store, world.school_config.setup(system))
    try:
        return jobs.push(world.store, job)
    finally:
        job.close()
