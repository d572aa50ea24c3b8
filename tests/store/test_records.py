"""Bulk upsert, soft delete and reads of canonical records, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from core.entities import Entity
from core.errors import StoreError
from mapping.model import Mark
from store import Store, Tx
from store.changelog import CHANGES
from store.records import AUDIT
from tests.store.conftest import SCHOOL, lesson, mark, pupil


def _log_sizes(store: Store) -> tuple[int, int]:
    with store.read() as tx:
        audit = tx.conn.execute(select(func.count()).select_from(AUDIT)).scalar_one()
        changes = tx.conn.execute(select(func.count()).select_from(CHANGES)).scalar_one()
    return audit, changes


def _link(tx: Tx, records: list[Mark]) -> None:
    """The links a pull makes with the records it creates (the identity map holds them)."""
    for system in ("es2",):
        tx.identity.link_many(
            SCHOOL,
            system,
            Entity.MARKS,
            {r.ext_ids[system]: r.id for r in records if system in r.ext_ids},
        )


def test_new_records_are_created_with_a_change_log_row_each(store: Store) -> None:
    marks = [mark(i) for i in range(30)]
    with store.begin() as tx:
        counts = tx.records.upsert(Entity.MARKS, marks, source="es2", actor="sync", run_id=7)
        _link(tx, marks)
    assert (counts.created, counts.updated, counts.unchanged) == (30, 0, 0)
    assert counts.ids_changed == tuple(m.id for m in marks)
    # a creation is recorded by its change-log row; audit rows are for updates and deletes
    assert _log_sizes(store) == (0, 30)
    with store.read() as tx:
        got = tx.records.get(Entity.MARKS, [m.id for m in marks])
        created = tx.changes.read(0)[3]
        assert tx.history.of(Entity.MARKS, "mark-3") == []
    assert got == {m.id: m for m in marks}
    assert (created.record_id, created.op, created.version) == ("mark-3", "create", 1)
    assert (created.source, created.actor, created.run_id) == ("es2", "sync", 7)


def test_the_same_batch_twice_writes_nothing(store: Store) -> None:
    marks = [mark(i) for i in range(25)]
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, marks, source="es2")
    before = _log_sizes(store)
    with store.begin() as tx:
        again = tx.records.upsert(Entity.MARKS, marks, source="es2")
        versions = tx.records.hashes(Entity.MARKS, [m.id for m in marks])
    assert (again.created, again.updated, again.unchanged, again.ids_changed) == (0, 0, 25, ())
    assert _log_sizes(store) == before
    assert {v for _, v in versions.values()} == {1}


def test_a_changed_record_writes_one_audit_and_one_change_row(store: Store) -> None:
    marks = [mark(i) for i in range(10)]
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, marks, source="es2")
    audit0, changes0 = _log_sizes(store)
    changed = [*marks[:4], mark(4, "3"), *marks[5:]]
    with store.begin() as tx:
        counts = tx.records.upsert(Entity.MARKS, changed, source="o7", actor="teacher-1")
        history = tx.history.of(Entity.MARKS, "mark-4")
        stored = tx.records.hashes(Entity.MARKS, ["mark-4"])
    with store.read() as tx:  # a unit's change-log rows are written as it commits
        cursor_changes = tx.changes.read(changes0)
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 9)
    assert counts.ids_changed == ("mark-4",)
    assert _log_sizes(store) == (audit0 + 1, changes0 + 1)
    [change] = cursor_changes
    assert (change.record_id, change.op, change.version, change.source) == (
        "mark-4",
        "update",
        2,
        "o7",
    )
    assert change.natural_key is None  # only tombstones carry it
    last = history[-1]
    assert (last["op"], last["old"], last["new"], last["actor"]) == (
        "update",
        {"value": "5"},
        {"value": "3"},
        "teacher-1",
    )
    assert stored["mark-4"] == (mark(4, "3").content_hash, 2)


def test_metadata_alone_is_not_a_change(store: Store) -> None:
    m = mark(1)
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [m], source="es2")
    moved = m.model_copy(update={"ext_ids": {"o7": "abc"}, "modified_at": dt.datetime.now(dt.UTC)})
    with store.begin() as tx:
        assert tx.records.upsert(Entity.MARKS, [moved], source="o7").unchanged == 1


def test_delete_leaves_a_tombstone_with_the_natural_key(store: Store) -> None:
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(i) for i in range(6)], source="es2")
        _link(tx, [mark(2)])
    with store.read() as tx:
        start = tx.changes.read(0)[-1].position
    with store.begin() as tx:
        assert (
            tx.records.delete(
                Entity.MARKS, ["mark-2", "mark-2", "missing"], source="local", actor="zam"
            )
            == 1
        )
        # deleting again finds nothing live
        assert tx.records.delete(Entity.MARKS, ["mark-2"], source="local") == 0
    with store.read() as tx:
        [tomb] = tx.changes.read(start)
        assert (tomb.op, tomb.record_id, tomb.version) == ("delete", "mark-2", 2)
        assert tomb.natural_key == {"pupil_id": "pupil-2", "lesson_id": "lesson-2"}
        assert "mark-2" not in tx.records.get(Entity.MARKS, ["mark-2"])
        assert tx.records.get(Entity.MARKS, ["mark-2"], include_deleted=True)["mark-2"] == mark(2)
        assert "mark-2" not in tx.records.hashes(Entity.MARKS, ["mark-2"])
        assert tx.records.count(Entity.MARKS) == 5
        deleted = tx.history.of(Entity.MARKS, "mark-2")[-1]
        assert deleted["op"] == "delete" and deleted["new"] is None
        assert deleted["old"]["value"] == "5" and deleted["actor"] == "zam"


def test_a_deleted_record_that_comes_back_is_an_update(store: Store) -> None:
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
        tx.records.delete(Entity.MARKS, ["mark-1"], source="es2")
    with store.begin() as tx:
        counts = tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
        history = tx.history.of(Entity.MARKS, "mark-1")
        assert tx.records.hashes(Entity.MARKS, ["mark-1"])["mark-1"][1] == 3
    assert (counts.created, counts.updated) == (0, 1)
    assert history[-1]["op"] == "update"
    assert history[-1]["new"] == {"deleted_at": None}
    assert history[-1]["old"]["deleted_at"] is not None


def test_duplicates_in_a_batch_keep_the_last(store: Store) -> None:
    with store.begin() as tx:
        counts = tx.records.upsert(Entity.MARKS, [mark(1, "2"), mark(1, "4")], source="es2")
        assert counts.created == 1
        assert str(tx.records.get(Entity.MARKS, ["mark-1"])["mark-1"].value) == "4"


def test_a_record_of_another_entity_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="pupils record pupil-1"), store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [pupil(1)], source="es2")  # type: ignore[list-item]


def test_chunks_larger_than_one_statement(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("store.records.CHUNK", 7)
    marks = [mark(i) for i in range(30)]
    with store.begin() as tx:
        assert tx.records.upsert(Entity.MARKS, marks, source="es2").created == 30
    with store.begin() as tx:
        counts = tx.records.upsert(
            Entity.MARKS, [*marks[:20], mark(20, "2"), *marks[21:]], source="es2"
        )
        assert (counts.updated, counts.unchanged) == (1, 29)
    with store.read() as tx:
        positions = [c.position for c in tx.changes.read(0, limit=100)]
    assert positions == list(range(positions[0], positions[0] + 31))


def test_ids_in_scope_for_a_windowed_read(store: Store) -> None:
    days = [dt.date(2026, 2, d) for d in (2, 3, 4, 5, 6)]
    lessons = [lesson(i, days[i]) for i in range(5)]
    other = lesson(9, days[2], cls="class-6b")
    with store.begin() as tx:
        tx.records.upsert(Entity.LESSONS, [*lessons, other], source="es2")
        tx.records.upsert(Entity.MARKS, [mark(i, lesson=i % 5) for i in range(10)], source="es2")
        tx.records.upsert(Entity.MARKS, [mark(50, lesson=9)], source="es2")
        tx.records.delete(Entity.MARKS, ["mark-8"], source="es2")
    window = {"date_from": days[1], "date_to": days[3]}
    with store.read() as tx:
        assert tx.records.ids_in_scope(Entity.LESSONS, SCHOOL, class_id="class-5a", **window) == {
            "lesson-1", "lesson-2", "lesson-3"
        }  # fmt: skip
        assert tx.records.ids_in_scope(Entity.MARKS, SCHOOL, class_id="class-5a", **window) == {
            "mark-1", "mark-2", "mark-3", "mark-6", "mark-7"
        }  # fmt: skip
        assert tx.records.ids_in_scope(Entity.MARKS, SCHOOL, **window) >= {"mark-50"}
        assert tx.records.ids_in_scope(Entity.MARKS, SCHOOL, pupil_id=["pupil-1", "pupil-2"]) == {
            "mark-1", "mark-2", "mark-9", "mark-50"  # mark-8 (pupil-1) is deleted
        }  # fmt: skip
        assert tx.records.ids_in_scope(Entity.MARKS, "another-school") == set()
        with pytest.raises(StoreError, match="no filter"):
            tx.records.ids_in_scope(Entity.MARKS, SCHOOL, colour="red")


def test_ids_in_scope_linked_to_a_system_and_excluding_seen_ids(store: Store) -> None:
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(i) for i in range(6)], source="es2")
        tx.identity.link_agreed(
            "sch1", "es2", Entity.MARKS, [(f"e{i}", f"mark-{i}", None) for i in range(4)]
        )
        tx.identity.link_agreed("sch1", "o7", Entity.MARKS, [("x5", "mark-5", None)])
    with store.read() as tx:
        assert tx.records.ids_in_scope(Entity.MARKS, SCHOOL, linked_to="es2") == {
            "mark-0", "mark-1", "mark-2", "mark-3"
        }  # fmt: skip
        seen = {f"mark-{i}" for i in (0, 2, 5)} | {f"unknown-{i}" for i in range(3000)}
        assert tx.records.ids_in_scope(Entity.MARKS, SCHOOL, linked_to="es2", excluding=seen) == {
            "mark-1", "mark-3"
        }  # fmt: skip
        assert tx.records.ids_in_scope(Entity.MARKS, SCHOOL, excluding=seen) == {
            "mark-1", "mark-3", "mark-4"
        }  # fmt: skip


def test_ids_in_scope_stream_in_byte_order_on_every_engine(db_url: str) -> None:
    """A snapshot's close merges them with ids held sorted by Python: a database's collation
    (a Russian or English one folds case and skips punctuation) must not decide the order."""
    ids = ["b", "B", "a-2", "a_1", "A", "0f", "ff", "e9", "Ё", "е", "mark_x", "mark-x"]
    marks = [mark(i).model_copy(update={"id": gid}) for i, gid in enumerate(ids)]
    store = Store.open(db_url)
    store.upgrade()
    if store.engine.dialect.name == "postgresql":  # as on a server created with a locale
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                'ALTER TABLE marks ALTER COLUMN id TYPE varchar(64) COLLATE "en-US-x-icu"'
            )
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, marks, source="es2")
        tx.records.delete(Entity.MARKS, ["ff"], source="es2")
        tx.identity.link_agreed(
            "sch1", "es2", Entity.MARKS, [(f"e{n}", gid, None) for n, gid in enumerate(ids[1:])]
        )
    with store.read() as tx:
        streamed = list(tx.records.iter_ids_in_scope(Entity.MARKS, SCHOOL, linked_to="es2"))
        everything = list(tx.records.iter_ids_in_scope(Entity.MARKS, SCHOOL))
    store.close()
    assert streamed == sorted(set(ids[1:]) - {"ff"})
    assert everything == sorted(set(ids) - {"ff"})


def test_iter_records_streams_live_records_of_a_school(store: Store) -> None:
    pupils = [pupil(i) for i in range(5)]
    with store.begin() as tx:
        tx.records.upsert(Entity.PUPILS, pupils, source="asiou")
        tx.records.delete(Entity.PUPILS, ["pupil-0"], source="asiou")
    with store.read() as tx:
        got = list(tx.records.iter(Entity.PUPILS, SCHOOL, batch=2))
    assert got == pupils[1:]


def test_a_failed_unit_of_work_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
        raise RuntimeError("crash after the write")
    assert _log_sizes(store) == (0, 0)
    with store.read() as tx:
        assert tx.records.get(Entity.MARKS, ["mark-1"]) == {}


def test_a_record_read_carries_its_ids_from_the_identity_map(store: Store) -> None:
    """One source of truth: a link made at any time (a push brings an id back) is the record's
    id in that system for every reader — get, record_states, iter and earlier versions."""
    local = mark(1).model_copy(update={"ext_ids": {}})
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [local], source="local")
    with store.begin() as tx:
        tx.identity.link_agreed(
            "sch1", "es2", Entity.MARKS, [("7001", "mark-1", local.content_hash)]
        )
        tx.identity.link_many("sch1", "o7", Entity.MARKS, {"guid-1": "mark-1"})
        tx.records.upsert(Entity.MARKS, [mark(1, "4")], source="local")
    want = {"es2": "7001", "o7": "guid-1"}
    with store.read() as tx:
        assert tx.records.get(Entity.MARKS, ["mark-1"])["mark-1"].ext_ids == want
        state, _ = tx.records.record_states(Entity.MARKS, ["mark-1"])["mark-1"]
        assert state is not None and state.ext_ids == want
        assert [r.ext_ids for r in tx.records.iter(Entity.MARKS, SCHOOL)] == [want]
        before = tx.history.content_at(Entity.MARKS, "mark-1", local.content_hash)
        assert before is not None and before.ext_ids == want
        assert tx.identity.ext_ids_of("mark-1") == want


def test_a_record_of_one_school_is_never_written_as_another_schools(store: Store) -> None:
    """A write naming one school's record as another's (no pull does: identity links are kept
    per school — tests/sync/test_two_schools.py) is refused with both schools named, and the
    first school's record stays as it was."""
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
    other = mark(1, "2", school="sch2")
    refused = r"marks mark-1 belongs to school sch1, not sch2"
    with pytest.raises(StoreError, match=refused), store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [other], source="es2")
    with store.read() as tx:
        kept = tx.records.get(Entity.MARKS, ["mark-1"])["mark-1"]
    assert (kept.school_id, kept.content_hash) == ("sch1", mark(1).content_hash)


