"""What a journal-control report covers: a marking period by name («I четверть») or a calendar
month (``2025-10``) — the days of lessons, the classes (a period names its parallels), the periods
whose period marks are checked — as of a day (lessons after it are not held yet)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mapping.model import Period
from reports import text
from reports.errors import ReportError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class ControlScope:
    label: str
    start: dt.date
    #: the last day of the period or month
    end: dt.date
    as_of: dt.date
    #: periods whose period marks are checked against the current marks
    period_ids: tuple[str, ...] = ()
    #: parallels the period covers (``None``: every class)
    parallels: frozenset[int] | None = None
    kind: str = "month"  # or "period"

    @property
    def last_day(self) -> dt.date:
        """The last day whose lessons count: the end, or the report's day if earlier."""
        return min(self.end, self.as_of)

    @property
    def weeks(self) -> int:
        """Calendar weeks from the start to the last day (at least 1)."""
        return max(1, ((self.last_day - self.start).days + 7) // 7)


def _norm(name: str) -> str:
    return " ".join(name.replace("ё", "е").casefold().split())


def month_scope(month: str, periods: Mapping[str, Period], as_of: dt.date) -> ControlScope:
    m = _MONTH.match(month.strip())
    if m is None or not 1 <= int(m[2]) <= 12:
        raise ReportError(f"--month must be YYYY-MM, got {month!r}")
    year, number = int(m[1]), int(m[2])
    start = dt.date(year, number, 1)
    end = dt.date(year, number, calendar.monthrange(year, number)[1])
    ending = tuple(sorted(p.id for p in periods.values() if start <= p.end <= end))
    label = f"{text.MONTHS[number - 1]} {year} г. ({text.day(start)}–{text.day(end)})"
    return ControlScope(label, start, end, as_of, ending, None, "month")


def period_scope(name: str, periods: Mapping[str, Period], as_of: dt.date) -> ControlScope:
    """Every period of that name (one per group of parallels, say «I четверть» of grades 2–9
    and of grade 1) taken together."""
    found = [p for p in periods.values() if _norm(p.name) == _norm(name) or p.id == name]
    if not found:
        known = ", ".join(sorted({f"«{p.name}»" for p in periods.values()})) or "нет периодов"
        raise ReportError(f"no period {name!r} in the school (known: {known})")
    start = min(p.start for p in found)
    end = max(p.end for p in found)
    parallels = frozenset(n for p in found for n in p.parallels)
    label = f"{found[0].name} ({text.day(start)}–{text.day(end)})"
    ids = tuple(sorted(p.id for p in found))
    return ControlScope(label, start, end, as_of, ids, parallels, "period")


def resolve_scope(
    periods: Mapping[str, Period], *, period: str | None, month: str | None, as_of: dt.date
) -> ControlScope:
    """``--period`` or ``--month``; neither: the month of ``as_of``."""
    if period and month:
        raise ReportError("give --period or --month, not both")
    if period:
        return period_scope(period, periods, as_of)
    return month_scope(month or as_of.strftime("%Y-%m"), periods, as_of)
