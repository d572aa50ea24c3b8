"""Schedules as pure decisions: cron in a time zone, the school's fixed jitter, blackouts,
which expression a job follows, the retry backoff."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from pydantic import ValidationError

from ops.schedule import (
    Blackout,
    JobSchedule,
    ScheduleSettings,
    backoff,
    blackout_end,
    in_blackout,
    jitter,
    next_fire,
)

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
NKZ = zoneinfo.ZoneInfo("Asia/Novokuznetsk")
UTC = dt.UTC


def at(h: int, m: int = 0, tz: dt.tzinfo = MSK, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 3, day, h, m, tzinfo=tz)


def test_cron_is_read_in_the_time_zone() -> None:
    fire = next_fire("0 7 * * *", at(6, 0, UTC), NKZ, dt.timedelta(0))
    assert fire == at(7, 0, NKZ, day=3).astimezone(UTC)  # 07:00 Novokuznetsk is 00:00 UTC
    assert next_fire("0 7 * * *", at(6, 0), MSK, dt.timedelta(0)) == at(7).astimezone(UTC)


def test_jitter_is_fixed_per_school_and_spreads_schools() -> None:
    assert jitter("sch42", 30) == jitter("sch42", 30)
    offsets = {jitter(f"sch{i}", 30) for i in range(500)}
    assert all(dt.timedelta(0) <= o < dt.timedelta(minutes=30) for o in offsets)
    assert len(offsets) > 400  # 500 schools do not start together
    minutes = [o.total_seconds() // 60 for o in offsets]
    assert min(minutes) == 0 and max(minutes) == 29  # the whole window is used
    assert jitter("sch42", 0) == dt.timedelta(0)


def test_jittered_schedule_moves_the_fire_time_by_the_offset() -> None:
    offset = jitter("sch42", 30)
    s = JobSchedule("0 7 * * *", MSK, offset)
    assert s.next_run(at(6)) == (at(7) + offset).astimezone(UTC)
    # just after the plain time but before the school's own: still today
    assert s.next_run(at(7) + offset / 2) == (at(7) + offset).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "end", "when", "inside"),
    [
        ("01:00", "04:00", (0, 59), False),
        ("01:00", "04:00", (1, 0), True),
        ("01:00", "04:00", (3, 59), True),
        ("01:00", "04:00", (4, 0), False),
        ("23:30", "04:00", (23, 45), True),  # across midnight
        ("23:30", "04:00", (0, 30), True),
        ("23:30", "04:00", (12, 0), False),
    ],
)
def test_blackout_windows(start: str, end: str, when: tuple[int, int], inside: bool) -> None:
    assert in_blackout(Blackout(start=start, end=end), at(*when), MSK) is inside


def test_a_fire_time_inside_the_blackout_moves_to_its_end() -> None:
    window = Blackout(start="23:30", end="04:00")
    s = JobSchedule("0 1 * * *", MSK, blackout=window)
    assert s.next_run(at(12)) == at(4, day=3).astimezone(UTC)
    assert blackout_end(window, at(23, 45), MSK) == at(4, day=3).astimezone(UTC)
    assert blackout_end(window, at(1, 0), MSK) == at(4).astimezone(UTC)
    assert s.blocked_until(at(2)) == at(4).astimezone(UTC)
    assert s.blocked_until(at(5)) is None


def test_next_runs_skip_the_blackout_without_repeating() -> None:
    s = JobSchedule("0 * * * *", MSK, blackout=Blackout(start="01:00", end="03:00"))
    runs = s.next_runs(at(0, 30), 4)
    assert [r.astimezone(MSK).hour for r in runs] == [3, 4, 5, 6]


def test_seconds_field_for_fast_schedules() -> None:
    s = JobSchedule("* * * * * */5", UTC)
    assert s.next_runs(at(12, 0, UTC), 3) == [
        at(12, 0, UTC) + dt.timedelta(seconds=k) for k in (5, 10, 15)
    ]


def test_which_expression_a_job_follows() -> None:
    settings = ScheduleSettings.model_validate(
        {
            "defaults": {
                "*": {"pull": "0 6 * * *", "push": "*/30 * * * *"},
                "o7": {"pull": "0 5 * * *"},
            },
            "schools": {"sch42": {"o7": {"pull": "15 5 * * *"}}},
        }
    )
    assert settings.cron("sch42", "o7", "pull") == "15 5 * * *"  # the school's own
    assert settings.cron("sch1", "o7", "pull") == "0 5 * * *"  # the system's default
    assert settings.cron("sch1", "o7", "push") == "*/30 * * * *"  # any system's
    assert settings.cron("sch1", "es2", "pull", "0 8 * * *") == "0 8 * * *"  # systems.X.schedule
    assert ScheduleSettings().cron("sch1", "es2", "pull") is None


def test_invalid_schedules_are_refused() -> None:
    with pytest.raises(ValidationError, match="not a cron expression"):
        ScheduleSettings.model_validate({"defaults": {"es2": {"pull": "every morning"}}})
    with pytest.raises(ValidationError):
        ScheduleSettings.model_validate({"blackouts": {"o7": {"start": "25:00", "end": "04:00"}}})
    with pytest.raises(ValidationError, match="unknown time zone"):
        ScheduleSettings.model_validate({"timezone": "Mars/Olympus"})


def test_backoff_doubles_up_to_its_ceiling() -> None:
    assert [backoff(a, 60, 600).total_seconds() for a in range(1, 7)] == [
        60, 120, 240, 480, 600, 600,
    ]  # fmt: skip
