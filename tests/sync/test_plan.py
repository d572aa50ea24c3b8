"""The planner: a test per domain rule and per conflict policy."""

from __future__ import annotations

import datetime as dt

import pytest

from mapping.model import Lesson, Period, Tombstone
from sync.plan import Op, Planner, Stored, needs_base
from sync.policy import EntityPolicy
from sync.rules import Deadlines
from tests.sync.helpers import UTC, mark, world


def planner(conflict: str = "manual", **fields: str) -> Planner:
    return Planner(EntityPolicy(direction="both", conflict=conflict, fields=fields), world())  # type: ignore[arg-type]


def agreed(rec: object, current: object | None = None, base: object | None = None) -> Stored:
    cur = current if current is not None else rec
    return Stored(record=cur, version=1, synced_hash=rec.content_hash, base=base)  # type: ignore[attr-defined,arg-type]


def kinds(decision: object) -> list[str]:
    return [f.kind for f in decision.findings]  # type: ignore[attr-defined]


def test_new_record_is_created_and_agreed() -> None:
    d = planner().decide(mark(), None)
    assert d.op is Op.CREATE and d.record == mark() and d.agreed_hash == mark().content_hash
    assert d.findings == ()


def test_same_content_is_unchanged() -> None:
    d = planner().decide(mark(modified=dt.datetime(2025, 10, 20, tzinfo=UTC)), agreed(mark()))
    assert d.op is Op.UNCHANGED and not d.applies


# --- domain rules -----------------------------------------------------------------------
def test_grade1_mark_is_rejected() -> None:
    d = planner().decide(mark(pupil="P1", lesson="L1"), None)
    assert d.op is Op.REJECT and kinds(d) == ["grade1_mark"] and d.findings[0].blocking


def test_corrected_mark_is_recorded_and_applied_when_only_the_system_changed() -> None:
    d = planner().decide(mark("3"), agreed(mark("5")))
    assert d.op is Op.UPDATE and str(d.record.value) == "3"  # type: ignore[union-attr]
    assert kinds(d) == ["corrected_mark"] and "5 → 3" in d.findings[0].detail
    assert not d.findings[0].blocking


def test_deleted_mark_is_recorded_and_applied() -> None:
    d = planner().decide_tombstone(
        Tombstone(entity="marks", id="M1", school_id="s"), agreed(mark())
    )
    assert d.op is Op.DELETE and kinds(d) == ["deleted_mark"]


@pytest.mark.parametrize(
    ("lesson", "entered", "late"),
    [
        ("L5", dt.date(2025, 10, 19), False),
        ("L5", dt.date(2025, 10, 20), True),
        ("L10", dt.date(2025, 10, 21), False),
        ("L10", dt.date(2025, 10, 22), True),
    ],
)
def test_late_mark_deadline_by_grade_band(lesson: str, entered: dt.date, late: bool) -> None:
    pupil = "P10" if lesson == "L10" else "P5"
    created = dt.datetime.combine(entered, dt.time(10), tzinfo=UTC)
    written = mark(lesson=lesson, pupil=pupil, created=created, work_type="Контрольная работа")
    d = planner().decide(written, None)
    assert d.op is Op.CREATE  # recorded, still applied
    assert ("late_mark" in kinds(d)) is late


def test_late_mark_counts_days_in_the_school_time_zone() -> None:
    # 18:30 UTC on the 19th is already the 20th in Novokuznetsk (+07:00): one day too late.
    created = dt.datetime(2025, 10, 19, 18, 30, tzinfo=UTC)
    tz = dt.timezone(dt.timedelta(hours=7))
    p = Planner(EntityPolicy(), world(), Deadlines(timezone=tz))
    dictation = mark(created=created, work_type="Диктант")
    assert "late_mark" in kinds(p.decide(dictation, None))
    assert "late_mark" not in kinds(planner().decide(dictation, None))


def test_change_inside_a_closed_period_is_held() -> None:
    ctx = world()
    ctx.closed.append((5, dt.date(2025, 9, 1), dt.date(2025, 10, 26), "Q1"))
    p = Planner(EntityPolicy(conflict="source-wins"), ctx)
    for d in (
        p.decide(mark("3"), agreed(mark("5"))),
        p.decide(mark(), None),
        p.decide_tombstone(Tombstone(entity="marks", id="M1", school_id="s"), agreed(mark())),
    ):
        assert d.op is Op.CONFLICT and kinds(d) == ["closed_period"] and d.findings[0].blocking


def test_local_edit_ahead_of_the_system_is_not_overwritten() -> None:
    base = mark("5")
    d = planner("source-wins").decide(base, agreed(base, current=mark("4")))
    assert d.op is Op.UNCHANGED and d.agreed_hash is None


