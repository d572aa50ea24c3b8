"""Pull from the ES2 simulator over loopback into a real store: the store equals the school,
and pulling the same data again changes nothing."""

from __future__ import annotations

import pytest

from core.entities import PULL_ORDER, Entity
from tests.sync.conftest import pull
from tests.sync.worlds import (
    World,
    generated_vs_store,
)


def test_full_pull_equals_the_school_and_a_second_pull_changes_nothing(world: World) -> None:
    first = pull(world)
    assert first.status == "success", first.error
    for entity in PULL_ORDER:
        gen, stored = generated_vs_store(world, "es2", entity, frozenset({"closed"}))
        assert stored == gen, entity
    total = sum(len(world.school.records(e)) for e in PULL_ORDER)
    assert first.counts.total("created") == total
    with world.store.read() as tx:
        changes = tx.changes.read(0, limit=10 * total)
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
        assert len(tx.changes.read(0, limit=10 * total)) == total


def test_dry_run_writes_nothing(world: World) -> None:
    report = pull(world, dry_run=True)
    assert report.status == "success" and report.run_id is None
    assert report.counts.total("created") > 0
    assert world.records(Entity.MARKS) == {}
    with world.store.read() as tx:
        assert tx.runs.find() == []


@pytest.mark.postgres
def test_pull_push_pull_on_postgresql(tiny_school, pg_url, secrets) -> None:  # type: ignore[no-untyped-def]
    """The same engine on the production database: a full pull, a local edit pushed, a re-pull
    that changes nothing."""
    from mapping.model import Mark
    from mapping.values import MarkValue
    from store import Store
    from tests.sync.conftest import BOTH, push
    from tests.sync.worlds import es2_server, make_config, system_table

    with es2_server(tiny_school) as (sim, url):
        config = make_config(
            pg_url, tiny_school, {"es2": system_table("es2", url, str(sim.school_id), BOTH)}
        )
        store = Store.open(config.store.url)
        store.upgrade()
        world = World(tiny_school, store, config)
        first = pull(world)
        assert first.status == "success", first.error
        for entity in PULL_ORDER:
            gen, stored = generated_vs_store(world, "es2", entity, frozenset({"closed"}))
            assert stored == gen, entity
        mark = next(m for m in world.records(Entity.MARKS).values() if isinstance(m, Mark))
        world.journal().write(
            [mark.model_copy(update={"value": MarkValue.parse("2")})], actor="teacher"
        )
        assert push(world).counts.total("updated") == 1
        again = pull(world)
        assert again.counts.total("created") + again.counts.total("updated") == 0
        assert sim.state.col("marks").items[int(mark.ext_ids["es2"])]["value"] == "2"
