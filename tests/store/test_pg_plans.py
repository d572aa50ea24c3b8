"""The plans PostgreSQL picks for the sync's hot-path lookups on a store that has just been filled
from empty, as a school's first sync fills it (issue 11).

The clock says little on a shared machine; the plan says everything: a lookup that walks a whole
table for every page makes a first sync grow with the square of the school. Each statement the
lookups issue is captured as sent and given to ``EXPLAIN`` with its own parameters; no node of its
plan may read a filled table from end to end.

Autovacuum is switched off for the filled tables: inside one long load it does not come in time
(the server's 60-second nap, one table at a time), and leaving it on would make the test pass or
fail by the clock after all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from core.entities import Entity
from mapping.model import Mark
from store import Store, Tx
from sync.resolver import MATCH_KEYS

pytestmark = pytest.mark.postgres

SCHOOL = "sch1"
AT = dt.datetime(2026, 2, 3, 10, 0, tzinfo=dt.UTC)
PAGES, PAGE = 30, 1000
FILLED = ("identity_map", "marks", "change_log")


def _mark(n: int) -> Mark:
    return Mark(
        id=f"mark-{n:06d}",
        school_id=SCHOOL,
        modified_at=AT,
        pupil_id=f"pupil-{n % 600}",
        lesson_id=f"lesson-{n // 25}",
        value="54321"[n % 5],
        work_type="Контрольная работа" if n % 2 else None,
    )


def _ext(n: int) -> str:
    return str(7_000_000 + n)


@contextmanager
def _captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plans(tx: Tx, statements: list[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Each statement's plan, as the unit that issued it sees the tables (its own uncommitted
    rows included)."""
    cur = tx.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    out = []
    for sql, params in statements:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (doc,) = cur.fetchone()
        out.append(
            (
                sql.strip().splitlines()[0][:80],
                (json.loads(doc) if isinstance(doc, str) else doc)[0]["Plan"],
            )
        )
    return out


def _whole_reads(plan: dict[str, Any]) -> list[str]:
    """The filled tables a plan reads from end to end."""
    return [
        n["Relation Name"]
        for n in _nodes(plan)
        if n.get("Relation Name") in FILLED and n["Node Type"] == "Seq Scan"
    ]


def _reads_per_row(plan: dict[str, Any]) -> list[str]:
    """The filled tables a plan reads once per row of another: an index scan or a whole read
    under a nested loop's inner side that is not keyed by the outer row."""
    found = []
    for node in _nodes(plan):
        if node["Node Type"] == "Nested Loop" and len(node.get("Plans", [])) == 2:
            inner = node["Plans"][1]
            keyed = "Join Filter" not in node
            for n in _nodes(inner):
                if n.get("Relation Name") in FILLED and (n["Node Type"] == "Seq Scan" or not keyed):
                    found.append(n["Relation Name"])
    return found


def _fill(tx: Tx, pages: range) -> None:
    for page in pages:
        numbers = range(page * PAGE, (page + 1) * PAGE)
        tx.records.upsert(Entity.MARKS, [_mark(n) for n in numbers], source="es2")
        tx.identity.link_many("sch1", "es2", Entity.MARKS, {_ext(n): _mark(n).id for n in numbers})


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    store = Store.open(pg_url)
    store.upgrade()
    with store.engine.begin() as conn:
        for name in FILLED:
            conn.exec_driver_sql(f"ALTER TABLE {name} SET (autovacuum_enabled = false)")
    yield store
    store.close()


def test_hot_path_lookups_probe_indexes_on_a_store_filled_from_empty(store: Store) -> None:
    """A first sync: a unit of 10,000 marks committed page by page, then a unit that writes
    20,000 more and asks its questions before it commits — of tables that were nearly empty
    when it began."""
    with store.begin() as tx:
        _fill(tx, range(10))
    wanted = range(12_000, 13_000)
    incoming = [_mark(n) for n in wanted]
    with store.begin() as tx:
        _fill(tx, range(10, PAGES))
        with _captured(store.engine) as statements:
            linked = tx.identity.lookup("sch1", "es2", Entity.MARKS, [_ext(n) for n in wanted])
            fields = MATCH_KEYS[Entity.MARKS]
            keys = [tuple(getattr(m, f) for f in fields) for m in incoming]
            matched = tx.matching.match_natural(Entity.MARKS, SCHOOL, fields, keys)
            states = tx.records.states(Entity.MARKS, [m.id for m in incoming])
            agreed = tx.identity.agreements("es2", Entity.MARKS, [m.id for m in incoming])
            keyed = len(statements)
            unlinked = tx.matching.has_unlinked(Entity.MARKS, SCHOOL, "es2")
            linked_any = tx.matching.has_linked(Entity.MARKS, SCHOOL, "es2")
        plans = _plans(tx, statements)

    # the lookups answer rightly: every one of the thousand is found
    assert linked == {_ext(n): _mark(n).id for n in wanted}
    assert {ids[0] for ids in matched.values()} >= {m.id for m in incoming}
    assert set(states) == set(agreed) == {m.id for m in incoming}
    assert (unlinked, linked_any) == (False, True)
    assert keyed >= 4 and len(plans) >= keyed + 2
    # a lookup of a page's thousand ids probes an index; it never reads a filled table whole
    assert [(sql, t) for sql, plan in plans[:keyed] for t in _whole_reads(plan)] == []
    # a question about the whole school may read a table once, never once per row of another
    assert [(sql, t) for sql, plan in plans for t in _reads_per_row(plan)] == []


def _filtered_probes(plan: dict[str, Any]) -> list[str]:
    """Index scans of a filled table repeated per row of another (a subplan's, or a nested
    loop's inner side) that keep part of the question as a filter: the index finds many rows
    and the filter throws all but one away, per row."""
    found = []

    def walk(node: dict[str, Any], repeated: bool) -> None:
        if (
            repeated
            and node.get("Relation Name") in FILLED
            and node["Node Type"] in ("Index Scan", "Index Only Scan")
            and "Filter" in node
        ):
            found.append(f"{node['Relation Name']} by {node['Index Name']}: {node['Filter']}")
        children = node.get("Plans", [])
        for i, child in enumerate(children):
            inner = node["Node Type"] == "Nested Loop" and i == 1
            walk(child, repeated or inner or child.get("Parent Relationship") == "SubPlan")

    walk(plan, False)
    return found


def test_the_unlinked_probe_is_one_index_probe_for_links_the_statistics_never_saw(
    store: Store,
) -> None:
    """The deletion sweep asks whether any record lacks a link in a system. The identity map was
    analysed when every link was an ES2 one; then another system's links arrive (fewer than the
    map held, so no new analysis is due). The planner believes that system has no links and
    probed the unique (system, entity, external id) index for each record, filtering every one of
    that system's links by gateway id: a first sync of final marks and attendance spent 2.5 s
    on one such question."""
    with store.begin() as tx:
        _fill(tx, range(PAGES))
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE identity_map")
    others = range(0, PAGES * PAGE, 6)
    with store.begin() as tx:
        tx.identity.link_many("sch1", "o7", Entity.MARKS, {f"o7-{n}": _mark(n).id for n in others})
    with store.begin() as tx:
        with _captured(store.engine) as statements:
            unlinked = tx.matching.has_unlinked(Entity.MARKS, SCHOOL, "o7")
        plans = _plans(tx, statements)

    assert unlinked is True  # five marks in six have no О7 id
    assert [p for _, plan in plans for p in _filtered_probes(plan)] == []
