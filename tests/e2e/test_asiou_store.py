"""АСИОУ into the real store: a cut-short package leaves it unchanged, and receipts of pushes
survive a restart through the store's outbox, each item's outcome recorded exactly once."""

from __future__ import annotations

import time
from typing import Any

import pytest

from connectors.asiou import AsiouConnector
from connectors.base import PushItem, PushResult
from core.entities import Entity
from core.errors import ContractViolation
from fixtures.asiou import Simulator
from fixtures.generator import generate_school
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.asiou import to_canonical
from mapping.identity import resolve
from mapping.model import Record, Tombstone
from store import OutboxResult, Store
from tests.e2e.asiou_helpers import ENTITIES, connector

SYSTEM = "asiou"


@pytest.fixture(scope="module")
def tiny() -> SchoolData:
    return generate_school(13, "tiny")


def _store(db_url: str) -> Store:
    store = Store.open(db_url)
    store.upgrade()
    return store


def _apply_package(store: Store, conn: AsiouConnector, school: SchoolData) -> None:
    """Apply a whole package in one transaction; its checkpoint only with the complete page."""
    sid = school.school.id
    with store.begin() as tx:
        state = tx.checkpoints.get(sid, SYSTEM, "bundle")
        for page in conn.pull(None, state):
            records: list[Record] = []
            for wire in page.records:
                rec = to_canonical(page.entity, wire, school_id=sid)
                if not isinstance(rec, Tombstone):
                    records.append(resolve(rec, school.lookup))
            tx.records.upsert(page.entity, records, source=SYSTEM)
            if page.complete:
                tx.checkpoints.save(sid, SYSTEM, "bundle", page.state)


def _snapshot(store: Store, school: SchoolData) -> dict[str, Any]:
    with store.read() as tx:
        return {
            "checkpoint": tx.checkpoints.get(school.school.id, SYSTEM, "bundle"),
            "counts": {e: tx.records.count(e) for e in ENTITIES},
            "mark": tx.records.get(Entity.MARKS, [school.marks[0].id])[
                school.marks[0].id
            ].content(),
        }


def test_cut_short_package_changes_nothing_in_the_store(db_url: str, tiny: SchoolData) -> None:
    store = _store(db_url)
    sim = Simulator(tiny)
    with serve_in_thread(sim.app) as url:
        conn = connector(url)
        _apply_package(store, conn, tiny)
        before = _snapshot(store, tiny)
        assert before["counts"][Entity.MARKS] == len(tiny.marks)
        new_value = "2" if str(tiny.marks[0].value) != "2" else "3"
        sim.mutate(Entity.MARKS, tiny.marks[0].ext_ids["asiou"], Значение=new_value)
        sim.faults.force("cut")
        with pytest.raises(ContractViolation):
            _apply_package(store, conn, tiny)
        assert _snapshot(store, tiny) == before
        # the control: the same change in a whole package does reach the store
        _apply_package(store, conn, tiny)
        after = _snapshot(store, tiny)
        conn.close()
    assert after["mark"]["value"] == new_value and after["checkpoint"] != before["checkpoint"]
    store.close()


def _items(school: SchoolData, sim: Simulator) -> tuple[list[PushItem], dict[str, str]]:
    """Marks to push and the outcome each must get: accepted, or the rejection code."""
    closed = school.periods[0]
    classes = {c.id: c for c in school.classes}
    lessons_open = [
        x
        for x in school.lessons
        if classes[x.class_id].parallel > 1
        and not closed.covers(classes[x.class_id].parallel, x.date)
    ]
    lesson_closed = next(
        x for x in school.lessons if closed.covers(classes[x.class_id].parallel, x.date)
    )
    pupil = school.pupils[0].ext_ids["asiou"]

    def mark(key: str, lesson: str, value: str = "5", who: str = pupil) -> PushItem:
        payload = {
            "Учащийся": who,
            "Урок": lesson,
            "Значение": value,
            "ВидРаботы": "Ответ на уроке",
            "Вес": "1",
        }
        return PushItem(key=key, entity=Entity.MARKS, op="upsert", payload=payload)

    items = [mark(f"ok-{i}", x.ext_ids["asiou"]) for i, x in enumerate(lessons_open[:5])]
    items += [
        mark("closed", lesson_closed.ext_ids["asiou"]),
        mark("nobody", lessons_open[0].ext_ids["asiou"], who="U0"),
        mark("invalid", lessons_open[0].ext_ids["asiou"], value="."),
    ]
    outcome = {i.key: "accepted" for i in items[:5]}
    outcome.update(
        closed="ПЕРИОД_ЗАКРЫТ", nobody="УЧАЩИЙСЯ_НЕ_НАЙДЕН", invalid="НЕДОПУСТИМОЕ_ЗНАЧЕНИЕ"
    )
    return items, outcome


