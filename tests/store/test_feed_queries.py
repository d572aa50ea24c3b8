"""The feed's read side on both engines: events rendered by the database (record JSON with dates,
timestamps, booleans and lists as JSON; tombstone keys; hidden fields), up to the committed
head, scoped to one pupil; snapshot listings paged by id."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from core.entities import Entity
from mapping.model import Lesson, Period
from store import FeedPage, FeedScope, SnapshotFilter, Store
from tests.store.conftest import SCHOOL, lesson, mark, pupil


def _events(store: Store, after: int = 0, **kw: Any) -> list[dict[str, Any]]:
    with store.read() as tx:
        head = tx.queries.feed_head()
        page = tx.queries.feed_page(after, head, 1000, schools=kw.pop("schools", [SCHOOL]), **kw)
    return page.events()


def _positions(page: FeedPage) -> list[int]:
    return [int(e["cursor"].removeprefix("f1."), 16) for e in page.events()]


def _period(closed: bool) -> Period:
    return Period(
        id="q1", school_id=SCHOOL, name="I четверть", kind="quarter", parallels=(5, 6),
        start=dt.date(2025, 9, 1), end=dt.date(2025, 10, 26), closed=closed,
    )  # fmt: skip


def test_events_render_records_as_json_on_both_engines(store: Store) -> None:
    created = dt.datetime(2025, 9, 8, 11, 48, 13, 884451, tzinfo=dt.UTC)
    m = mark(1).model_copy(update={"created_at": created})
    with store.begin() as tx:
        tx.records.upsert(Entity.PERIODS, [_period(False)], source="es2")
        tx.records.upsert(Entity.LESSONS, [lesson(1, dt.date(2025, 9, 8))], source="es2")
        tx.records.upsert(Entity.MARKS, [m], source="es2", actor="t")
        tx.records.upsert(Entity.PUPILS, [pupil(3)], source="asiou")
    events = _events(store, hidden={"pupils": ("birth_date", "snils")})
    period, les, mk, pup = events
    assert period["data"] == {
        "id": "q1", "version": 1, "closed": False, "end": "2025-10-26", "kind": "quarter",
        "name": "I четверть", "parallels": [5, 6], "start": "2025-09-01",
    }  # fmt: skip
    assert les["data"]["date"] == "2025-09-08" and les["data"]["topic"] == "Тема 1"
    assert les["data"]["subgroup_id"] is None
    assert mk["data"]["value"] == "5" and mk["data"]["weight"] == m.weight
    assert dt.datetime.fromisoformat(mk["data"]["created_at"]) == created
    assert "birth_date" not in pup["data"] and pup["data"]["last_name"] == "Иванова"
    assert [e["cursor"] for e in events] == [f"f1.{i:x}" for i in range(1, 5)]
    for e in events:
        assert e["school"] == SCHOOL and e["op"] == "create" and e["version"] == 1
        assert e["key"] is None
        assert dt.datetime.fromisoformat(e["at"]).tzinfo is not None
    assert [e["source"] for e in events] == ["es2", "es2", "es2", "asiou"]
    with store.begin() as tx:
        tx.records.upsert(Entity.PERIODS, [_period(True)], source="es2")
    assert _events(store, after=4)[0]["data"]["closed"] is True


def test_tombstones_and_superseded_versions(store: Store) -> None:
    day = dt.date(2025, 10, 1)
    with store.begin() as tx:
        tx.records.upsert(Entity.LESSONS, [lesson(2, day, cls="class-5b")], source="es2")
        tx.records.upsert(Entity.MARKS, [mark(7, lesson=2)], source="es2")
        tx.records.upsert(Entity.PUPILS, [pupil(1)], source="es2")
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(7, "3", lesson=2)], source="o7")
        tx.records.delete(Entity.MARKS, ["mark-7"], source="es2")
        tx.records.delete(Entity.PUPILS, ["pupil-1"], source="es2")
    events = _events(store)
    assert [(e["entity"], e["op"], e["data"] is None) for e in events] == [
        ("lessons", "create", False),
        ("marks", "create", True),  # superseded by later versions
        ("pupils", "create", True),  # deleted since
        ("marks", "update", True),
        ("marks", "delete", True),
        ("pupils", "delete", True),
    ]
    assert events[4]["key"] == {
        "school": SCHOOL, "pupil_id": "pupil-0", "lesson_id": "lesson-2", "class_id": "class-5b",
        "subgroup_id": None, "subject_id": "subject-math", "date": "2025-10-01",
    }  # fmt: skip
    assert events[5]["key"] == {"school": SCHOOL, "class_id": "class-5a"}


def test_pages_stop_at_the_committed_head_and_follow_schools(store: Store) -> None:
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(i) for i in range(3)], source="es2")
        tx.records.upsert(Entity.MARKS, [mark(9, school="sch2")], source="es2")
    with store.read() as tx:
        head = tx.queries.feed_head()
        assert head == 4
        assert _positions(tx.queries.feed_page(0, 2, 10, schools=[SCHOOL])) == [1, 2]
        other = tx.queries.feed_page(0, head, 10, schools=["sch2"])
        assert [e["id"] for e in other.events()] == ["mark-9"] and other.last == 4
        both = tx.queries.feed_page(1, head, 2, schools=[SCHOOL, "sch2"])
        assert _positions(both) == [2, 3] and both.last == 3
        assert tx.queries.feed_page(head, head, 10, schools=[SCHOOL]).last is None


def test_a_pupil_scope_sees_the_pupils_marks_lessons_and_reference_data(store: Store) -> None:
    day = dt.date(2025, 10, 1)
    group_lesson = Lesson(
        id="lesson-g", school_id=SCHOOL, class_id="class-5a", subgroup_id="g1",
        subject_id="subject-math", date=day, number=2,
    )  # fmt: skip
    other_group = group_lesson.model_copy(update={"id": "lesson-h", "subgroup_id": "g2"})
    with store.begin() as tx:
        tx.records.upsert(Entity.PUPILS, [pupil(0), pupil(1)], source="es2")
        tx.records.upsert(
            Entity.LESSONS,
            [lesson(0, day), lesson(1, day, cls="class-5b"), group_lesson, other_group],
            source="es2",
        )
        tx.records.upsert(Entity.MARKS, [mark(0), mark(1), mark(7)], source="es2")
        tx.records.upsert(Entity.PERIODS, [_period(False)], source="es2")
    scope = FeedScope("pupil-0", "class-5a", ["g1"], own=["marks"], shared=["periods"])
    seen = [(e["entity"], e["id"]) for e in _events(store, scope=scope, flagged=["pupils"])]
    assert seen == [
        ("pupils", "pupil-0"),
        ("lessons", "lesson-0"),
        ("lessons", "lesson-g"),
        ("marks", "mark-0"),
        ("marks", "mark-7"),  # pupil-0 again (n % 7)
        ("periods", "q1"),
    ]
    with store.read() as tx:
        page = tx.queries.feed_page(
            0, tx.queries.feed_head(), 100, schools=[SCHOOL], flagged=["pupils"]
        )
    assert page.shown == [(SCHOOL, "pupils", "pupil-0"), (SCHOOL, "pupils", "pupil-1")]


def test_snapshot_listing_pages_by_id_and_filters(store: Store) -> None:
    with store.begin() as tx:
        tx.records.upsert(
            Entity.LESSONS,
            [lesson(i, dt.date(2025, 9, 1 + i), cls="class-5a" if i % 2 else "class-5b")
             for i in range(6)],
            source="es2",
        )  # fmt: skip
        tx.records.upsert(Entity.MARKS, [mark(i, lesson=i % 6) for i in range(20)], source="es2")
        tx.records.upsert(Entity.PUPILS, [pupil(i) for i in range(3)], source="es2")
        tx.records.delete(Entity.MARKS, ["mark-3"], source="es2")
    with store.read() as tx:
        q = tx.queries
        first = q.snapshot(Entity.MARKS, SCHOOL, SnapshotFilter(), after_id=None, limit=5)
        rest = q.snapshot(
            Entity.MARKS, SCHOOL, SnapshotFilter(), after_id=first[-1]["id"], limit=50
        )
        in_5a = q.snapshot(
            Entity.MARKS, SCHOOL, SnapshotFilter(class_id="class-5a"), after_id=None, limit=50
        )
        dated = q.snapshot(
            Entity.LESSONS,
            SCHOOL,
            SnapshotFilter(date_from=dt.date(2025, 9, 2), date_to=dt.date(2025, 9, 3)),
            after_id=None,
            limit=50,
        )
        one = q.snapshot(
            Entity.PUPILS, SCHOOL, SnapshotFilter(pupil_id="pupil-2"), after_id=None, limit=5
        )
        place = q.pupil_place(SCHOOL, "pupil-1")
    ids = [m["id"] for m in first + rest]
    assert ids == sorted(f"mark-{i}" for i in range(20) if i != 3)
    assert {m["id"] for m in in_5a} == {f"mark-{i}" for i in range(20) if i % 6 % 2 and i != 3}
    assert [x["id"] for x in dated] == ["lesson-1", "lesson-2"]
    assert [p["id"] for p in one] == ["pupil-2"] and one[0]["birth_date"] == "2014-05-03"
    assert place == ("class-5a", [])


def test_an_sqlite_that_loses_the_json_subtype_gets_the_same_events(
    store: Store, monkeypatch: Any
) -> None:
    """Where SQLite keeps a JSON value's subtype through CASE and a subquery, a record's object
    nests without being parsed again; where it would not, the statement parses it with
    ``json()``. Both give the same events, byte for byte."""
    import store.queries.feed as feed

    if store.dialect != "sqlite":
        return  # PostgreSQL builds JSONB; the subtype is SQLite's alone
    with store.begin() as tx:
        tx.records.upsert(Entity.PERIODS, [_period(False)], source="es2")
        tx.records.upsert(Entity.LESSONS, [lesson(1, dt.date(2025, 9, 8))], source="es2")
        tx.records.upsert(Entity.MARKS, [mark(1), mark(2)], source="es2")
        tx.records.delete(Entity.MARKS, ["mark-2"], source="es2")

    def raw() -> bytes:
        with store.read() as tx:
            head = tx.queries.feed_head()
            return tx.queries.feed_page(0, head, 1000, schools=[SCHOOL]).body

    assert feed._sqlite_keeps_json_subtype() is True  # this machine's SQLite: the fast path
    fast = raw()
    assert all(e["data"] is None or e["data"]["id"] for e in json.loads(b"[" + fast + b"]"))
    monkeypatch.setattr(feed, "_sqlite_keeps_json_subtype", lambda: False)
    feed._compiled.cache_clear()
    try:
        assert raw() == fast
    finally:
        feed._compiled.cache_clear()
