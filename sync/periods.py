"""Closing and reopening marking periods: what a deputy director does at a period's end.

``Period.closed`` belongs to the gateway (no system carries it, a pull keeps it) and only these
commands change it — the local journal refuses a write that does. Each close or reopen names the
person who does it and is audited like any change: an ``audit`` row (``closed`` false → true or
back, the actor, the time) and a change-log position, so feed consumers learn it too. Once a
period is closed its records are frozen (:func:`sync.rules.frozen`): the journal refuses local
changes touching it and a system's changes wait on the conflict queue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.entities import Entity
from core.errors import GatewayError, StoreError
from mapping.model import Period
from store import Store, Tx
from sync.journal import LOCAL


@dataclass(frozen=True, slots=True)
class PeriodState:
    """A period and who last closed or reopened it, when (``None``: never by command)."""

    period: Period
    by: str | None = None
    at: dt.datetime | None = None


def list_periods(store: Store, school_id: str) -> list[PeriodState]:
    """The school's periods by start date, each with its last close or reopen."""
    with store.read() as tx:
        periods = [p for p in tx.records.iter(Entity.PERIODS, school_id) if isinstance(p, Period)]
        out = [_state(tx, p) for p in periods]
    return sorted(out, key=lambda s: (s.period.start, s.period.end, s.period.id))


def close_period(store: Store, period_id: str, *, by: str) -> PeriodState:
    """Close a period: its marks, lessons, absences and period marks are frozen from now on."""
    return _set(store, period_id, closed=True, by=by)


def reopen_period(store: Store, period_id: str, *, by: str) -> PeriodState:
    """Reopen a closed period (a correction the school decided on, named and audited)."""
    return _set(store, period_id, closed=False, by=by)


def _set(store: Store, period_id: str, *, closed: bool, by: str) -> PeriodState:
    actor = by.strip()
    if not actor:
        raise GatewayError("say who closes or reopens the period (--by NAME)")
    with store.begin() as tx:
        found = tx.records.get(Entity.PERIODS, [period_id]).get(period_id)
        if not isinstance(found, Period):
            raise StoreError(f"no period {period_id}")
        if found.closed == closed:
            raise StoreError(f"period {period_id} is already {'closed' if closed else 'open'}")
        changed = Period.model_validate({**_fields(found), "closed": closed})
        tx.records.upsert(Entity.PERIODS, [changed], source=LOCAL, actor=actor)
        return _state(tx, changed)


def _fields(period: Period) -> dict[str, object]:
    return {name: getattr(period, name) for name in Period.model_fields}


def _state(tx: Tx, period: Period) -> PeriodState:
    for row in reversed(tx.history.of(Entity.PERIODS, period.id)):
        if row["op"] == "update" and "closed" in (row["new"] or {}):
            return PeriodState(period, row["actor"] or None, row["at"])
    return PeriodState(period)
