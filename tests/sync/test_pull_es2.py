"""Pull from the ES2 simulator over loopback into a real store: the store equals the school,
and pulling the same data again changes nothing."""

from __future__ import annotations

from mapping.model import PULL_ORDER, Entity
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
