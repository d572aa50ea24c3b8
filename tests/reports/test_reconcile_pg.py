"""The seeded reconciliation on PostgreSQL: the store's rows stream in byte order there too
(``COLLATE "C"``), so the merge pairs every record and each difference shows once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.school import SchoolData
from tests.reports.readback import READERS, _key
from tests.reports.test_reconcile import _reconcile, _write_all
from tests.reports.worlds import SeededWorld, seed, synced_world

pytestmark = pytest.mark.postgres


@pytest.fixture
def seeded_pg(tiny_school: SchoolData, pg_url: str, secrets: None) -> Iterator[SeededWorld]:
    for world, sim in synced_world(tiny_school, pg_url):
        yield seed(world, sim)


def test_every_seeded_difference_once_on_postgresql(seeded_pg: SeededWorld, tmp_path: Path) -> None:
    rid = _reconcile(seeded_pg.world)
    files = _write_all(seeded_pg.world, rid, tmp_path)
    expected = {(s.section, _key(s.record_id, s.external_id)) for s in seeded_pg.seeded}
    for fmt, path in files.items():
        assert dict(READERS[fmt](path)) == dict.fromkeys(expected, 1), fmt
    with seeded_pg.store.read() as tx:
        rec = tx.queries.reconciliation(rid)
    assert rec is not None
    matched = sum(int(c.get("matched", 0)) for c in rec.summary["entities"].values())
    assert matched > 5000  # the merge paired the records, not only the differences
