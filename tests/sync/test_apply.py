"""``sync.apply`` on a real store: each step of applying planned decisions, directly."""

from __future__ import annotations

from collections.abc import Sequence

from core.entities import Entity
from mapping.model import Mark
from mapping.values import MarkValue
from store import ConflictFilter, OutboxFilter, Paging, Store
from sync.apply import ApplyContext, apply_decisions
from sync.counts import RunCounts
from sync.plan import Decision, Op, Stored
from sync.rules import Finding
from tests.store.conftest import mark

CTX = ApplyContext("sch1", "es2", None, {Entity.MARKS: ("es2", "asiou", "o7")}, "manual")


def _apply(
    store: Store,
    decisions: Sequence[Decision],
    links: Sequence[tuple[str, str]] = (),
    stored: dict[str, Stored] | None = None,
) -> RunCounts:
    counts = RunCounts()
    with store.begin() as tx:
        apply_decisions(tx, CTX, Entity.MARKS, decisions, stored or {}, links, counts)
    return counts


def test_created_records_are_written_linked_agreed_and_queued_to_the_other_systems_only(
    store: Store,
) -> None:
    m = mark(1)
    counts = _apply(
        store,
        [Decision(Op.CREATE, m.id, record=m, incoming=m, agreed_hash=m.content_hash)],
        links=[("9001", m.id)],
    )
    assert counts.as_dict() == {"marks": {"created": 1}}
    with store.read() as tx:
        assert m.id in tx.records.get(Entity.MARKS, [m.id])
        assert tx.identity.lookup("sch1", "es2", Entity.MARKS, ["9001"]) == {"9001": m.id}
        assert tx.identity.agreements("es2", Entity.MARKS, [m.id]) == {m.id: m.content_hash}
        queued = tx.queries.outbox(OutboxFilter(school_id="sch1"), Paging(100)).items
    # never back to the system it came from
    assert sorted(i.system for i in queued) == ["asiou", "o7"]
    assert all(i.op == "upsert" and i.payload["origin"] == "es2" for i in queued)


def test_unchanged_and_held_decisions_write_nothing_and_queue_nothing(store: Store) -> None:
    m = mark(2)
    _apply(store, [Decision(Op.CREATE, m.id, record=m, incoming=m, agreed_hash=m.content_hash)])
    with store.read() as tx:
        before = tx.queries.outbox_totals("sch1")
    changed = m.model_copy(update={"value": MarkValue.parse("3")})
    held = Finding("closed_period", "lesson in closed period p1", None, True)
    counts = _apply(
        store,
        [
            Decision(Op.UNCHANGED, m.id, current=m),
            Decision(Op.CONFLICT, m.id, incoming=changed, current=m, findings=(held,)),
        ],
    )
    assert counts.as_dict() == {"marks": {"conflicts": 1, "unchanged": 1}}
    with store.read() as tx:
        assert tx.queries.outbox_totals("sch1") == before
        stored = tx.records.get(Entity.MARKS, [m.id])[m.id]
        [conflict] = tx.queries.conflicts(ConflictFilter(statuses=("open",))).items
    assert isinstance(stored, Mark) and str(stored.value) == str(m.value)
    assert (conflict.kind, conflict.incoming and conflict.incoming["value"]) == (
        "closed_period",
        "3",
    )


def test_the_same_held_change_read_again_is_one_row_on_the_queue(store: Store) -> None:
    m = mark(3)
    _apply(store, [Decision(Op.CREATE, m.id, record=m, incoming=m)])
    changed = m.model_copy(update={"value": MarkValue.parse("2")})
    held = Finding("closed_period", "lesson in closed period p1", None, True)
    again = Decision(Op.CONFLICT, m.id, incoming=changed, current=m, findings=(held,))
    _apply(store, [again])
    _apply(store, [again])
    other = changed.model_copy(update={"value": MarkValue.parse("4")})
    _apply(store, [Decision(Op.CONFLICT, m.id, incoming=other, current=m, findings=(held,))])
    with store.read() as tx:
        page = tx.queries.conflicts(ConflictFilter(statuses=("open",)))
    assert page.total == 2  # the repeat is not queued again; a different incoming version is


def test_a_deletion_is_queued_as_a_delete_and_the_agreement_moves_only_when_it_changed(
    store: Store,
) -> None:
    m = mark(4)
    _apply(
        store,
        [Decision(Op.CREATE, m.id, record=m, incoming=m, agreed_hash=m.content_hash)],
        links=[("9004", m.id)],
    )
    counts = _apply(store, [Decision(Op.DELETE, m.id, current=m)])
    assert counts.as_dict() == {"marks": {"deleted": 1}}
    with store.read() as tx:
        assert tx.records.get(Entity.MARKS, [m.id]) == {}
        deletes = tx.queries.outbox(OutboxFilter(school_id="sch1"), Paging(100)).items
    assert sorted((i.system, i.op) for i in deletes if i.op == "delete") == [
        ("asiou", "delete"),
        ("o7", "delete"),
    ]
