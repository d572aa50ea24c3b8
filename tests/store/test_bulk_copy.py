"""On PostgreSQL a plain bulk INSERT goes as one COPY (issue 11): the rows, the statistics that
count them and the refusal of bad rows are as the statement-by-statement insert left them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from core.entities import Entity
from core.errors import DataRejected
from store import Store
from store.changelog import CHANGES
from store.identity import IDENTITY
from tests.store.conftest import mark

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = Store.open(pg_url)
    store.upgrade()
    yield store
    store.close()


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The COPY statements the driver is given."""
    seen: list[str] = []
    real = psycopg.Cursor.copy

    def spy(self: psycopg.Cursor[Any], statement: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(statement))
        return real(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    return seen


def test_new_records_and_their_links_go_by_copy(pg_store: Store, copies: list[str]) -> None:
    marks = [mark(n) for n in range(300)]
    with pg_store.begin() as tx:
        counts = tx.records.upsert(Entity.MARKS, marks, source="es2")
        tx.identity.link_agreed(
            "sch1", "es2", Entity.MARKS, [(f"e{n}", m.id, "h") for n, m in enumerate(marks)]
        )
    assert counts.created == 300
    assert [c.split(" (")[0] for c in copies] == ["COPY marks", "COPY identity_map"]
    # what went in reads back as it was given, links and change log included
    with pg_store.read() as tx:
        stored = tx.records.get(Entity.MARKS, [m.id for m in marks])
        links = tx.identity.lookup("sch1", "es2", Entity.MARKS, [f"e{n}" for n in range(300)])
        changes = tx.conn.execute(select(func.count()).select_from(CHANGES)).scalar_one()
    assert {i: (r.value, r.work_type, r.weight, r.modified_at) for i, r in stored.items()} == {
        m.id: (m.value, m.work_type, m.weight, m.modified_at) for m in marks
    }
    assert all(len(r.ext_ids) == 1 for r in stored.values())
    assert links == {f"e{n}": m.id for n, m in enumerate(marks)}
    assert changes == 300
    # the store's statistics counted the rows COPY wrote (they decide when tables are analysed)
    assert pg_store.statistics is not None
    assert pg_store.statistics.counted("marks") == 300
    assert pg_store.statistics.counted("identity_map") == 300


def test_changed_records_are_upserted_beside_new_ones(pg_store: Store, copies: list[str]) -> None:
    with pg_store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(n) for n in range(20)], source="es2")
    with pg_store.begin() as tx:
        counts = tx.records.upsert(
            Entity.MARKS, [mark(n, "4") for n in range(10, 40)], source="es2"
        )
    assert (counts.created, counts.updated) == (20, 10)
    with pg_store.read() as tx:
        stored = tx.records.get(Entity.MARKS, [f"mark-{n}" for n in range(40)])
    values = [str(stored[f"mark-{n}"].value.numbers[0]) for n in range(40)]
    assert values == ["5"] * 10 + ["4"] * 30


def test_a_copy_the_database_refuses_is_a_refusal_of_that_part_alone(
    pg_store: Store, copies: list[str]
) -> None:
    """Links that break the identity map's unique key, in one COPY: the part of the unit is
    refused with the database's reason, and the rest of the unit commits."""
    from sqlalchemy import insert

    from store.bulk import bulk

    columns = ("system", "entity", "external_id", "gateway_id", "synced_hash", "created_at")
    rows = [
        {
            "system": "es2",
            "entity": "marks",
            "external_id": f"e{n % 15}",  # five ids twice
            "gateway_id": f"mark-{n}",
            "synced_hash": None,
            "created_at": mark(0).modified_at,
        }
        for n in range(20)
    ]
    with pg_store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
        with pytest.raises(DataRejected, match="identity_map"), tx.savepoint():
            stmt = bulk(tx.conn, "insert", IDENTITY, columns, lambda: insert(IDENTITY))
            stmt.execute(tx.conn, rows)
    assert copies and copies[-1].startswith("COPY identity_map")
    with pg_store.read() as tx:
        assert tx.records.get(Entity.MARKS, ["mark-1"])
        assert tx.conn.execute(select(func.count()).select_from(IDENTITY)).scalar_one() == 0