# --- policies when both sides changed ----------------------------------------------------
T1 = dt.datetime(2025, 10, 15, 10, tzinfo=UTC)
T2 = dt.datetime(2025, 10, 16, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("policy", "remote_time", "local_time", "expected"),
    [
        ("source-wins", T1, T2, "3"),
        ("local-wins", T2, T1, "4"),
        ("newer-wins", T2, T1, "3"),
        ("newer-wins", T1, T2, "4"),
    ],
)
def test_both_changed_resolved_by_policy(
    policy: str, remote_time: dt.datetime, local_time: dt.datetime, expected: str
) -> None:
    base, local, remote = mark("5"), mark("4", modified=local_time), mark("3", modified=remote_time)
    d = planner(policy).decide(remote, agreed(base, current=local, base=base))
    assert "both_changed" in kinds(d)
    final = d.record if d.record is not None else d.current
    assert str(final.value) == expected  # type: ignore[union-attr]
    assert d.op is (Op.UPDATE if expected == "3" else Op.UNCHANGED)


def test_manual_policy_holds_the_conflict_with_all_three_versions() -> None:
    base, local, remote = mark("5"), mark("4"), mark("3")
    d = planner("manual").decide(remote, agreed(base, current=local, base=base))
    assert d.op is Op.CONFLICT and d.findings[0].blocking and d.findings[0].field == "value"
    assert (d.base, d.current, d.incoming) == (base, local, remote)


def test_newer_wins_without_timestamps_asks_a_person() -> None:
    base, local, remote = mark("5"), mark("4"), mark("3")
    d = planner("newer-wins").decide(remote, agreed(base, current=local, base=base))
    assert d.op is Op.CONFLICT


def test_field_policies_and_disjoint_edits_merge() -> None:
    base = mark("5", work_type="Ответ на уроке")
    local = mark("5", work_type="Контрольная работа")  # local changed work type
    remote = mark("4", work_type="Ответ на уроке")  # system changed the value
    d = planner("manual").decide(remote, agreed(base, current=local, base=base))
    assert d.op is Op.UPDATE
    assert str(d.record.value) == "4" and d.record.work_type == "Контрольная работа"  # type: ignore[union-attr]
    # the same fields contested: per-field policy decides value, the rest stays manual
    remote2 = mark("3", work_type="Диктант")
    d2 = planner("manual", value="source-wins").decide(
        remote2, agreed(base, current=local, base=base)
    )
    assert d2.op is Op.CONFLICT and d2.findings[0].field == "work_type"
    d3 = planner("local-wins", value="source-wins").decide(
        remote2, agreed(base, current=local, base=base)
    )
    assert str(d3.record.value) == "3" and d3.record.work_type == "Контрольная работа"  # type: ignore[union-attr]


def test_deleted_remotely_but_edited_locally() -> None:
    tomb = Tombstone(entity="marks", id="M1", school_id="s", modified_at=T2)
    base, local = mark("5"), mark("4", modified=T1)
    assert planner("manual").decide_tombstone(tomb, agreed(base, current=local)).op is Op.CONFLICT
    assert (
        planner("local-wins").decide_tombstone(tomb, agreed(base, current=local)).op is Op.UNCHANGED
    )
    assert (
        planner("source-wins").decide_tombstone(tomb, agreed(base, current=local)).op is Op.DELETE
    )
    assert planner("newer-wins").decide_tombstone(tomb, agreed(base, current=local)).op is Op.DELETE


def test_needs_base_only_when_both_sides_moved() -> None:
    base, local, remote = mark("5"), mark("4"), mark("3")
    assert needs_base(remote, agreed(base, current=local))
    assert not needs_base(remote, agreed(base))
    assert not needs_base(base, agreed(base, current=local))
    assert not needs_base(remote, None)


def test_fields_the_system_does_not_carry_are_kept() -> None:
    current = Period(
        id="Q1",
        school_id="s",
        name="I четверть",
        kind="quarter",
        parallels=(5,),
        start=dt.date(2025, 9, 1),
        end=dt.date(2025, 10, 26),
        closed=True,
        ext_ids={"asiou": "P1"},
    )
    incoming = current.model_copy(update={"closed": False, "ext_ids": {"es2": "3"}})
    p = Planner(EntityPolicy(), world(), kept_fields=frozenset({"closed"}))
    d = p.decide(incoming, agreed(current))
    assert d.op is Op.UNCHANGED
    renamed = incoming.model_copy(update={"name": "1 четверть"})
    d2 = p.decide(renamed, agreed(current))
    assert d2.op is Op.UPDATE and d2.record.closed is True  # type: ignore[union-attr]
    assert d2.record.ext_ids == {"asiou": "P1", "es2": "3"}  # type: ignore[union-attr]


