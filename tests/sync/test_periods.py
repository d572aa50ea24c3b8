"""Closing and reopening periods: a named person, an audit row, a change-log position; once
closed, the period's records are frozen for the journal; reopened, they are not."""

from __future__ import annotations

import pytest

from core.entities import Entity
from core.errors import GatewayError, StoreError
from mapping.model import Mark
from mapping.values import MarkValue
from store import Store
from sync.periods import close_period, list_periods, reopen_period
from tests.sync.journal_school import SCHOOL, journal, seed, stored


def _q1_mark_edit(store: Store) -> Mark:
    rec = stored(store, Entity.MARKS, "Mq1")
    assert isinstance(rec, Mark)
    return rec.model_copy(update={"value": MarkValue.parse("5" if str(rec.value) != "5" else "4")})


def test_close_and_reopen_are_audited_with_who_and_when(store: Store) -> None:
    seed(store)
    with store.read() as tx:
        position = len(tx.changes.read(0, limit=10**6))
    closed = close_period(store, "Q1", by="завуч Петрова")
    assert closed.period.closed and closed.by == "завуч Петрова" and closed.at is not None
    assert not journal(store).write([_q1_mark_edit(store)], actor="учитель").ok

    reopened = reopen_period(store, "Q1", by="директор")
    assert not reopened.period.closed and reopened.by == "директор"
    assert journal(store).write([_q1_mark_edit(store)], actor="учитель").ok
    with store.read() as tx:
        rows = [r for r in tx.history.of(Entity.PERIODS, "Q1") if "closed" in (r["new"] or {})]
        changes = [c for c in tx.changes.read(position, limit=100) if c.entity == "periods"]
    assert [(r["old"], r["new"], r["actor"]) for r in rows] == [
        ({"closed": False}, {"closed": True}, "завуч Петрова"),
        ({"closed": True}, {"closed": False}, "директор"),
    ]
    assert all(r["at"] is not None for r in rows)
    assert [c.record_id for c in changes] == ["Q1", "Q1"]  # feed consumers learn it too

    listed = {s.period.id: s for s in list_periods(store, SCHOOL)}
    assert [s.period.id for s in list_periods(store, SCHOOL)] == ["Q1", "Q2"]
    assert listed["Q1"].by == "директор" and not listed["Q1"].period.closed
    assert listed["Q2"].by is None and listed["Q2"].at is None


def test_closing_needs_a_name_a_period_and_a_change(store: Store) -> None:
    seed(store)
    with pytest.raises(GatewayError, match="--by"):
        close_period(store, "Q1", by="  ")
    with pytest.raises(StoreError, match="no period Q7"):
        close_period(store, "Q7", by="завуч")
    with pytest.raises(StoreError, match="already open"):
        reopen_period(store, "Q1", by="завуч")
    close_period(store, "Q1", by="завуч")
    with pytest.raises(StoreError, match="already closed"):
        close_period(store, "Q1", by="завуч")
    with store.read() as tx:
        rows = [r for r in tx.history.of(Entity.PERIODS, "Q1") if r["op"] == "update"]
    assert len(rows) == 1  # the refused attempts left nothing
