from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.o7._windows import (
    Window,
    format_local_time,
    parse_date,
    parse_local_time,
    recent_windows,
    year_windows,
)


@given(
    st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)),
    st.integers(min_value=0, max_value=800),
    st.integers(min_value=1, max_value=31),
)
def test_windows_cover_the_year_without_gaps_or_long_windows(
    start: dt.date, length: int, max_days: int
) -> None:
    end = start + dt.timedelta(days=length)
    windows = year_windows(start, end, max_days)
    assert windows[0].start == start and windows[-1].end == end
    for a, b in itertools.pairwise(windows):
        assert b.start == a.end + dt.timedelta(days=1)
    assert all(1 <= w.days <= max_days for w in windows)


def test_windows_follow_calendar_months() -> None:
    windows = year_windows(dt.date(2025, 9, 1), dt.date(2026, 5, 31))
    assert len(windows) == 9
    assert windows[1] == Window(dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    assert windows[1].wire() == {"date_from": "01.10.2025", "date_to": "31.10.2025"}


def test_recent_windows_are_the_last_begun() -> None:
    windows = year_windows(dt.date(2025, 9, 1), dt.date(2026, 5, 31))
    got = recent_windows(windows, dt.date(2025, 11, 5), 2)
    assert [w.start.month for w in got] == [10, 11]
    assert recent_windows(windows, dt.date(2025, 8, 1), 2) == []


def test_bad_ranges() -> None:
    with pytest.raises(ValueError):
        year_windows(dt.date(2025, 9, 2), dt.date(2025, 9, 1))
    with pytest.raises(ValueError):
        year_windows(dt.date(2025, 9, 1), dt.date(2025, 9, 30), 0)


def test_moscow_local_time_becomes_aware_utc() -> None:
    msk = zoneinfo.ZoneInfo("Europe/Moscow")
    moment = parse_local_time("14.10.2025 15:02:11", msk)
    assert moment == dt.datetime(2025, 10, 14, 12, 2, 11, tzinfo=dt.UTC)
    assert moment.tzinfo is not None
    assert format_local_time(moment, msk) == "14.10.2025 15:02:11"
    assert parse_date("01.09.2025") == dt.date(2025, 9, 1)
    with pytest.raises(ValueError):
        parse_date("2025-09-01")
