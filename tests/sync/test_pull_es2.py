"""Pull from the ES2 simulator over loopback into a real store: the store equals the school,
and pulling the same data again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixtures.generator import generate_school
from mapping.model import PULL_ORDER, Entity
from store import Store
from sync import jobs
from sync.pull import PullOptions
from tests.sync.worlds import (
    SECRETS,
    World,
    es2_server,
    generated_vs_store,
    make_config,
    system_table,
)

BOTH = {
    e.value: {"direction": "both"} for e in (Entity.MARKS, Entity.ATTENDANCE, Entity.FINAL_MARKS)
}


@pytest.fixture(scope="module")
def school():  # type: ignore[no-untyped-def]
    return generate_school(3, "tiny")


@pytest.fixture
def world(school, tmp_path, monkeypatch) -> Iterator[World]:  # type: ignore[no-untyped-def]
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    with es2_server(school) as (sim, url):
        config = make_config(
            f"sqlite:///{tmp_path}/s.db",
            school,
            {"es2": system_table("es2", url, sim_school(sim), BOTH)},
        )
        store = Store.open(config.store.url)
        store.upgrade()
        w = World(school, store, config)
        w.sim = sim  # type: ignore[attr-defined]
        yield w


def sim_school(sim: object) -> str:
    return str(getattr(sim, "school_id"))


def pull(world: World, **opts: object):  # type: ignore[no-untyped-def]
    job = jobs.open_job(world.store, world.school_config, "es2")
    try:
        return jobs.pull(world.store, world.config, job, PullOptions(**opts))  # type: ignore[arg-type]
    finally:
        job.close()


def test_full_pull_equals_the_school_and_a_second_pull_changes_nothing(world: World) -> None:
    first = pull(world)
    assert first.status == "success", first.error
    for entity in PULL_ORDER:
        gen, stored = generated_vs_store(world, "es2", entity, frozenset({"closed"}))
        assert stored == gen, entity
    total = sum(len(world.school.records(e)) for e in PULL_ORDER)
    assert first.counts.total("created") == total
    with world.store.read() as tx:
        changes = tx.read_changes(0, limit=10 * total)
    assert len(changes) == total  # one change-log position per record, nothing more

    again = pull(world)
    assert again.status == "success"
    assert again.counts.total("created") == again.counts.total("updated") == 0
    assert again.counts.total("deleted") == 0
    full = pull(world, full=True)
    assert (
        full.counts.total("created") + full.counts.total("updated") + full.counts.total("deleted")
        == 0
    )
    with world.store.read() as tx:
        assert len(tx.read_changes(0, limit=10 * total)) == total


def test_dry_run_writes_nothing(world: World) -> None:
    report = pull(world, dry_run=True)
    assert report.status == "success" and report.run_id is None
    assert report.counts.total("created") > 0
    assert world.records(Entity.MARKS) == {}
    with world.store.read() as tx:
        assert tx.runs_list() == []
