"""Holds through the engine: a pull that would make too many pupils leave, or a full pull with no
pupils at all, applies nothing and waits for a person (АСИОУ simulator, real store)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.asiou import PACKAGE_ENTITIES
from core.entities import Entity
from fixtures.school import SchoolData
from mapping.model import Pupil
from schoolgate import runner
from sync.resolutions import discard_hold
from tests.sync.conftest import pull
from tests.sync.worlds import (
    ASIOU_CODE,
    World,
    asiou_server,
    open_world,
    store_snapshot,
    system_table,
)


@pytest.fixture
def aworld(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    with asiou_server(tiny_school, delay=0.0) as (sim, url):
        w = open_world(
            f"sqlite:///{tmp_path}/s.db",
            tiny_school,
            {"asiou": system_table("asiou", url, ASIOU_CODE, {})},
        )
        w.sim = sim  # type: ignore[attr-defined]
        yield w


def _active(world: World) -> int:
    return sum(
        1
        for p in world.records(Entity.PUPILS).values()
        if isinstance(p, Pupil) and p.status == "active"
    )


def _holds(world: World, status: str | None = None) -> list[Any]:
    with world.store.read() as tx:
        return tx.holds.find(status=status)


def _make_leave(world: World, share: float) -> int:
    active = [p for p in world.school.pupils if p.status == "active"]
    n = int(len(active) * share) + 1
    for p in active[:n]:
        world.sim.mutate(  # type: ignore[attr-defined]
            Entity.PUPILS, p.ext_ids["asiou"], Статус="выбыл", ДатаВыбытия="2025-10-15"
        )
    return n


def _held(world: World, code: str) -> Any:
    before = store_snapshot(world, "asiou", "bundle", PACKAGE_ENTITIES)
    report = pull(world, "asiou")
    assert report.status == "held", (report.status, report.error)
    assert report.hold is not None and report.hold.code == code
    assert store_snapshot(world, "asiou", "bundle", PACKAGE_ENTITIES) == before
    [hold] = _holds(world, "waiting")
    assert hold.id == report.hold_id and hold.run_id == report.run_id and hold.reason == code
    assert report.run_id is not None
    with world.store.read() as tx:
        run = tx.runs.get(report.run_id)
    assert run is not None and run.status == "held"
    return hold


def test_mass_leaving_is_held_then_approved(aworld: World) -> None:
    assert pull(aworld, "asiou").status == "success"
    active = _active(aworld)
    n = _make_leave(aworld, 0.10)
    hold = _held(aworld, "mass_deactivation")
    assert hold.summary["deactivated"] == n and hold.summary["active_before"] == active
    assert _active(aworld) == active

    report = runner.approve_hold(aworld.store, aworld.config, hold.id, by="завуч")
    assert report.status == "success", report.error
    assert report.counts.as_dict()[Entity.PUPILS.value]["updated"] == n
    assert _active(aworld) == active - n
    [decided] = _holds(aworld, None)
    assert decided.status == "approved" and decided.decided_by == "завуч"
    # what was approved is applied: the next pull has nothing to hold
    again = pull(aworld, "asiou")
    assert again.status == "success" and _holds(aworld, "waiting") == []


def test_under_the_limit_is_applied_at_once(aworld: World) -> None:
    assert pull(aworld, "asiou").status == "success"
    active = _active(aworld)
    allowed = int(active * 0.10)  # exactly 10% is not more than 10%
    for p in [p for p in aworld.school.pupils if p.status == "active"][:allowed]:
        aworld.sim.mutate(Entity.PUPILS, p.ext_ids["asiou"], Статус="выбыл")  # type: ignore[attr-defined]
    report = pull(aworld, "asiou")
    assert report.status == "success", report.error
    assert _active(aworld) == active - allowed and _holds(aworld, None) == []


def test_a_discarded_hold_changes_nothing_and_the_next_pull_holds_again(aworld: World) -> None:
    assert pull(aworld, "asiou").status == "success"
    active = _active(aworld)
    _make_leave(aworld, 0.25)
    hold = _held(aworld, "mass_deactivation")
    before = store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES)
    discard_hold(aworld.store, hold.id, by="завуч")
    [decided] = _holds(aworld, None)
    assert decided.status == "discarded" and decided.decided_by == "завуч"
    assert store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES) == before
    assert _active(aworld) == active
    # a no is not a yes: the same export is held again
    _held(aworld, "mass_deactivation")


def test_a_full_pull_with_no_pupils_is_held(aworld: World) -> None:
    assert pull(aworld, "asiou").status == "success"
    active = _active(aworld)
    for p in aworld.school.pupils:
        aworld.sim.delete(Entity.PUPILS, p.ext_ids["asiou"])  # type: ignore[attr-defined]
    before = store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES)
    report = pull(aworld, "asiou", full=True)
    assert report.status == "held", (report.status, report.error)
    assert report.hold is not None and report.hold.code == "empty_roster"
    assert store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES) == before
    assert _active(aworld) == active
    [hold] = _holds(aworld, "waiting")
    assert hold.reason == "empty_roster"


def test_an_empty_package_is_held_before_its_marks_deletions_are_planned(
    aworld: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A system that sends a complete package with nothing in it lacks every record: the hold
    is decided once the pupils are known, before any deletion is planned (all of them planned
    first, the large school's took 1.8 GB and a minute before the hold)."""
    from mapping.model import Tombstone
    from sync.pull import Puller

    assert pull(aworld, "asiou").status == "success"
    sim = aworld.sim  # type: ignore[attr-defined]
    for entity in (Entity.MARKS, Entity.ATTENDANCE, Entity.PUPILS):
        for rec in aworld.school.records(entity):
            sim.delete(entity, rec.ext_ids["asiou"])
    lacking: dict[Entity, int] = {}
    planned: list[Entity] = []
    delete_missing, decide = Puller._delete_missing, Puller._decide

    def spy_missing(self: Puller, unit: Any, entity: Entity, missing: set[str]) -> None:
        lacking[entity] = len(missing)
        delete_missing(self, unit, entity, missing)

    def spy_decide(self: Puller, tx: Any, entity: Entity, items: Any, **kw: Any) -> Any:
        if items and all(isinstance(i, Tombstone) for i in items):
            planned.append(entity)
        return decide(self, tx, entity, items, **kw)

    monkeypatch.setattr(Puller, "_delete_missing", spy_missing)
    monkeypatch.setattr(Puller, "_decide", spy_decide)
    before = store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES)
    report = pull(aworld, "asiou", full=True)
    assert report.status == "held", (report.status, report.error)
    assert report.hold is not None and report.hold.code == "empty_roster"
    assert store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES) == before
    assert lacking.get(Entity.PUPILS) == len(aworld.school.pupils)  # the pupils' scope closed
    assert planned == []  # and nothing was planned for deletion, marks least of all
