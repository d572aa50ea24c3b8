"""What a reconciliation is asked to compare — entities, a class, a period — and the window of
the journal that makes (:class:`~reports.reconcile.places.Window`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.entities import Entity
from mapping.model import Period, SchoolClass
from reports.errors import ReportError
from reports.reconcile.compare import text_key
from reports.reconcile.places import Window
from store.queries import Roster


@dataclass(frozen=True)
class Request:
    """``entities``: ``None`` for every entity the system can be read for; ``class_name`` (a
    class's name, «5А», or its id) and ``period`` (a period's name, «I четверть», or its id)
    narrow what is compared."""

    entities: frozenset[Entity] | None = None
    class_name: str | None = None
    period: str | None = None

    def scope(self) -> dict[str, Any]:
        return {
            "entities": None if self.entities is None else sorted(e.value for e in self.entities),
            "class": self.class_name,
            "period": self.period,
        }

    def scope_key(self) -> str:
        ents = "*" if self.entities is None else ",".join(sorted(e.value for e in self.entities))
        return f"{ents}|{self.class_name or '*'}|{self.period or '*'}"[:200]


def find_classes(roster: Roster, name: str) -> list[SchoolClass]:
    """Classes named ``name`` (compared as text is, case aside) or with that id."""
    key = text_key(name).casefold()
    found = [
        c
        for c in roster.classes.values()
        if isinstance(c, SchoolClass) and (c.id == name or text_key(c.name).casefold() == key)
    ]
    if not found:
        raise ReportError(f"no class {name!r} in the school")
    return found


def find_periods(roster: Roster, name: str) -> list[Period]:
    """Periods named ``name`` (one per group of parallels it covers) or with that id."""
    key = text_key(name).casefold()
    found = [
        p
        for p in roster.periods.values()
        if isinstance(p, Period) and (p.id == name or text_key(p.name).casefold() == key)
    ]
    if not found:
        raise ReportError(f"no period {name!r} in the school")
    return found


def period_days(periods: list[Period]) -> dict[int, tuple[dt.date, dt.date]]:
    """Parallel → the first and last day of the period that covers it."""
    return {n: (p.start, p.end) for p in periods for n in p.parallels}


def window_for(request: Request, roster: Roster) -> Window:
    if request.class_name is None and request.period is None:
        return Window()
    class_ids = (
        frozenset(c.id for c in find_classes(roster, request.class_name))
        if request.class_name
        else None
    )
    periods = find_periods(roster, request.period) if request.period else []
    return Window(
        class_ids=class_ids,
        days=period_days(periods) if periods else None,
        period_ids=frozenset(p.id for p in periods),
        class_parallel={
            c.id: c.parallel for c in roster.classes.values() if isinstance(c, SchoolClass)
        },
    )
