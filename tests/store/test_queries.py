"""The read side (``tx.queries``): filters, paging and totals, on both engines."""

from __future__ import annotations

from store import ConflictFilter, NewFinding, OutboxFilter, Paging, RunFilter, Store
from store.outbox import NewPush


def _findings(store: Store) -> None:
    rows = [
        NewFinding("sch1", "es2", "marks", f"m{n}", kind, status)
        for n, (kind, status) in enumerate(
            [("late_mark", "noted")] * 7
            + [("both_changed", "open")] * 3
            + [("invalid_record", "rejected")] * 5
        )
    ] + [NewFinding("sch2", "o7", "marks", "x", "late_mark", "noted")]
    with store.begin() as tx:
        tx.conflicts.add_findings(rows)


def test_a_page_says_how_many_more_matched(store: Store) -> None:
    _findings(store)
    with store.read() as tx:
        page = tx.queries.conflicts(ConflictFilter(school_id="sch1"), Paging(limit=4))
        rest = tx.queries.conflicts(ConflictFilter(school_id="sch1"), Paging(limit=4, offset=12))
        only = tx.queries.conflicts(ConflictFilter(statuses=("open", "rejected")), Paging(100))
    assert (len(page.items), page.total, page.more) == (4, 15, 11)
    assert (len(rest.items), rest.more) == (3, 0)
    assert [c.record_id for c in page.items] == ["m0", "m1", "m2", "m3"]  # oldest first
    assert {c.status for c in only.items} == {"open", "rejected"} and only.total == 8


def test_totals_group_by_the_columns_asked(store: Store) -> None:
    _findings(store)
    with store.read() as tx:
        by_status = tx.queries.conflict_totals("sch1")
        by_both = tx.queries.conflict_totals(None, by=("status", "kind"))
    assert by_status == {("noted",): 7, ("open",): 3, ("rejected",): 5}
    assert by_both[("noted", "late_mark")] == 8


def test_runs_newest_first_and_the_last_of_each_job(store: Store) -> None:
    with store.begin() as tx:
        ids = [
            tx.runs.start("sch1", s, d)
            for s, d in (("es2", "pull"), ("es2", "push"), ("es2", "pull"), ("o7", "pull"))
        ]
        tx.runs.finish(ids[0], "failed", error="x")
    with store.read() as tx:
        runs = tx.queries.runs(RunFilter(school_id="sch1", system="es2"), Paging(10))
        last = tx.queries.last_runs("sch1")
        failed = tx.queries.runs(RunFilter(statuses=("failed",)))
    assert [r.id for r in runs.items] == [ids[2], ids[1], ids[0]]
    assert sorted(r.id for r in last) == [ids[1], ids[2], ids[3]]
    assert [r.id for r in failed.items] == [ids[0]]


def test_outbox_listing_and_totals(store: Store) -> None:
    with store.begin() as tx:
        tx.outbox.enqueue_many(
            [
                NewPush("sch1", s, "marks", f"r{n}", "upsert", f"k{s}{n}", {})
                for s in ("es2", "o7")
                for n in range(3)
            ]
        )
    with store.read() as tx:
        es2 = tx.queries.outbox(OutboxFilter(system="es2"), Paging(2))
        totals = tx.queries.outbox_totals("sch1", by=("system", "status"))
        some = tx.queries.outbox(OutboxFilter(record_ids=("r1",)))
    assert (len(es2.items), es2.total) == (2, 3)
    assert totals == {("es2", "pending"): 3, ("o7", "pending"): 3}
    assert sorted(i.system for i in some.items) == ["es2", "o7"]


def test_conflicts_since_a_time_newest_first(store: Store) -> None:
    import datetime as dt

    from sqlalchemy import update

    from store.conflicts import CONFLICTS

    _findings(store)
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with store.begin() as tx:
        tx.conn.execute(
            update(CONFLICTS)
            .where(CONFLICTS.c.record_id.in_(["m10", "m11"]))
            .values(created_at=old)
        )
    since = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with store.read() as tx:
        recent = tx.queries.conflicts(
            ConflictFilter(statuses=("rejected",), since=since, newest_first=True), Paging(2)
        )
    assert [c.record_id for c in recent.items] == ["m14", "m13"] and recent.total == 3


def test_the_overview_lists_configured_pairs_that_never_ran(store: Store) -> None:
    """A configured (school, system) with no run yet is still a row of the console's overview
    (on PostgreSQL the pairs once went as a JSON text the database took for one string)."""
    configured = [("sch1", "es2"), ("sch1", "o7"), ("sch2", "asiou")]
    with store.read() as tx:
        page, _ = tx.queries.overview(configured=configured)
    assert sorted((r.school_id, r.system) for r in page.items) == sorted(configured)
