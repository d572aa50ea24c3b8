"""The journal-control checks as pure functions: the rules of rounding, averaging, norms and
scopes, and the edges of each check, on hand-made rows (no store)."""

from __future__ import annotations

import datetime as dt

import pytest

from mapping.model import Period, Pupil, SchoolClass, Subgroup, Subject
from reports.control.checks import ControlInput, evaluate, half_up, weighted_average
from reports.control.scope import resolve_scope
from reports.control.settings import ControlSettings
from reports.errors import ReportError
from store.queries import Roster
from store.queries.control import AbsenceFact, LessonFact, MarkFact, PeriodMarkFact
from sync.rules import Deadlines

UTC = dt.UTC
D = dt.date(2025, 9, 8)  # a Monday


@pytest.mark.parametrize(
    ("x", "at", "want"),
    [(3.5, 0.5, 4), (3.49, 0.5, 3), (4.5, 0.5, 5), (3.6, 0.6, 4), (3.59, 0.6, 3), (5.0, 0.5, 5)],
)
def test_half_up(x: float, at: float, want: int) -> None:
    assert half_up(x, at) == want


def test_weighted_average_counts_double_marks_and_weights_and_skips_words() -> None:
    avg, n = weighted_average([("5", 1), ("4/5", 1), ("3", 2), ("зач", 1), ("осв", 1)])
    assert n == 3
    assert avg == pytest.approx((5 + 4 + 5 + 3 * 2) / 5)
    assert weighted_average([("н/а", 1)]) == (None, 0)


@pytest.mark.parametrize(
    ("hours", "weeks", "norm"), [(1, 9, 3), (2, 9, 5), (3, 9, 7), (6, 9, 7), (3, 3, 3), (1, 1, 1)]
)
def test_norm_follows_weekly_hours_and_weeks(hours: int, weeks: int, norm: int) -> None:
    assert ControlSettings().norm(hours, weeks) == norm


def test_paints() -> None:
    s = ControlSettings()
    assert [s.paint_accumulation(x) for x in (0.95, 0.9, 0.8, 0.69, None)] == [
        "good", "good", "warn", "bad", None,
    ]  # fmt: skip
    assert [s.paint_share(n, 20) for n in (0, 1, 2, 3)] == ["good", "warn", "warn", "bad"]
    assert [s.paint_count(n) for n in (0, 2, 3)] == ["good", "warn", "bad"]


def _period(
    pid: str, name: str, parallels: tuple[int, ...], start: dt.date, end: dt.date
) -> Period:
    return Period(id=pid, school_id="s", name=name, kind="quarter", parallels=parallels,
                  start=start, end=end)  # fmt: skip


PERIODS = {
    "q1": _period("q1", "I четверть", (2, 3, 4, 5), dt.date(2025, 9, 1), dt.date(2025, 10, 26)),
    "q1b": _period("q1b", "I  Четверть", (1,), dt.date(2025, 9, 1), dt.date(2025, 10, 24)),
    "h1": _period("h1", "I полугодие", (10, 11), dt.date(2025, 9, 1), dt.date(2025, 12, 27)),
}


def test_scope_of_a_period_joins_every_period_of_that_name() -> None:
    s = resolve_scope(PERIODS, period="i четверть", month=None, as_of=dt.date(2025, 10, 1))
    assert (s.start, s.end, s.last_day) == (dt.date(2025, 9, 1), dt.date(2025, 10, 26),
                                            dt.date(2025, 10, 1))  # fmt: skip
    assert s.period_ids == ("q1", "q1b") and s.parallels == frozenset({1, 2, 3, 4, 5})


def test_scope_of_a_month_checks_the_periods_ending_in_it() -> None:
    s = resolve_scope(PERIODS, period=None, month="2025-12", as_of=dt.date(2026, 1, 10))
    assert (s.start, s.end) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert s.period_ids == ("h1",) and s.parallels is None and s.label.startswith("декабрь 2025")
    default = resolve_scope(PERIODS, period=None, month=None, as_of=dt.date(2025, 10, 5))
    assert default.start == dt.date(2025, 10, 1) and default.period_ids == ("q1", "q1b")


