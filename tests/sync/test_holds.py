"""Holds: mass deactivation and an empty full roster wait for a person."""

from __future__ import annotations

import datetime as dt

from mapping.model import Pupil, Tombstone
from sync.holds import pupil_hold
from sync.keys import push_key


def pupil(pid: str, status: str = "active") -> Pupil:
    return Pupil(
        id=pid,
        school_id="s",
        last_name="А",
        first_name="Б",
        birth_date=dt.date(2014, 1, 1),
        status=status,
        left_date=dt.date(2026, 1, 1) if status == "left" else None,
    )  # type: ignore[arg-type]


ACTIVE = {f"p{i}": True for i in range(20)} | {"gone": False}


def test_under_the_threshold_passes() -> None:
    incoming = [pupil("p0", "left"), pupil("p1", "left"), pupil("p2")]
    assert pupil_hold(incoming, ACTIVE, full=False, threshold=0.10) is None


def test_over_the_threshold_holds() -> None:
    incoming = [
        pupil("p0", "left"),
        pupil("p1", "left"),
        Tombstone(entity="pupils", id="p2", school_id="s"),
    ]
    hold = pupil_hold(incoming, ACTIVE, full=False, threshold=0.10)
    assert hold is not None and hold.code == "mass_deactivation" and hold.deactivated == 3
    assert hold.active_before == 20 and "15%" in hold.detail


def test_missing_from_a_snapshot_counts_and_inactive_ones_do_not() -> None:
    hold = pupil_hold([], ACTIVE, full=False, missing=["p3", "p4", "p5", "gone"], threshold=0.10)
    assert hold is not None and hold.deactivated == 3
    assert pupil_hold([pupil("gone", "left")], ACTIVE, full=False, threshold=0.0) is None


def test_full_pull_with_no_pupils_holds() -> None:
    hold = pupil_hold([], ACTIVE, full=True, threshold=1.0)
    assert hold is not None and hold.code == "empty_roster"
    assert pupil_hold([], {}, full=True, threshold=0.1) is None  # a new school has nobody yet


def test_push_keys_are_stable_and_distinct() -> None:
    k = push_key("es2", "marks", "g1", 3, "upsert")
    assert k == push_key("es2", "marks", "g1", 3, "upsert")
    assert (
        len(
            {
                k,
                push_key("es2", "marks", "g1", 4, "upsert"),
                push_key("o7", "marks", "g1", 3, "upsert"),
                push_key("es2", "marks", "g1", 3, "delete"),
            }
        )
        == 4
    )
