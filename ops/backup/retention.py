"""Which backups to keep: a pure decision over ``(name, when it was made)``.

The regulations ask for a copy at least weekly and an archive at the end of each school year
(shared/domain.md: the database is formed by 1 September, so a school year runs 01.09–31.08):

* **weekly**: the newest copy of each ISO week, for the ``keep_weekly`` most recent weeks that
  have one (at least 1: the newest copy is always kept);
* **year-end**: the newest copy of each school year that has ended by ``today`` — made on or
  before 31.08 — is kept for good.

Everything else may be deleted. Dates are the local dates of the copies (the caller converts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

#: the last day of a school year: 31 August
YEAR_END = (8, 31)


@dataclass(frozen=True, slots=True)
class Backup:
    name: str
    created: dt.datetime


@dataclass(frozen=True, slots=True)
class Retention:
    """The decision: per kept backup why (Russian), and the names to delete (oldest first)."""

    keep: dict[str, list[str]] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)


def school_year(day: dt.date) -> int:
    """The year a school year starts in: 2025 for 01.09.2025 … 31.08.2026."""
    return day.year if (day.month, day.day) > YEAR_END else day.year - 1


def year_end(start_year: int) -> dt.date:
    return dt.date(start_year + 1, *YEAR_END)


def choose(backups: Iterable[Backup], *, keep_weekly: int, today: dt.date) -> Retention:
    if keep_weekly < 1:
        raise ValueError("keep_weekly must be at least 1: the newest copy is always kept")
    ordered = sorted(backups, key=lambda b: (b.created, b.name), reverse=True)  # newest first
    keep: dict[str, list[str]] = {}

    weeks: dict[tuple[int, int], Backup] = {}
    for b in ordered:
        iso = b.created.date().isocalendar()
        weeks.setdefault((iso.year, iso.week), b)
    for (year, week), b in sorted(weeks.items(), reverse=True)[:keep_weekly]:
        keep.setdefault(b.name, []).append(f"еженедельная копия ({week:02d}-я неделя {year} г.)")

    years: dict[int, Backup] = {}
    for b in ordered:
        years.setdefault(school_year(b.created.date()), b)
    for start, b in sorted(years.items()):
        end = year_end(start)
        if today > end:
            keep.setdefault(b.name, []).append(
                f"архив {start}/{start + 1} учебного года (конец года {end:%d.%m.%Y})"
            )

    drop = [b.name for b in reversed(ordered) if b.name not in keep]
    return Retention(keep, drop)