@pytest.mark.parametrize(
    ("period", "month", "message"),
    [("III четверть", None, "known: «I  Четверть»"), (None, "10.2025", "YYYY-MM"),
     ("I четверть", "2025-10", "not both")],
)  # fmt: skip
def test_scope_errors(period: str | None, month: str | None, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        resolve_scope(PERIODS, period=period, month=month, as_of=dt.date(2025, 10, 1))


def _lesson(
    lid: str, cls: str, day: dt.date, subgroup: str | None = None, **kw: object
) -> LessonFact:
    base: dict[str, object] = {"teacher_id": "T", "substitute_teacher_id": None, "number": 1,
                               "has_topic": True, "has_homework": True}  # fmt: skip
    base.update(kw)
    return LessonFact(
        lid,
        cls,
        subgroup,
        "S",
        base["teacher_id"],
        base["substitute_teacher_id"],  # type: ignore[arg-type]
        day,
        base["number"],
        base["has_topic"],
        base["has_homework"],
    )  # type: ignore[arg-type]


def _pupil(pid: str, cls: str) -> Pupil:
    return Pupil(id=pid, school_id="s", last_name="Ф", first_name="И",
                 birth_date=dt.date(2012, 1, 1), class_id=cls)  # fmt: skip


def _input(lessons: list[LessonFact], marks: list[MarkFact], **kw: object) -> ControlInput:
    roster = Roster(
        periods={"q1": PERIODS["q1"], "h1": PERIODS["h1"], "q1b": PERIODS["q1b"]},
        subjects={"S": Subject(id="S", school_id="s", name="Английский язык")},
        classes={
            "c1": SchoolClass(id="c1", school_id="s", name="1А", parallel=1, year="2025/2026"),
            "c5": SchoolClass(id="c5", school_id="s", name="5А", parallel=5, year="2025/2026"),
            "c10": SchoolClass(id="c10", school_id="s", name="10А", parallel=10, year="2025/2026"),
        },
        pupils={
            p.id: p
            for p in (
                _pupil("p1", "c5"),
                _pupil("p2", "c5"),
                _pupil("k1", "c1"),
                _pupil("t1", "c10"),
            )
        },
        subgroups={
            "g1": Subgroup(
                id="g1",
                school_id="s",
                class_id="c5",
                subject_id="S",
                name="1 группа",
                member_ids=("p1",),
            )
        },
    )
    scope = resolve_scope(roster.periods, period=None, month="2025-09", as_of=dt.date(2025, 9, 30))
    return ControlInput(
        scope=scope, roster=roster, lessons=lessons, marks=marks,
        absences=kw.get("absences", []), period_marks=kw.get("period_marks", []),  # type: ignore[arg-type]
        changes=[], deadlines=Deadlines(timezone=UTC), settings=ControlSettings(),
    )  # fmt: skip


def _mark(mid: str, pupil: str, lesson: str, value: str = "5", **kw: object) -> MarkFact:
    return MarkFact(mid, pupil, lesson, value, kw.get("work_type"), 1, kw.get("created_at"))  # type: ignore[arg-type]


def test_a_subgroup_is_judged_on_its_members_and_grade_1_on_nothing_but_topics() -> None:
    lessons = [_lesson("g", "c5", D, "g1"), _lesson("k", "c1", D, has_homework=False)]
    result = evaluate(_input(lessons, []))
    kinds = sorted((f.kind, f.key) for f in result.findings)
    assert kinds == [("no_marks", "p1:S")]  # p2 is not in the subgroup; 1А gets no marks, no ДЗ
    assert next(c for c in result.courses if c.class_id == "c1").accumulation is None


def test_late_marks_follow_the_journal_deadlines() -> None:
    lessons = [_lesson("a", "c5", D), _lesson("b", "c10", D)]
    at = dt.datetime.combine(D + dt.timedelta(days=6), dt.time(10), UTC)
    marks = [
        _mark("m1", "p1", "a", work_type="Контрольная работа", created_at=at),  # 6 > 5: late
        _mark("m2", "p2", "a", work_type="Ответ на уроке", created_at=at),  # no deadline
        _mark("m3", "t1", "b", work_type="Диктант", created_at=at),  # grade 10: 7 days
    ]
    late = [f.key for f in evaluate(_input(lessons, marks)).findings if f.kind == "late_mark"]
    assert late == ["m1"]


def test_absences_within_the_grace_days_wait_for_their_reason() -> None:
    old, fresh = _lesson("a", "c5", D), _lesson("b", "c5", dt.date(2025, 9, 26))
    absences = [AbsenceFact("x1", "p1", "a", "Н"), AbsenceFact("x2", "p1", "b", "Н"),
                AbsenceFact("x3", "p2", "a", "Б")]  # fmt: skip
    result = evaluate(_input([old, fresh], [], absences=absences))
    assert [f.key for f in result.findings if f.kind == "absence_no_reason"] == ["x1"]


def test_a_teacher_substituting_for_themselves_is_a_fault() -> None:
    lessons = [_lesson("a", "c5", D, substitute_teacher_id="T"),
               _lesson("b", "c5", D, number=2, substitute_teacher_id="U")]  # fmt: skip
    subs = {f.key: f.problem for f in evaluate(_input(lessons, [])).findings
            if f.kind == "substitution"}  # fmt: skip
    assert subs == {"a": True, "b": False}


def test_period_mark_without_current_marks_and_with_non_numeric_value() -> None:
    lessons = [_lesson("a", "c5", D)]
    data = _input(
        lessons, [_mark("m", "p1", "a", "4/5")],
        period_marks=[PeriodMarkFact("f1", "p1", "S", "q1", "4"),
                      PeriodMarkFact("f2", "p2", "S", "q1", "3"),
                      PeriodMarkFact("f3", "p2", "S", "q1", "осв")],
    )  # fmt: skip
    # a month's report checks the periods ending in it: none in September
    assert not [f for f in evaluate(data).findings if f.kind == "period_mark"]
    scope = resolve_scope(data.roster.periods, period="I четверть", month=None,
                          as_of=dt.date(2025, 9, 30))  # fmt: skip
    found = {f.key: f.detail for f in evaluate(
        ControlInput(**{**data.__dict__, "scope": scope})).findings if f.kind == "period_mark"}  # fmt: skip
    # p1: 4/5 → 4.5 → 5, so «4» does not follow; p2 has no marks at all; «осв» is not judged
    assert found["f1"]["expected"] == 5 and found["f2"]["expected"] is None
    assert set(found) == {"f1", "f2"}


def test_only_real_corrections_are_changes() -> None:
    from store.queries.control import MarkChange

    at = dt.datetime(2025, 9, 20, tzinfo=UTC)

    def change(aid: int, old: dict[str, object], new: dict[str, object]) -> MarkChange:
        return MarkChange(aid, "marks", "m", "update", old, new, "local", "учитель", at, "p1",
                          "a", None, None, "5")  # fmt: skip

    data = _input([_lesson("a", "c5", D)], [_mark("m", "p1", "a")])
    changes = [
        change(1, {"value": "4"}, {"value": "5"}),
        change(2, {"created_at": "2025-09-08T10:00:00"}, {"created_at": "2025-09-09T10:00:00"}),
        change(3, {"work_type": "Тест"}, {"work_type": "Контрольная работа"}),
    ]
    found = evaluate(ControlInput(**{**data.__dict__, "changes": changes})).findings
    assert [f.key for f in found if f.kind == "changed_mark"] == ["m@1", "m@3"]
