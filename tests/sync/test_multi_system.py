"""Several systems, one store: the same school pulled from ES2, АСИОУ and О7 is one record per
real-world record with every system's id in the identity map; and a mark changed in one system
is forwarded to the other once, with nothing coming back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from core.entities import PULL_ORDER, Entity
from fixtures.school import SchoolData
from mapping.model import Mark
from tests.sync.conftest import pull, push
from tests.sync.worlds import (
    ASIOU_CODE,
    O7_OPTIONS,
    World,
    asiou_server,
    es2_server,
    o7_server,
    open_world,
    system_table,
)

MARKS_BOTH = {Entity.MARKS.value: {"direction": "both"}}


@contextlib.contextmanager
def three(
    school: SchoolData, store_url: str, entities: dict[str, Any]
) -> Iterator[tuple[World, dict[str, Any]]]:
    with (
        es2_server(school) as (es2, es2_url),
        asiou_server(school, delay=0.0) as (asiou, asiou_url),
        o7_server(school) as (o7, o7_url),
    ):
        systems = {
            "es2": system_table("es2", es2_url, str(es2.school_id), entities),
            "asiou": system_table("asiou", asiou_url, ASIOU_CODE, entities),
            "o7": system_table("o7", o7_url, o7.data.school_guid, {}, O7_OPTIONS),
        }
        yield open_world(store_url, school, systems), {"es2": es2, "asiou": asiou, "o7": o7}


@pytest.fixture
def world3(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    with three(tiny_school, f"sqlite:///{tmp_path}/s.db", {}) as (world, sims):
        world.sim = sims  # type: ignore[attr-defined]
        yield world


def _linked(world: World, system: str, entity: Entity) -> dict[str, str]:
    """gid → ext id in ``system`` (every record the system is linked to)."""
    with world.store.read() as tx:
        return tx.identity.ext_of(
            system, entity, list(tx.identity.linked_gids(world.school.school.id, system, entity))
        )


def test_three_systems_one_record_each(world3: World) -> None:
    school = world3.school
    for system in ("es2", "asiou", "o7"):
        report = pull(world3, system)
        assert report.status == "success", (system, report.error, report.counts.as_dict())
        if system != "es2":
            # everything was already brought by ES2: matched, nothing new, nothing changed
            assert report.counts.total("created") == 0, (system, report.counts.as_dict())
            assert report.counts.total("updated") == 0, (system, report.counts.as_dict())
            assert report.counts.total("deleted") == 0, (system, report.counts.as_dict())

    with world3.store.read() as tx:
        for entity in PULL_ORDER:
            assert tx.records.count(entity, school_id=school.school.id) == len(
                school.records(entity)
            ), entity

    # the ids of every system point at the same gateway record
    for entity in PULL_ORDER:
        records = school.records(entity)
        for system in ("es2", "asiou", "o7"):
            linked = _linked(world3, system, entity)
            if system == "asiou" and entity is Entity.ENROLMENTS:
                assert linked == {}  # АСИОУ has no enrolments
                continue
            if system == "o7" and entity is Entity.ENROLMENTS:
                assert linked == {}
                continue
            es2_gid = {v: k for k, v in _linked(world3, "es2", entity).items()}
            if system == "o7" and entity not in (
                Entity.CLASSES,
                Entity.PUPILS,
                Entity.LESSONS,
                Entity.MARKS,
            ):
                # О7 gives no ids of these: periods, teachers, subjects and subgroups are found
                # by name in the roster (nothing to link); absences and period marks get ids
                # minted from what they are — each on exactly one record
                assert len(set(linked.values())) == len(linked), entity
                if entity in (Entity.ATTENDANCE, Entity.FINAL_MARKS):
                    assert len(linked) == len(records), entity
                    assert set(linked) <= set(es2_gid.values()), entity
                continue
            by_gid = {gid: ext for gid, ext in linked.items()}
            assert len(by_gid) == len(records), (system, entity)
            for rec in records:
                gid = es2_gid[rec.ext_ids["es2"]]
                assert by_gid.get(gid) == rec.ext_ids[system], (system, entity, rec.id)


@pytest.fixture
def world2(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    with three(tiny_school, f"sqlite:///{tmp_path}/s.db", MARKS_BOTH) as (world, sims):
        world.sim = sims  # type: ignore[attr-defined]
        yield world


def _outbox(world: World, system: str, status: str | None = None) -> list[Any]:
    with world.store.read() as tx:
        return [o for o in tx.outbox.find(status=status, limit=1_000_000) if o.system == system]


def _es2_live_marks(sim: Any) -> int:
    col = sim.state.col("marks")
    return sum(1 for i in col.items if col.live(i) is not None)


def test_pushes_a_system_turns_out_to_hold_are_settled_by_its_pull_unsent(world2: World) -> None:
    """Issue 12, point 13: the first ES2 pull queues every mark for АСИОУ; АСИОУ's own pull then
    finds each of them there unchanged, so the queued pushes are settled — not sent to be
    answered ``duplicate``, not left filling the outbox."""
    sims = world2.sim  # type: ignore[attr-defined]
    assert pull(world2, "es2").status == "success"
    queued = _outbox(world2, "asiou")
    assert len(queued) == len(world2.school.marks) > 0
    assert pull(world2, "asiou").status == "success"
    assert _outbox(world2, "asiou") == []  # the outbox shows only what must really be sent
    first = push(world2, "asiou")
    assert first.status == "success" and first.counts.as_dict() == {}
    assert sims["asiou"].held_marks() == {}  # nothing was sent


def test_a_mark_changed_in_es2_reaches_asiou_once_and_nothing_comes_back(world2: World) -> None:
    sims = world2.sim  # type: ignore[attr-defined]
    school = world2.school
    assert pull(world2, "es2").status == "success"
    assert pull(world2, "asiou").status == "success"
    # the first ES2 pull queued its records for АСИОУ; АСИОУ already holds each of them
    first = push(world2, "asiou")
    assert first.status == "success", first.error
    assert first.counts.total("sent") == 0 and first.counts.total("updated") == 0
    assert sims["asiou"].held_marks() == {}  # nothing was sent
    assert _outbox(world2, "es2") == []  # nothing ever queued back to ES2
    es2_marks = _es2_live_marks(sims["es2"])
    queued_before = len(_outbox(world2, "asiou"))

    # a teacher corrects a mark in ES2
    mark = next(m for m in school.marks if str(m.value) in ("4", "5"))
    col = sims["es2"].state.col("marks")
    sims["es2"].state.clock.advance(seconds=5)
    sims["es2"].state.upsert("marks", {**col.live(int(mark.ext_ids["es2"])), "value": "3"})
    pulled = pull(world2, "es2")
    assert pulled.counts.total("updated") == 1, pulled.counts.as_dict()
    queued = _outbox(world2, "asiou")[queued_before:]
    assert [(o.entity, o.op, o.status) for o in queued] == [("marks", "upsert", "pending")]
    assert _outbox(world2, "es2") == []

    sent = push(world2, "asiou")
    assert sent.counts.total("awaiting") == 1
    sims["asiou"].process_now()
    polled = push(world2, "asiou")
    assert polled.counts.total("updated") == 1, polled.counts.as_dict()
    held = sims["asiou"].held_marks()
    assert list(held) == [mark.ext_ids["asiou"]] and held[mark.ext_ids["asiou"]]["Значение"] == "3"

    # АСИОУ now says what the store says: its pull changes nothing and queues nothing for ES2
    back = pull(world2, "asiou")
    assert back.status == "success", back.error
    assert back.counts.total("created") + back.counts.total("updated") == 0, back.counts.as_dict()
    assert back.counts.total("deleted") == 0
    assert _outbox(world2, "es2") == []
    assert push(world2, "es2").counts.as_dict() == {}
    # and ES2 read again: nothing for АСИОУ either
    again = pull(world2, "es2")
    assert again.counts.total("updated") + again.counts.total("created") == 0
    assert len(_outbox(world2, "asiou")) == queued_before + 1
    assert _es2_live_marks(sims["es2"]) == es2_marks
    es2_ext = world2.ext_map("es2", Entity.MARKS)
    stored = [
        m
        for gid, m in world2.records(Entity.MARKS).items()
        if es2_ext.get(gid) == mark.ext_ids["es2"]
    ]
    assert len(stored) == 1 and isinstance(stored[0], Mark) and str(stored[0].value) == "3"