def test_baseline_read_takes_records_of_a_closed_period_as_they_are() -> None:
    ctx = world()
    ctx.closed.append((5, dt.date(2025, 9, 1), dt.date(2025, 10, 26), "Q1"))
    p = Planner(EntityPolicy(), ctx, baseline=True)
    assert p.decide(mark(), None).op is Op.CREATE
    assert p.decide(mark("3"), agreed(mark("5"))).op is Op.CONFLICT  # a change still is held


# --- issue 12: closed periods' dates, written work, enrolment --------------------------------
def _closed_q1() -> Period:
    return Period(
        id="Q1",
        school_id="s",
        name="I четверть",
        kind="quarter",
        parallels=(5,),
        start=dt.date(2025, 9, 1),
        end=dt.date(2025, 10, 26),
        closed=True,
    )


@pytest.mark.parametrize(
    "update",
    [{"end": dt.date(2025, 10, 30)}, {"start": dt.date(2025, 9, 8)}, {"parallels": (5, 6)}],
)
def test_a_system_moving_a_closed_periods_dates_is_held(update: dict[str, object]) -> None:
    current = _closed_q1()
    incoming = Period.model_validate({**current.model_dump(), **update, "closed": False})
    p = Planner(EntityPolicy(), world(), kept_fields=frozenset({"closed"}))
    d = p.decide(incoming, agreed(current))
    assert d.op is Op.CONFLICT and kinds(d) == ["closed_period"] and d.findings[0].blocking
    assert "Q1" in d.findings[0].detail and d.findings[0].field == next(iter(update))
    # deleting a closed period in the system waits for a person too
    tomb = Tombstone(entity="periods", id="Q1", school_id="s")
    assert p.decide_tombstone(tomb, agreed(current)).op is Op.CONFLICT


def test_an_open_periods_dates_follow_the_system() -> None:
    current = _closed_q1().model_copy(update={"closed": False})
    incoming = current.model_copy(update={"end": dt.date(2025, 10, 30)})
    d = Planner(EntityPolicy(), world()).decide(incoming, agreed(current))
    assert d.op is Op.UPDATE and d.findings == ()


def test_a_late_pulled_mark_is_noted_only_for_written_work() -> None:
    created = dt.datetime(2025, 10, 30, 10, tzinfo=UTC)  # 16 days after the lesson
    for work_type, late in (
        ("Ответ на уроке", False),
        ("Домашняя работа", False),
        (None, False),
        ("Самостоятельная работа", True),
        ("САМОСТОЯТЕЛЬНАЯ РАБОТА", True),
        ("Сочинение", True),
    ):
        d = planner().decide(mark(created=created, work_type=work_type), None)
        assert d.op is Op.CREATE and ("late_mark" in kinds(d)) is late, work_type
    from sync.rules import written_work

    only_tests = Deadlines(written=written_work(["Тест"]))
    d = Planner(EntityPolicy(), world(), only_tests).decide(
        mark(created=created, work_type="Сочинение"), None
    )
    assert kinds(d) == []


def test_a_pulled_mark_outside_the_enrolment_is_noted_and_applied() -> None:
    from sync.rules import PupilInfo

    ctx = world()
    ctx.enrolled["Pgone"] = PupilInfo("C5", active=False, left_date=dt.date(2025, 10, 1))
    ctx.enrolled["P5other"] = PupilInfo("C6")
    for pupil, why in (("Pgone", "left on 2025-10-01"), ("P5other", "not in class C5")):
        d = Planner(EntityPolicy(), ctx).decide(mark(pupil=pupil), None)
        assert d.op is Op.CREATE and kinds(d) == ["outside_enrolment"], pupil
        assert not d.findings[0].blocking and why in d.findings[0].detail
    # a correction of a mark already there is no new placement: nothing to note
    d = Planner(EntityPolicy(), ctx).decide(mark("3", pupil="Pgone"), agreed(mark(pupil="Pgone")))
    assert kinds(d) == ["corrected_mark"]
    # the first full read of a system is its baseline: placement taken as it is
    base = Planner(EntityPolicy(), ctx, baseline=True).decide(mark(pupil="Pgone"), None)
    assert base.op is Op.CREATE and base.findings == ()


def test_pulled_homework_in_grade_1_is_noted_not_refused() -> None:
    lesson = Lesson(
        id="L1x", school_id="s", class_id="C1", subject_id="S", date=dt.date(2025, 10, 14),
        number=1, homework="Прописи",
    )  # fmt: skip
    d = planner().decide(lesson, None)
    assert d.op is Op.CREATE and kinds(d) == ["grade1_homework"] and not d.findings[0].blocking
