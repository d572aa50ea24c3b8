"""Date windows and О7's date/time spellings (pure).

О7 reads lessons, marks and absences only by lesson-date windows of at most 31 days. The
academic year is cut on a fixed grid — calendar months, each cut further when the limit is
shorter — so that an incremental read re-reads exactly the windows a full read produced, and a
window is the unit of "completely read".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

#: О7 answers a longer window with ``success: false`` "Период не более 31 дня"
MAX_WINDOW_DAYS = 31
DATE_FORMAT = "%d.%m.%Y"
TIME_FORMAT = "%d.%m.%Y %H:%M:%S"
_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")
_TIME = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})")


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """Lesson dates ``start``..``end``, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def wire(self) -> dict[str, str]:
        return {"date_from": format_date(self.start), "date_to": format_date(self.end)}


def _month_end(day: dt.date) -> dt.date:
    first_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_next - dt.timedelta(days=1)


def year_windows(start: dt.date, end: dt.date, max_days: int = MAX_WINDOW_DAYS) -> list[Window]:
    """``start``..``end`` cut at month boundaries into windows of at most ``max_days`` days."""
    if max_days < 1:
        raise ValueError("a window needs at least one day")
    if end < start:
        raise ValueError("the year ends before it starts")
    out: list[Window] = []
    day = start
    while day <= end:
        stop = min(_month_end(day), end, day + dt.timedelta(days=max_days - 1))
        out.append(Window(day, stop))
        day = stop + dt.timedelta(days=1)
    return out


def recent_windows(windows: list[Window], today: dt.date, count: int) -> list[Window]:
    """The last ``count`` windows that have begun by ``today`` (the ones still being written)."""
    begun = [w for w in windows if w.start <= today]
    return begun[-count:] if count > 0 else []


def format_date(day: dt.date) -> str:
    return day.strftime(DATE_FORMAT)


def parse_date(text: str) -> dt.date:
    """``DD.MM.YYYY`` → date; ``ValueError`` otherwise (a regex: ``strptime`` is slow)."""
    m = _DATE.fullmatch(text.strip())
    if m is None:
        raise ValueError("not a date DD.MM.YYYY")
    return dt.date(int(m[3]), int(m[2]), int(m[1]))


def parse_local_time(text: str, zone: dt.tzinfo) -> dt.datetime:
    """``DD.MM.YYYY HH:MM:SS`` in ``zone`` (О7 sends Moscow time without an offset) → aware UTC."""
    m = _TIME.fullmatch(text.strip())
    if m is None:
        raise ValueError("not a time DD.MM.YYYY HH:MM:SS")
    naive = dt.datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4]), int(m[5]), int(m[6]))
    return naive.replace(tzinfo=zone).astimezone(dt.UTC)


def format_local_time(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """An aware time as О7 writes it: local to ``zone``, no offset."""
    return moment.astimezone(zone).strftime(TIME_FORMAT)
