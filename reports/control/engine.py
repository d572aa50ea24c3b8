"""The shell of the journal-control report: read the span's rows through the read side — a fixed
number of statements whatever the school's size (the roster, lessons, marks, attendance, period
marks, two for the history) — and hand them to the pure checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reports.control.checks import ControlInput, evaluate
from reports.control.model import ControlResult
from reports.control.scope import ControlScope, resolve_scope
from reports.control.settings import ControlSettings
from store import Tx
from store.queries import Roster, Span
from sync.rules import Deadlines


@dataclass(frozen=True)
class ControlRun:
    school_id: str
    school_name: str
    tz: dt.tzinfo
    scope: ControlScope
    roster: Roster
    result: ControlResult
    settings: ControlSettings
    deadlines: Deadlines
    made_at: dt.datetime


def run_control(
    tx: Tx,
    school_id: str,
    *,
    period: str | None = None,
    month: str | None = None,
    settings: ControlSettings | None = None,
    deadlines: Deadlines | None = None,
    tz: dt.tzinfo = dt.UTC,
    school_name: str = "",
    now: dt.datetime | None = None,
    roster: Roster | None = None,
) -> ControlRun:
    """Check the school's journal over a period (by name) or a month (``YYYY-MM``), as of
    ``now`` (default: the present, in the school's time zone); ``roster``: the school's, when
    the caller has read it in the same transaction already."""
    settings = settings or ControlSettings()
    deadlines = deadlines or Deadlines(timezone=tz)
    made_at = now or dt.datetime.now(dt.UTC)
    as_of = made_at.astimezone(tz).date()
    q = tx.queries
    roster = roster if roster is not None else q.roster(school_id)
    scope = resolve_scope(roster.periods, period=period, month=month, as_of=as_of)
    class_ids = (
        None
        if scope.parallels is None
        else [cid for cid, c in roster.classes.items() if c.parallel in scope.parallels]
    )
    first = min([scope.start, *(roster.periods[p].start for p in scope.period_ids)])
    wide = Span(first, scope.last_day)
    span = Span(scope.start, scope.last_day)
    data = ControlInput(
        scope=scope,
        roster=roster,
        lessons=q.control_lessons(school_id, wide, class_ids),
        marks=q.control_marks(school_id, wide, class_ids),
        absences=q.control_attendance(school_id, span, class_ids),
        period_marks=q.control_period_marks(school_id, scope.period_ids),
        changes=q.control_changes(school_id, span, scope.period_ids, class_ids),
        deadlines=deadlines,
        settings=settings,
    )
    return ControlRun(
        school_id,
        school_name or school_id,
        tz,
        scope,
        roster,
        evaluate(data),
        settings,
        deadlines,
        made_at,
    )
