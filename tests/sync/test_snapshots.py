"""A full read deletes what the system lacks: the ids it read are held 16 bytes apiece
(:class:`sync.seen.SeenIds`) and merged at the scope's close with the store's ids in id order,
on both engines (issue 19: as a set of ``str`` they took a second full АСИОУ package of the
large school to 196 MB against 142 MB for the first)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.entities import Entity
from fixtures.school import SchoolData
from sync.seen import SeenIds
from sync.snapshots import SnapshotTracker
from tests.sync.conftest import BOTH, pull
from tests.sync.worlds import ASIOU_CODE, World, asiou_server, open_world, system_table

hex_ids = st.binary(min_size=16, max_size=16).map(bytes.hex)
other_ids = st.one_of(
    st.text(min_size=1, max_size=40),
    hex_ids.map(str.upper),  # hex, but not as the gateway spells it
    hex_ids.map(lambda h: h[:31] + "g"),  # 32 characters, not hex
    hex_ids.map(lambda h: " " + h[:31]),  # what bytes.fromhex would forgive
)
ids = st.one_of(hex_ids, hex_ids, other_ids)


@given(
    stored=st.lists(ids, max_size=60, unique=True),
    pages=st.lists(st.lists(ids, max_size=15), max_size=6),
    read_back=st.data(),
)
def test_missing_is_what_the_store_holds_and_the_read_lacked(
    stored: list[str], pages: list[list[str]], read_back: st.DataObject
) -> None:
    # some of the stored ids are read, on any page, some of them twice
    again = read_back.draw(
        st.lists(st.sampled_from(stored), max_size=30) if stored else st.just([])
    )
    seen = SeenIds()
    for n, page in enumerate([*pages, again, again[: len(again) // 2]]):
        seen.update(page if n % 2 else iter(page))
    read = {i for p in pages for i in p} | set(again)
    assert seen.missing(sorted(stored)) == set(stored) - read


def test_gateway_ids_are_held_in_16_bytes_each() -> None:
    gids = [uuid.uuid4().hex for _ in range(3000)]
    seen = SeenIds()
    for start in range(0, 3000, 1000):
        seen.update(gids[start : start + 1000])
    seen.update(["pupil-1", gids[0].upper()])
    assert seen.held_bytes == 16 * 3000
    assert len(seen) == 3002
    assert seen.missing(sorted([*gids, "pupil-1", "pupil-2"])) == {"pupil-2"}


@pytest.fixture
def aworld(tiny_school: SchoolData, db_url: str, secrets: None) -> Iterator[World]:
    with asiou_server(tiny_school, delay=0.0) as (sim, url):
        w = open_world(db_url, tiny_school, {"asiou": system_table("asiou", url, ASIOU_CODE, BOTH)})
        w.sim = sim  # type: ignore[attr-defined]
        yield w


def test_a_full_read_holds_its_ids_packed_and_deletes_what_it_lacked(
    aworld: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert pull(aworld, "asiou").status == "success"
    sim = aworld.sim  # type: ignore[attr-defined]
    school = aworld.school
    mark, absence = school.marks[3], school.attendance[4]
    sim.delete(Entity.MARKS, mark.ext_ids["asiou"])
    sim.delete(Entity.ATTENDANCE, absence.ext_ids["asiou"])

    held: list[tuple[int, int]] = []  # per scope at its close: ids held, bytes they take
    close = SnapshotTracker.close

    def spy(self: SnapshotTracker, tx: Any, key: Any) -> set[str]:
        seen = self._open[key].seen
        held.append((len(seen), seen.held_bytes))
        return close(self, tx, key)

    monkeypatch.setattr(SnapshotTracker, "close", spy)
    report = pull(aworld, "asiou", full=True)

    assert report.status == "success", report.error
    assert report.counts.total("deleted") == 2, report.counts.as_dict()
    kept = {e: set(aworld.ext_map("asiou", e).values()) for e in (Entity.MARKS, Entity.ATTENDANCE)}
    assert mark.ext_ids["asiou"] not in kept[Entity.MARKS]
    assert absence.ext_ids["asiou"] not in kept[Entity.ATTENDANCE]
    assert len(aworld.records(Entity.MARKS)) == len(school.marks) - 1
    # every record the package brought was held, each in 16 bytes
    assert sum(n for n, _ in held) == report.counts.total("unchanged")
    assert all(size == 16 * n for n, size in held)


def test_a_dry_run_finds_what_a_full_read_lacked_and_applies_nothing(aworld: World) -> None:
    assert pull(aworld, "asiou").status == "success"
    aworld.sim.delete(Entity.MARKS, aworld.school.marks[3].ext_ids["asiou"])  # type: ignore[attr-defined]
    report = pull(aworld, "asiou", full=True, dry_run=True)
    assert report.counts.total("deleted") == 1, report.counts.as_dict()
    assert len(aworld.records(Entity.MARKS)) == len(aworld.school.marks)


def test_what_a_complete_read_lacked_is_deleted_a_batch_at_a_time(
    aworld: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning a deletion reads the stored record: all of a scope's at once held every one
    (a package without its marks took the large school's pull to 1.8 GB)."""
    from mapping.model import Tombstone
    from sync import pull as pulling

    assert pull(aworld, "asiou").status == "success"
    gone = aworld.school.marks[:20]
    for m in gone:
        aworld.sim.delete(Entity.MARKS, m.ext_ids["asiou"])  # type: ignore[attr-defined]
    batches: list[int] = []
    decide = pulling.Puller._decide

    def spy(self: Any, tx: Any, entity: Entity, items: Any, **kw: Any) -> Any:
        if entity is Entity.MARKS and items and all(isinstance(i, Tombstone) for i in items):
            batches.append(len(items))
        return decide(self, tx, entity, items, **kw)

    monkeypatch.setattr(pulling, "DELETE_BATCH", 7)
    monkeypatch.setattr(pulling.Puller, "_decide", spy)
    report = pull(aworld, "asiou", full=True)
    assert report.status == "success", report.error
    assert report.counts.total("deleted") == 20, report.counts.as_dict()
    assert batches == [7, 7, 6]
    left = set(aworld.ext_map("asiou", Entity.MARKS).values())
    assert not left & {m.ext_ids["asiou"] for m in gone}
