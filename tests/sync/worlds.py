"""Real worlds for sync tests: generated schools served by the simulators over loopback HTTP,
a store on SQLite (or PostgreSQL), and a configuration that points one at the other."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.entities import Entity
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.model import Record
from schoolgate.config import GatewayConfig, SchoolConfig, parse_config
from store import Store
from sync.journal import Journal

YEAR = {"year_start": "2025-09-01", "year_end": "2026-05-31"}
CREDENTIALS = {
    "es2": {"client_id": "SG_T_ES2_ID", "client_secret": "SG_T_ES2_SECRET"},
    "asiou": {"login": "SG_T_ASIOU_LOGIN", "password": "SG_T_ASIOU_PASSWORD"},
    "o7": {"login": "SG_T_O7_LOGIN", "password": "SG_T_O7_PASSWORD"},
}
SECRETS = {
    "SG_T_ES2_ID": "schoolgate",
    "SG_T_ES2_SECRET": "secret",
    "SG_T_ASIOU_LOGIN": "gateway",
    "SG_T_ASIOU_PASSWORD": "secret",
    "SG_T_O7_LOGIN": "gateway",
    "SG_T_O7_PASSWORD": "secret",
}


def system_table(
    system: str,
    base_url: str,
    remote: str,
    entities: dict[str, Any],
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    opts = dict(options or {})
    if system in ("es2", "o7"):
        opts = {**YEAR, **opts}
    if system == "es2":
        opts.setdefault("today", "2025-10-20")
        opts.setdefault("backoff_initial", 0.01)
        opts.setdefault("backoff_max", 0.05)
    if system == "asiou":
        opts.setdefault("retry_base", 0.01)
    return {
        "base_url": base_url,
        "remote_school": remote,
        "credentials": {k: {"env": v} for k, v in CREDENTIALS[system].items()},
        "timeout": 30,
        "retries": 3,
        "options": opts,
        "entities": entities,
    }


def make_config(
    store_url: str, school: SchoolData, systems: dict[str, dict[str, Any]], **sync: Any
) -> GatewayConfig:
    return parse_config(
        {
            "store": {"url": store_url},
            "sync": sync,
            "schools": [
                {
                    "id": school.school.id,
                    "name": "Тестовая школа",
                    "timezone": "Europe/Moscow",
                    "systems": systems,
                }
            ],
        }
    )


@dataclass
class World:
    school: SchoolData
    store: Store
    config: GatewayConfig

    @property
    def school_config(self) -> SchoolConfig:
        return self.config.schools[0]

    def journal(self) -> Journal:
        """The local journal of the world's school."""
        sc = self.school_config
        return Journal(self.store, sc.id, sc.push_targets())

    def records(self, entity: Entity) -> dict[str, Record]:
        with self.store.read() as tx:
            return {r.id: r for r in tx.records.iter(entity, self.school.school.id)}

    def ext_map(self, system: str, entity: Entity) -> dict[str, str]:
        """gid → external id in ``system``."""
        with self.store.read() as tx:
            ids = [r.id for r in tx.records.iter(entity, self.school.school.id)]
            return tx.identity.ext_of(system, entity, ids)


@contextlib.contextmanager
def es2_server(school: SchoolData, **kwargs: Any) -> Iterator[tuple[Any, str]]:
    """The ES2 simulator of ``school`` whose "now" is the evening after the school's last change,
    so that incremental reads stay inside the 30 days ES2 keeps its change feed."""
    from fixtures.es2 import SimClock, Simulator

    if "clock" not in kwargs:
        last = max(r.modified_at for r in school.all_records() if r.modified_at is not None)
        kwargs["clock"] = SimClock(start=last + dt.timedelta(hours=12))
    sim = Simulator(school, **kwargs)
    with serve_in_thread(sim.app) as url:
        yield sim, url


