"""Strategies and a reusable engine world for the property tests of the sync engine.

:class:`Bench` starts the ES2 simulator once, pulls the tiny school once into a baseline SQLite
file, and then hands every hypothesis example a fresh copy of that file (``sqlite3`` backup) and a
simulator reset to the school (``sim.sync_to``) — a new world for the cost of a file copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import func, select

from core.entities import Entity
from fixtures.es2.wire import WORK_TYPE_NAMES
from fixtures.school import SchoolData
from mapping.model import Mark
from mapping.values import MarkValue
from store import Store
from store.changelog import CHANGES
from store.records import AUDIT
from sync.policy import ConflictPolicy
from tests.sync.conftest import pull
from tests.sync.worlds import World, es2_server, make_config, system_table

UTC = dt.UTC
POLICIES: tuple[ConflictPolicy, ...] = ("source-wins", "local-wins", "newer-wins", "manual")
MARK_VALUES = ("1", "2", "3", "4", "5", "4/5", "5/4", "3/4", "2/3", "зач", "незач", "осв")
#: work types ES2 carries (its code table), and no work type at all
WORK_TYPES: tuple[str | None, ...] = (None, *sorted(set(WORK_TYPE_NAMES.values())))

values = st.sampled_from(MARK_VALUES)
work_types = st.sampled_from(WORK_TYPES)
weights = st.integers(1, 10)
policies = st.sampled_from(POLICIES)
#: whole seconds, as the systems carry them
timestamps = st.datetimes(
    min_value=dt.datetime(2025, 9, 1), max_value=dt.datetime(2026, 5, 31), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))


@st.composite
def mark_fields(draw: st.DrawFn) -> dict[str, Any]:
    """The content a teacher can change in a mark: value, work type, weight."""
    return {
        "value": MarkValue.parse(draw(values)),
        "work_type": draw(work_types),
        "weight": draw(weights),
    }


@st.composite
def edits(draw: st.DrawFn) -> dict[str, Any]:
    """A non-empty subset of the mark's content fields with new values."""
    full = draw(mark_fields())
    names = draw(st.sets(st.sampled_from(sorted(full)), min_size=1))
    return {n: full[n] for n in names}


# -- the engine world ----------------------------------------------------------------------
#: every incremental read re-reads what changed in the last 20 simulated days: every pull of a
#: test sees every remote edit of the test again (the harshest case for idempotence)
OVERLAP = {"changed_since_overlap_s": 20 * 86400}


def entities(policy: ConflictPolicy) -> dict[str, Any]:
    both = {"direction": "both", "conflict": policy}
    return {e.value: dict(both) for e in (Entity.MARKS, Entity.ATTENDANCE, Entity.FINAL_MARKS)}


class Bench:
    """One simulator over loopback and a pulled baseline store; a fresh world per example."""

    def __init__(self, school: SchoolData, sim: Any, url: str, tmp: Path) -> None:
        self.school = school
        self.sim = sim
        self.url = url
        self.tmp = tmp
        self.examples = 0
        self.baseline = tmp / "baseline.db"
        world = self._world(self.baseline, "manual")
        report = pull(world)
        assert report.status == "success", report.error
        # the generated items carry 2025 times: touch one item of each incremental path so the
        # checkpoints start from the simulator's clock (a checkpoint older than 30 days would
        # turn every later pull into a full read)
        for path in ("pupils", "marks", "attendance", "controlmarks"):
            col = sim.state.col(path)
            first = col.live(min(col.items))
            sim.state.upsert(path, dict(first))
        report = pull(world)
        assert report.status == "success", report.error
        assert report.counts.total("created") == report.counts.total("updated") == 0
        world.store.close()
        self.marks: list[str] = sorted(
            m.id
            for m in self._world(self.baseline, "manual").records(Entity.MARKS).values()
            if isinstance(m, Mark)
        )

    def _world(self, path: Path, policy: ConflictPolicy) -> World:
        config = make_config(
            f"sqlite:///{path}",
            self.school,
            {
                "es2": system_table(
                    "es2", self.url, str(self.sim.school_id), entities(policy), OVERLAP
                )
            },
        )
        store = Store.open(config.store.url)
        store.upgrade()
        world = World(self.school, store, config)
        world.sim = self.sim  # type: ignore[attr-defined]
        return world

    @contextlib.contextmanager
    def fresh(self, policy: ConflictPolicy = "manual") -> Iterator[World]:
        """A copy of the baseline store and the simulator back at the school's data."""
        self.examples += 1
        path = self.tmp / f"example-{self.examples}.db"
        with sqlite3.connect(self.baseline) as src, sqlite3.connect(path) as dst:
            src.backup(dst)
        self.sim.sync_to(self.school)
        # a system that never met this store: it remembers no idempotency keys either (versions
        # restart with the copied store, so an old key would name different content)
        self.sim.state.client_keys.clear()
        self.sim.state.idempotency.clear()
        self.sim.clock.advance(seconds=61)  # the reset lies outside every later overlap window
        world = self._world(path, policy)
        try:
            yield world
        finally:
            world.store.close()
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def bench(school: SchoolData, tmp: Path) -> Iterator[Bench]:
    with es2_server(school) as (sim, url):
        yield Bench(school, sim, url, tmp)


# -- observations ----------------------------------------------------------------------------
def footprint(world: World) -> tuple[int, int, int]:
    """(change-log entries, last change-log position, audit rows) of the store."""
    with world.store.read() as tx:
        changes, last = tx.conn.execute(
            select(func.count(), func.coalesce(func.max(CHANGES.c.position), 0))
        ).one()
        audits = tx.conn.execute(select(func.count()).select_from(AUDIT)).scalar_one()
    return int(changes), int(last), int(audits)


def marks_of(world: World, ids: list[str]) -> dict[str, Mark]:
    with world.store.read() as tx:
        found = tx.records.get(Entity.MARKS, ids)
    return {k: v for k, v in found.items() if isinstance(v, Mark)}


def sim_marks(world: World) -> dict[str, tuple[str, str | None, int]]:
    """The simulator's live marks: ext id → (value, work type name, weight)."""
    col = world.sim.state.col("marks")  # type: ignore[attr-defined]
    return {
        str(i): (it["value"], (it["work_type"] or {}).get("name"), it["weight"])
        for i, it in col.items.items()
        if not it.get("deleted")
    }


def store_marks(world: World) -> dict[str, tuple[str, str | None, int]]:
    """The store's live marks by their ES2 id: ext id → (value, work type, weight)."""
    ext = world.ext_map("es2", Entity.MARKS)
    out = {}
    for m in world.records(Entity.MARKS).values():
        assert isinstance(m, Mark)
        out[ext.get(m.id, f"unlinked:{m.id}")] = (str(m.value), m.work_type, m.weight)
    return out


def remote_edit(world: World, ext_id: str, value: str) -> None:
    """Change a mark's value in the simulator directly (a teacher's edit there), at its clock."""
    state = world.sim.state  # type: ignore[attr-defined]
    item = state.col("marks").live(int(ext_id))
    assert item is not None
    state.upsert("marks", {**item, "value": value})


def sim_now(world: World) -> dt.datetime:
    now: dt.datetime = world.sim.clock.now()  # type: ignore[attr-defined]
    return now.replace(microsecond=0).astimezone(UTC)
