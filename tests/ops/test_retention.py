"""Which backups are kept: the newest of each of the last N weeks, and the newest of every school
year that has ended (a school year ends on 31.08) — a pure decision, tested on dates alone."""

from __future__ import annotations

import datetime as dt

import pytest

from ops.backup.retention import Backup, choose, school_year


def _b(day: str, hour: int = 3) -> Backup:
    d = dt.date.fromisoformat(day)
    return Backup(f"b-{day}-{hour:02d}", dt.datetime(d.year, d.month, d.day, hour))


def test_the_newest_of_each_of_the_last_n_weeks() -> None:
    # two copies a week for five weeks (Mondays and Thursdays of November 2026)
    days = ["2026-11-02", "2026-11-05", "2026-11-09", "2026-11-12", "2026-11-16", "2026-11-19",
            "2026-11-23", "2026-11-26", "2026-11-30"]  # fmt: skip
    backups = [_b(d) for d in days]
    kept = choose(backups, keep_weekly=3, today=dt.date(2026, 11, 30))
    assert sorted(kept.keep) == ["b-2026-11-19-03", "b-2026-11-26-03", "b-2026-11-30-03"]
    assert kept.drop == [b.name for b in backups if b.name not in kept.keep]  # oldest first
    assert "еженедельная" in kept.keep["b-2026-11-30-03"][0]


def test_several_copies_on_one_day_keep_the_latest() -> None:
    backups = [_b("2026-11-30", 1), _b("2026-11-30", 23), _b("2026-11-30", 12)]
    kept = choose(backups, keep_weekly=1, today=dt.date(2026, 11, 30))
    assert list(kept.keep) == ["b-2026-11-30-23"]
    assert kept.drop == ["b-2026-11-30-01", "b-2026-11-30-12"]


def test_the_last_copy_of_each_ended_school_year_is_kept_for_good() -> None:
    backups = [
        _b("2024-08-30"),  # last of 2023/2024
        _b("2024-09-02"),  # first of 2024/2025
        _b("2025-06-10"),
        _b("2025-08-31", 22),  # last of 2024/2025: 31.08 still belongs to it
        _b("2025-09-01", 1),  # 2025/2026 from the first minute of 01.09
        _b("2026-03-02"),
        _b("2026-03-09"),
    ]
    kept = choose(backups, keep_weekly=1, today=dt.date(2026, 3, 10))
    assert sorted(kept.keep) == ["b-2024-08-30-03", "b-2025-08-31-22", "b-2026-03-09-03"]
    assert "2024/2025" in kept.keep["b-2025-08-31-22"][0]
    assert "31.08.2025" in kept.keep["b-2025-08-31-22"][0]
    # 2025/2026 has not ended: its newest copy is kept only as this week's
    assert kept.keep["b-2026-03-09-03"] == ["еженедельная копия (11-я неделя 2026 г.)"]


def test_a_year_is_archived_only_once_it_has_ended() -> None:
    backups = [_b("2026-08-24"), _b("2026-08-31")]
    during = choose(backups, keep_weekly=1, today=dt.date(2026, 8, 31))
    assert during.keep["b-2026-08-31-03"] == ["еженедельная копия (36-я неделя 2026 г.)"]
    after = choose([*backups, _b("2026-09-07")], keep_weekly=1, today=dt.date(2026, 9, 7))
    assert "архив 2025/2026" in after.keep["b-2026-08-31-03"][0]
    assert after.drop == ["b-2026-08-24-03"]


def test_one_copy_is_both_weekly_and_year_end() -> None:
    kept = choose([_b("2026-08-31")], keep_weekly=2, today=dt.date(2026, 9, 1))
    assert len(kept.keep["b-2026-08-31-03"]) == 2 and kept.drop == []


def test_nothing_to_choose_from_and_a_weekly_count_below_one() -> None:
    assert choose([], keep_weekly=4, today=dt.date(2026, 1, 1)).keep == {}
    with pytest.raises(ValueError, match="at least 1"):
        choose([_b("2026-01-01")], keep_weekly=0, today=dt.date(2026, 1, 1))


@pytest.mark.parametrize(
    ("day", "year"),
    [("2025-09-01", 2025), ("2026-08-31", 2025), ("2026-01-15", 2025), ("2025-08-31", 2024)],
)
def test_school_year_runs_from_first_september_to_the_end_of_august(day: str, year: int) -> None:
    assert school_year(dt.date.fromisoformat(day)) == year
