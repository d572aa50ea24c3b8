"""Copies of a SQLite store taken while a real pull from the ES2 simulator writes into it: each
is the store at a commit boundary, so a copy restored in the middle of the pull and synced again
ends with the same records as the original (nothing half-applied, nothing lost)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from core.entities import PULL_ORDER
from fixtures.pace import Pace
from fixtures.school import SchoolData
from ops.backup import make_backup, read_manifest, restore
from store import Store
from sync import jobs
from sync.pull import PullOptions
from tests.ops.conftest import BOTH
from tests.sync.worlds import World, es2_server, make_config, system_table


def _pull(store: Store, world: World) -> str:
    job = jobs.open_job(store, world.school_config.setup("es2"))
    try:
        return jobs.pull(store, world.config.sync, job, PullOptions()).status
    finally:
        job.close()


def _linked(store: Store, school: str) -> dict[str, set[str]]:
    """Per entity, the ES2 ids of the records the store holds."""
    with store.read() as tx:
        return {
            e.value: {r.ext_ids.get("es2", "") for r in tx.records.iter(e, school)}
            for e in PULL_ORDER
        }


def test_a_copy_taken_mid_pull_resumes_to_the_same_records(
    tmp_path: Path, tiny_school: SchoolData, secrets: None
) -> None:
    url = f"sqlite:///{tmp_path}/live.db"
    school = tiny_school.school.id
    # small pages answered in 50 ms: the pull commits page after page over several seconds
    with es2_server(tiny_school, pace=Pace(latency_ms=50)) as (sim, sim_url):
        config = make_config(
            url,
            tiny_school,
            {"es2": system_table("es2", sim_url, str(sim.school_id), BOTH, {"page_size": 200})},
            chunk_size=200,
        )
        world = World(tiny_school, Store.open(url), config)
        world.store.upgrade()
        outcome: list[str] = []
        puller = threading.Thread(target=lambda: outcome.append(_pull(world.store, world)))
        puller.start()
        copies = []
        while puller.is_alive():
            copies.append(make_backup(url, tmp_path / "out"))
            time.sleep(0.1)
        puller.join()
        assert outcome == ["success"]
        final = _linked(world.store, school)
        total = sum(len(v) for v in final.values())
        world.store.close()

        # the copies made while the pull was writing (some records in, not all)
        middle = [c for c in copies if 0 < read_manifest(c).tables["identity_map"] < total]
        assert middle, [read_manifest(c).tables["identity_map"] for c in copies]
        for n, copy in enumerate([middle[0], middle[-1]][: len(middle)]):
            target = f"sqlite:///{tmp_path}/resumed-{n}.db"
            restore(copy, target)
            with Store.open(target) as resumed:
                assert _pull(resumed, world) == "success"
                assert _linked(resumed, school) == final
