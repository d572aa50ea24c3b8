"""Connector options (``[schools.systems.es2] options = {…}``), validated once at construction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError

MAX_WINDOW_DAYS = 92


@dataclass(frozen=True)
class ES2Options:
    #: items per page (``limit``, ≤ 1000)
    page_size: int = 500
    #: the academic year lessons are read over; default: the current academic year
    year_start: dt.date | None = None
    year_end: dt.date | None = None
    #: lesson windows are at most this long (the contract allows ≤ 92 days)
    lesson_window_days: int = MAX_WINDOW_DAYS
    #: an incremental lesson read re-reads [today - recent, today + ahead]
    lesson_recent_days: int = 14
    lesson_ahead_days: int = 7
    #: the next ``changed_since`` is the newest ``updated_at`` seen minus this overlap
    changed_since_overlap_s: float = 60.0
    max_restarts: int = 3
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    push_batch_size: int = 500
    #: fixes "today" (tests, replays); default: the local date
    today: dt.date | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ES2Options:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)}", key="es2.options")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            default = getattr(cls, name)
            try:
                if name in ("year_start", "year_end", "today"):
                    values[name] = (
                        value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
                    )
                elif isinstance(default, float):
                    values[name] = float(value)
                else:
                    values[name] = int(value)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"bad value for option {name}", key=f"es2.options.{name}"
                ) from None
        opts = cls(**values)
        if not 1 <= opts.page_size <= 1000:
            raise ConfigError("page_size must be 1..1000", key="es2.options.page_size")
        if not 1 <= opts.lesson_window_days <= MAX_WINDOW_DAYS:
            raise ConfigError(
                "lesson_window_days must be 1..92", key="es2.options.lesson_window_days"
            )
        if not 1 <= opts.push_batch_size <= 500:
            raise ConfigError("push_batch_size must be 1..500", key="es2.options.push_batch_size")
        return opts

    def academic_year(self, today: dt.date) -> tuple[dt.date, dt.date]:
        start_year = today.year if today.month >= 9 else today.year - 1
        start = self.year_start or dt.date(start_year, 9, 1)
        end = self.year_end or dt.date(start.year + 1, 8, 31)
        return start, end


def windows(start: dt.date, end: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """``[start, end]`` cut into consecutive windows of at most ``days`` days (both ends included)."""
    out = []
    cur = start
    while cur <= end:
        stop = min(end, cur + dt.timedelta(days=days - 1))
        out.append((cur, stop))
        cur = stop + dt.timedelta(days=1)
    return out