def test_a_whole_snapshots_seen_ids_are_not_sent_to_the_database(store: Store) -> None:
    """A complete read of a large school closes its scope with every id it read: sent in the
    query, they would cost their text and the database's index of it on top of the set the
    pull holds. Past ``EXCLUDED_IN_QUERY`` they are left out as the ids come back."""
    sent: list[int] = []

    def size(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        sent.append(len(str(params)))

    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(i) for i in range(6)], source="es2")
        tx.identity.link_agreed(
            "sch1", "es2", Entity.MARKS, [(f"e{i}", f"mark-{i}", None) for i in range(6)]
        )
    seen = {f"mark-{i}" for i in (0, 2, 5)} | {f"unknown-{i}" for i in range(20_000)}
    event.listen(store.engine, "before_cursor_execute", size)
    try:
        with store.read() as tx:
            found = tx.records.ids_in_scope(Entity.MARKS, SCHOOL, linked_to="es2", excluding=seen)
    finally:
        event.remove(store.engine, "before_cursor_execute", size)
    assert found == {"mark-1", "mark-3", "mark-4"}
    assert max(sent) < 10_000  # 20,000 ids would be over 300,000 characters


def test_a_unit_writes_on_after_closing_a_whole_snapshot(store: Store) -> None:
    """The scope's ids read back in batches must not leave the unit's connection streaming: on
    PostgreSQL every later statement would go through a server-side cursor, and an INSERT there
    is a syntax error (found by the xlarge school's sync on PostgreSQL)."""
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(i) for i in range(3)], source="es2")
        seen = {f"unknown-{i}" for i in range(20_000)}
        assert tx.records.ids_in_scope(Entity.MARKS, SCHOOL, excluding=seen) == {
            "mark-0",
            "mark-1",
            "mark-2",
        }
        assert "stream_results" not in tx.conn.get_execution_options()
        tx.records.upsert(Entity.MARKS, [mark(3)], source="es2")
        tx.checkpoints.save(SCHOOL, "es2", "marks", {"read_to": "2026-05-31"})
    with store.read() as tx:
        assert tx.records.count(Entity.MARKS, school_id=SCHOOL) == 4