_OUTBOX = {
    "created": "accepted",
    "updated": "accepted",
    "deleted": "accepted",
    "rejected": "rejected",
    "pending": "sent",
}


def _record(store: Store, results: list[PushResult]) -> int:
    with store.begin() as tx:
        ids = {i.idempotency_key: i.id for i in tx.outbox.find(school_id="sch1", system=SYSTEM)}
        rows = [
            OutboxResult(ids[r.key], _OUTBOX[r.status], ticket=r.ticket, error=r.error)
            for r in results
        ]
        tx.outbox.record(rows)
    return len(rows)


def _tickets(store: Store, sid: str) -> list[str]:
    """The receipt tickets of items sent and awaiting their outcome — all the store keeps."""
    with store.read() as tx:
        sent = tx.outbox.find(status="sent", school_id=sid, system=SYSTEM)
    return [i.ticket for i in sent if i.ticket]


def test_restart_between_import_and_receipt_records_each_outcome_once(
    db_url: str, tiny: SchoolData
) -> None:
    store = _store(db_url)
    sim = Simulator(tiny, delay=0.3, closed_periods={tiny.periods[0].ext_ids["asiou"]})
    items, outcome = _items(tiny, sim)
    sid = tiny.school.id
    with store.begin() as tx:
        for item in items:
            tx.outbox.enqueue(
                sid, SYSTEM, "marks", f"rec-{item.key}", "upsert", item.key, item.payload
            )
    by_key = {i.key: i for i in items}
    with serve_in_thread(sim.app) as url:
        # process 1 posts the package, then dies before recording the receipt id
        with store.begin() as tx:
            claimed = tx.outbox.claim(sid, SYSTEM)
        first = connector(url)
        assert {
            r.status for r in first.push(Entity.MARKS, [by_key[c.idempotency_key] for c in claimed])
        } == {"pending"}
        first.close()
        # process 2: items left "sending" are sent again (same ВнешнийИд), receipts recorded
        with store.begin() as tx:  # recovery: what a crash left "sending" goes back to pending
            stuck = tx.outbox.find(status="sending", school_id=sid, system=SYSTEM)
            assert len(stuck) == len(items)
            tx.outbox.record([OutboxResult(i.id, "pending") for i in stuck])
            claimed = tx.outbox.claim(sid, SYSTEM)
        second = connector(url)
        sent = second.push(Entity.MARKS, [by_key[c.idempotency_key] for c in claimed])
        _record(store, sent)
        second.close()
        # process 3: only the tickets in the store; poll until every receipt is processed
        third = connector(url)
        recorded = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            tickets = _tickets(store, sid)
            if not tickets:
                break
            recorded += _record(
                store, [r for r in third.poll(list(tickets)) if r.status != "pending"]
            )
            time.sleep(0.1)
        assert _tickets(store, sid) == []
        assert third.poll([r.ticket for r in sent if r.ticket]) != []  # receipts stay readable
        third.close()
    assert recorded == len(items)  # each item's outcome recorded once
    with store.read() as tx:
        final = {i.idempotency_key: i for i in tx.outbox.find(school_id=sid, system=SYSTEM)}
    for key, want in outcome.items():
        if want == "accepted":
            assert final[key].status == "accepted", key
        else:
            assert final[key].status == "rejected" and (final[key].error or "").startswith(want), (
                key
            )
    # the system holds each accepted mark once, although the package was posted twice
    held = sim.held_marks()
    assert len(held) == 5 and len(sim.importer.external) == 5
    store.close()