def generated_vs_store(
    world: World, system: str, entity: Entity, skip_fields: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The generator's records and the store's, keyed by the system's external id, as content."""
    gen = {r.ext_ids[system]: _content(r, skip_fields) for r in world.school.records(entity)}
    gid_to_ext = world.ext_map(system, entity)
    # references in the store are gateway ids: translate them to generator ids through ext ids
    stored = {}
    back = _gid_to_generator(world, system)
    for rec in world.records(entity).values():
        content = _content(rec, skip_fields)
        for name, target in rec.refs.items():
            if content.get(name) is not None:
                content[name] = back.get((target, content[name]), f"?{content[name]}")
        if "member_ids" in content:
            content["member_ids"] = sorted(
                back.get((Entity.PUPILS, m), m) for m in content["member_ids"]
            )
        stored[gid_to_ext.get(rec.id, rec.id)] = content
    return gen, stored


def _gid_to_generator(world: World, system: str) -> dict[tuple[Entity, str], str]:
    out = {}
    for entity in (
        Entity.PERIODS,
        Entity.SUBJECTS,
        Entity.TEACHERS,
        Entity.CLASSES,
        Entity.PUPILS,
        Entity.SUBGROUPS,
        Entity.LESSONS,
    ):
        by_ext = {r.ext_ids[system]: r.id for r in world.school.records(entity)}
        for gid, ext in world.ext_map(system, entity).items():
            if ext in by_ext:
                out[(entity, gid)] = by_ext[ext]
    return out


def _content(rec: Record, skip: frozenset[str]) -> dict[str, Any]:
    data = rec.content()
    for name in skip:
        data.pop(name, None)
    if "member_ids" in data:
        data["member_ids"] = sorted(data["member_ids"])
    return data


TODAY = dt.date(2025, 10, 20)


# -- АСИОУ, О7 and several systems in one world (helpers for the engine tests) ----------------

ASIOU_CODE = "760215"
#: what the АСИОУ package cannot carry (besides the gateway-owned ``Period.closed``)
ASIOU_SKIP = frozenset({"short", "closed"})


@contextlib.contextmanager
def asiou_server(school: SchoolData, **kwargs: Any) -> Iterator[tuple[Any, str]]:
    from fixtures.asiou import Simulator

    sim = Simulator(school, **kwargs)
    with serve_in_thread(sim.app) as url:
        yield sim, url


@contextlib.contextmanager
def o7_server(school: SchoolData, **config: Any) -> Iterator[tuple[Any, str]]:
    from fixtures.o7 import O7Sim, SimConfig, build_data, create_app

    sim = O7Sim(build_data(school), SimConfig(login="gateway", password="secret", **config))
    with serve_in_thread(create_app(sim)) as url:
        yield sim, url


def open_world(store_url: str, school: SchoolData, systems: dict[str, dict[str, Any]]) -> World:
    """A fresh, upgraded store and a configuration with ``systems``."""
    config = make_config(store_url, school, systems)
    store = Store.open(config.store.url)
    store.upgrade()
    return World(school, store, config)


def store_snapshot(world: World, system: str, key: str, entities: Any) -> dict[str, Any]:
    """Counts per entity, one checkpoint, every record's content hash and the change-log
    length: enough to say the store did not move."""
    sid = world.school.school.id
    with world.store.read() as tx:
        return {
            "checkpoint": tx.checkpoints.get(sid, system, key),
            "counts": {e: tx.records.count(e, school_id=sid) for e in entities},
            "hashes": {
                e: sorted(r.content_hash for r in tx.records.iter(e, sid)) for e in entities
            },
            "changes": len(tx.changes.read(0, limit=10**6)),
        }


def findings(world: World, **filters: Any) -> list[Any]:
    with world.store.read() as tx:
        return list(tx.conflicts.find(**filters))


#: О7 options for the tiny school: its lessons end in October, so two monthly windows (both
#: «recent»), and retries without real waiting
O7_OPTIONS = {"year_end": "2025-10-31", "retry_max_wait": 0.01}
