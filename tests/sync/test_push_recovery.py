"""Pushes recover (issue 12, part C): an item the system did not answer for is not refused but
sent again with the same key; whatever stops a push leaves nothing ``sending`` and no run
``running``; an unreadable receipt costs only its own items; error texts hold no personal data;
after a push the record knows its id in the system; a push the system already holds is settled
without being sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.base import PushResult
from core.entities import Entity
from core.errors import TransientError
from fixtures.school import SchoolData
from mapping.model import Mark
from tests.sync.conftest import BOTH, pull
from tests.sync.crash_helpers import write_local_marks
from tests.sync.push_faults import Clock, push_with
from tests.sync.worlds import ASIOU_CODE, World, asiou_server, open_world, system_table

SNILS = "112-233-445 95"


def _outbox(world: World) -> list[Any]:
    with world.store.read() as tx:
        return tx.outbox.find(status=None, limit=10_000)


def _statuses(world: World) -> Counter[str]:
    return Counter(o.status for o in _outbox(world))


def _runs(world: World) -> list[Any]:
    with world.store.read() as tx:
        return tx.runs.find(limit=100)


def _es2_marks(world: World) -> dict[int, dict[str, Any]]:
    col = world.sim.state.col("marks")  # type: ignore[attr-defined]
    return {i: it for i, it in col.items.items() if not it.get("deleted")}


def _local(world: World, new: int = 3, changed: int = 0, prefix: str = "local-") -> list[Mark]:
    made, edited = write_local_marks(world, new, changed, prefix=prefix)
    return [*made, *edited]


# -- 10: no answer is not a refusal -----------------------------------------------------------
def test_an_item_missing_from_the_answer_is_failed_and_sent_again_with_its_key(
    world: World,
) -> None:
    assert pull(world).status == "success"
    marks = _local(world, 3)
    before = len(_es2_marks(world))
    clock = Clock()

    report, _ = push_with(world, clock=clock, drop=1)  # the answer lacks the second item

    assert report.status == "partial"
    assert report.counts.as_dict() == {"marks": {"created": 2, "failed": 1, "sent": 3}}
    by_status = {o.status: o for o in _outbox(world)}
    assert set(by_status) == {"accepted", "failed"}
    lost = by_status["failed"]
    assert "no answer" in (lost.error or "")
    assert lost.next_attempt_at is not None and lost.next_attempt_at > clock.now
    with world.store.read() as tx:  # not a refusal: nothing for the operator to correct
        assert tx.conflicts.find(status="rejected") == []

    # the next run before the backoff has passed leaves it waiting …
    early, _ = push_with(world, clock=clock)
    assert early.counts.as_dict() == {} and _statuses(world)["failed"] == 1
    # … and after it, sends it again with the same key: the system had it already
    clock.advance(hours=1)
    again, resent = push_with(world, clock=clock)
    assert resent.sent == [[lost.idempotency_key]]
    assert again.status == "success" and again.counts.as_dict() == {
        "marks": {"duplicate": 1, "sent": 1}
    }
    assert _statuses(world) == Counter(accepted=2, duplicate=1)
    assert len(_es2_marks(world)) == before + len(marks)  # each mark once


def test_a_timeout_after_sending_fails_the_batch_and_a_retry_sends_it_once(world: World) -> None:
    assert pull(world).status == "success"
    marks = _local(world, 2)
    before = len(_es2_marks(world))
    clock = Clock()
    timeout = TransientError("read timed out after sending", system="es2")

    report, _ = push_with(world, clock=clock, after=timeout)

    assert report.status == "failed" and "read timed out" in (report.error or "")
    assert _statuses(world) == Counter(failed=2)
    assert len(_es2_marks(world)) == before + 2  # the system did take them

    # ``schoolgate outbox retry --failed``: due now, whatever the backoff says
    with world.store.begin() as tx:
        assert tx.outbox.retry() == {(world.school_config.id, "es2"): 2}
    again, resent = push_with(world, clock=clock)
    assert again.status == "success" and len(resent.sent[0]) == 2
    # the same keys: ES2 answers the request it already served, and holds each mark once
    assert _statuses(world).keys() <= {"accepted", "duplicate"}
    assert len(_es2_marks(world)) == before + len(marks)


class Interrupted(BaseException):
    """What a KeyboardInterrupt or a stopping worker looks like to the push."""


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(RuntimeError("the connector broke"), id="RuntimeError"),
        pytest.param(Interrupted("stopped"), id="BaseException"),
    ],
)
def test_any_exception_mid_push_leaves_nothing_sending_and_no_run_running(
    world: World, fault: BaseException
) -> None:
    assert pull(world).status == "success"
    _local(world, 6)

    if isinstance(fault, Exception):
        report, _ = push_with(world, batch=2, on=2, after=fault)
        assert report.status == "failed"
    else:
        with pytest.raises(Interrupted):
            push_with(world, batch=2, on=2, after=fault)

    # the first batch went through, the second's outcome is unknown, the third was never sent
    assert _statuses(world) == Counter(accepted=2, failed=2, pending=2)
    [run, *_] = _runs(world)
    assert run.direction == "push" and run.status == "failed"
    assert type(fault).__name__ in (run.error or "") and str(fault) in (run.error or "")
    assert run.counts == {"marks": {"created": 2, "failed": 2, "sent": 4}}
    failed = [o for o in _outbox(world) if o.status == "failed"]
    assert all("the push stopped" in (o.error or "") for o in failed)
    # and the next run carries on: the pending ones now, the failed ones when due
    later, _ = push_with(world)
    assert later.status == "success" and _statuses(world) == Counter(accepted=4, failed=2), (
        _statuses(world)
    )


def test_a_fault_before_anything_was_sent_gives_the_claimed_items_back(world: World) -> None:
    assert pull(world).status == "success"
    _local(world, 4)
    report, _ = push_with(world, batch=2, on=1, before=RuntimeError("no connection"))
    assert report.status == "failed"
    # the batch handed over is unknown; nothing else was claimed for long: all pending again
    assert _statuses(world) == Counter(failed=2, pending=2)
    with world.store.read() as tx:
        pending = tx.outbox.find(status="pending")
    assert {o.attempts for o in pending} == {0}  # a claim that sent nothing is no attempt


# -- 18: error texts hold no personal data ----------------------------------------------------
def test_a_remote_refusal_naming_a_pupil_is_stored_redacted(world: World) -> None:
    assert pull(world).status == "success"
    _local(world, 1)

    def refuse(results: list[PushResult]) -> list[PushResult]:
        return [
            PushResult(
                r.key,
                "rejected",
                error=f"pupil Иванова Анна Петровна (СНИЛС {SNILS}) is not in the class",
            )
            for r in results
        ]

    report, _ = push_with(world, answer=refuse)
    assert report.status == "partial"
    [item] = _outbox(world)
    with world.store.read() as tx:
        [finding] = tx.conflicts.find(status="rejected")
    for text in (item.error or "", finding.detail or ""):
        assert "is not in the class" in text
        assert SNILS not in text and "Иванова" not in text


def test_an_exception_echoing_a_record_leaves_no_personal_data_in_the_run(world: World) -> None:
    assert pull(world).status == "success"
    _local(world, 1)
    echo = RuntimeError(f"1 validation error for Pupil\nsnils\n  input_value='{SNILS}'")
    report, _ = push_with(world, after=echo)
    [run, *_] = _runs(world)
    [item] = _outbox(world)
    for text in (run.error or "", report.error or "", item.error or ""):
        assert "RuntimeError" in text and "validation error" in text
        assert SNILS not in text


# -- 12: one source of truth for the record's id in the system --------------------------------
def test_after_a_push_the_record_knows_its_id_in_the_system(world: World) -> None:
    assert pull(world).status == "success"
    [mark] = _local(world, 1)
    with world.store.read() as tx:
        assert tx.records.get(Entity.MARKS, [mark.id])[mark.id].ext_ids == {}
    report, _ = push_with(world)
    assert report.status == "success"
    [item] = _outbox(world)
    with world.store.read() as tx:
        rec = tx.records.get(Entity.MARKS, [mark.id])[mark.id]
        linked = tx.identity.ext_of("es2", Entity.MARKS, [mark.id])
        listed = {r.id: r for r in tx.records.iter(Entity.MARKS, world.school_config.id)}
    assert item.remote_id and rec.ext_ids == {"es2": item.remote_id} == {"es2": linked[mark.id]}
    assert listed[mark.id].ext_ids == rec.ext_ids
    assert int(item.remote_id) in _es2_marks(world)


# -- 10: an unreadable receipt fails that receipt only ----------------------------------------
@pytest.fixture
def aworld(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    with asiou_server(tiny_school, delay=0.0) as (sim, url):
        w = open_world(
            f"sqlite:///{tmp_path}/s.db",
            tiny_school,
            {"asiou": system_table("asiou", url, ASIOU_CODE, BOTH)},
        )
        w.sim = sim  # type: ignore[attr-defined]
        yield w


def test_a_lost_receipt_fails_its_items_only_and_the_rest_of_the_outbox_goes_out(
    aworld: World,
) -> None:
    assert pull(aworld, "asiou").status == "success"
    first = _local(aworld, 3)
    sent, _ = push_with(aworld, "asiou", batch=1)  # one package, one receipt per mark
    assert sent.counts.total("awaiting") == 3
    with aworld.store.read() as tx:
        tickets = tx.outbox.tickets(aworld.school_config.id, "asiou")
    assert len(tickets) == 3
    lost_ticket = sorted(tickets)[1]
    [lost_id] = tickets[lost_ticket]
    receipt_id = next(r for r in aworld.sim.importer.tickets if r in lost_ticket)  # type: ignore[attr-defined]
    del aworld.sim.importer.tickets[receipt_id]  # type: ignore[attr-defined]
    more = _local(aworld, 1, prefix="more-")  # queued meanwhile: must not wait for a lost receipt
    assert {m.id for m in more}.isdisjoint(m.id for m in first)
    clock = Clock()

    polled, connector = push_with(aworld, "asiou", clock=clock)

    assert polled.status == "partial", polled.error
    assert polled.counts.as_dict() == {
        "marks": {"awaiting": 1, "created": 2, "failed": 1, "sent": 1}
    }
    by_id = {o.id: o for o in _outbox(aworld)}
    assert by_id[lost_id].status == "failed" and by_id[lost_id].ticket is None
    assert "receipt could not be read" in (by_id[lost_id].error or "")
    assert connector.sent and len(connector.sent[0]) == 1  # the new mark went out
    # the lost one is sent again with the same key when due; АСИОУ replaces, never doubles
    clock.advance(hours=1)
    push_with(aworld, "asiou", clock=clock)
    aworld.sim.process_now()  # type: ignore[attr-defined]
    push_with(aworld, "asiou", clock=clock)
    assert _statuses(aworld) == Counter(accepted=4)
    assert len(aworld.sim.held_marks()) == 4  # type: ignore[attr-defined]
