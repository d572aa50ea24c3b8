"""Two schools, one store, each with its own installation of ES2 and АСИОУ that number their
records alike (the generator's default numbering for both): each school ends with exactly its
own records, linked to its own ids, and syncing one never moves the other (issue 15's finding:
identity links were kept per system, not per school, and one school's marks became another's)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.entities import PULL_ORDER, Entity
from fixtures.generator import generate_school
from fixtures.school import SchoolData
from store import Store
from tests.sync.conftest import pull
from tests.sync.worlds import (
    ASIOU_CODE,
    World,
    asiou_server,
    es2_server,
    generated_vs_store,
    make_config,
    system_table,
)


@contextlib.contextmanager
def _world(school: SchoolData, store: Store, url: str) -> Iterator[World]:
    with (
        es2_server(school) as (es2, es2_url),
        asiou_server(school, delay=0.0) as (_, asiou_url),
    ):
        systems: dict[str, dict[str, Any]] = {
            "es2": system_table("es2", es2_url, str(es2.school_id), {}),
            "asiou": system_table("asiou", asiou_url, ASIOU_CODE, {}),
        }
        yield World(school, store, make_config(url, school, systems))


def _snapshot(store: Store, school_id: str) -> dict[Entity, list[tuple[str, str]]]:
    with store.read() as tx:
        return {
            e: sorted((r.id, r.content_hash) for r in tx.records.iter(e, school_id))
            for e in PULL_ORDER
        }


def test_two_schools_numbered_alike_keep_their_own_records(tmp_path: Path, secrets: None) -> None:
    a = generate_school(5, "tiny", school_id="school-a")
    b = generate_school(6, "tiny", school_id="school-b")
    shared = {m.ext_ids["es2"] for m in a.marks} & {m.ext_ids["es2"] for m in b.marks}
    assert len(shared) > 100  # the two installations really number their marks alike
    assert {p.ext_ids["asiou"] for p in a.pupils} & {p.ext_ids["asiou"] for p in b.pupils}

    url = f"sqlite:///{tmp_path}/two.db"
    store = Store.open(url)
    store.upgrade()
    try:
        with _world(a, store, url) as wa:
            for system in ("es2", "asiou"):
                report = pull(wa, system)
                assert report.status == "success", (system, report.error)
        a_before = _snapshot(store, "school-a")
        with _world(b, store, url) as wb:
            for system in ("es2", "asiou"):
                report = pull(wb, system)
                assert report.status == "success", (system, report.error)
                # a first pull of B: everything new, nothing of A's taken for B's and changed
                assert report.counts.total("updated") == 0, (system, report.counts.as_dict())
            for entity in (Entity.PUPILS, Entity.LESSONS, Entity.MARKS, Entity.ATTENDANCE):
                gen, stored = generated_vs_store(wb, "es2", entity)
                assert stored == gen, entity
        assert _snapshot(store, "school-a") == a_before  # B's syncs did not touch A
        with _world(a, store, url) as wa:
            for entity in (Entity.PUPILS, Entity.LESSONS, Entity.MARKS, Entity.ATTENDANCE):
                gen, stored = generated_vs_store(wa, "es2", entity)
                assert stored == gen, entity
            again = pull(wa, "es2")  # A's next pull finds everything where it left it
            assert again.status == "success"
            assert again.counts.total("created") == again.counts.total("updated") == 0
        for school in (a, b):
            with store.read() as tx:
                for entity in PULL_ORDER:
                    assert tx.records.count(entity, school_id=school.school.id) == len(
                        school.records(entity)
                    ), (school.school.id, entity)
    finally:
        store.close()
