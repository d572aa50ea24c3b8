"""``sync.resolutions``: what a person decides — conflicts, holds, identity reviews — directly."""

from __future__ import annotations

import pytest

from core.entities import Entity
from core.errors import GatewayError, StoreError
from mapping.model import Mark
from store import NewFinding, OutboxFilter, Paging, Store
from sync.resolutions import approve_hold, decide_identity, discard_hold, resolve_conflict
from tests.store.conftest import mark, pupil


def _held(store: Store, value: str) -> tuple[Mark, int]:
    m = mark(1)
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [m], source="es2")
        tx.identity.link_agreed("sch1", "es2", Entity.MARKS, [("9001", m.id, m.content_hash)])
        incoming = {**m.content(), "value": value}
        tx.conflicts.add_findings(
            [
                NewFinding(
                    "sch1", "es2", "marks", m.id, "both_changed", "open",
                    incoming=incoming, current=m.content(),
                )
            ]
        )  # fmt: skip
        [c] = tx.queries.conflicts().items
    return m, c.id


def test_take_remote_writes_the_systems_version_and_agrees_on_it(store: Store) -> None:
    m, cid = _held(store, "2")
    resolved = resolve_conflict(store, cid, "remote", by="завуч")
    assert (resolved.status, resolved.resolution, resolved.resolved_by) == (
        "resolved",
        "take-remote",
        "завуч",
    )
    with store.read() as tx:
        now = tx.records.get(Entity.MARKS, [m.id])[m.id]
        assert isinstance(now, Mark) and str(now.value) == "2"
        assert tx.identity.agreements("es2", Entity.MARKS, [m.id]) == {m.id: now.content_hash}
        assert tx.history.of(Entity.MARKS, m.id)[-1]["actor"] == "завуч"
    with pytest.raises(StoreError, match="not open"):
        resolve_conflict(store, cid, "remote", by="завуч")


def test_take_local_keeps_the_store_and_queues_it_to_that_system_once(store: Store) -> None:
    m, cid = _held(store, "2")
    resolve_conflict(store, cid, "local", by="завуч")
    with store.read() as tx:
        assert str(tx.records.get(Entity.MARKS, [m.id])[m.id].value) == str(m.value)  # type: ignore[attr-defined]
        queued = tx.queries.outbox(OutboxFilter(school_id="sch1"), Paging(10)).items
    assert [(i.system, i.record_id, i.payload.get("conflict")) for i in queued] == [
        ("es2", m.id, cid)
    ]


def test_holds_are_approved_or_discarded_once(store: Store) -> None:
    with store.begin() as tx:
        a = tx.holds.add("sch1", "asiou", "mass_deactivation", {"detail": "x"})
        b = tx.holds.add("sch1", "asiou", "empty_roster", {"detail": "y"})
    assert approve_hold(store, a, by="админ").school_id == "sch1"
    discard_hold(store, b, by="админ")
    with store.read() as tx:
        assert [(h.id, h.status) for h in tx.queries.holds().items] == [
            (a, "approved"),
            (b, "discarded"),
        ]
    with pytest.raises(StoreError):
        approve_hold(store, b, by="админ")


def test_an_identity_is_linked_only_to_a_person_who_exists(store: Store) -> None:
    p = pupil(1)
    with store.begin() as tx:
        tx.records.upsert(Entity.PUPILS, [p], source="asiou")
        first = tx.reviews.add("sch1", "es2", Entity.PUPILS, "55001", [p.id], "same name")
        second = tx.reviews.add("sch1", "es2", Entity.PUPILS, "55002", [p.id], "same name")
    with pytest.raises(GatewayError, match="no pupils record"):
        decide_identity(store, first, link_to="nobody", by="админ")
    decide_identity(store, first, link_to=p.id, by="админ")
    decide_identity(store, second, link_to=None, by="админ")
    with store.read() as tx:
        assert tx.identity.lookup("sch1", "es2", Entity.PUPILS, ["55001", "55002"]) == {
            "55001": p.id
        }
        assert [r.status for r in tx.queries.reviews().items] == ["linked", "rejected"]
