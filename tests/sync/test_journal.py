"""The local journal obeys the school's rules (issue 12, part B): every write is validated and
answered per record; a closed period is frozen; corrections, deletions and late entries reach the
deputy director; marks and absences stay inside a pupil's enrolment; no homework in grade 1."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from structlog.testing import capture_logs

from core.entities import Entity
from mapping.model import Attendance, FinalMark, Lesson, Mark, Period, Pupil
from mapping.values import AttendanceCode, MarkValue
from store import Store
from sync.journal import Refusal
from tests.sync.journal_school import MSK, close, journal, mark, seed, stored

BAD_SNILS = "112-233-445 99"  # eleven digits, wrong checksum


def _findings(store: Store, **filters: Any) -> list[Any]:
    with store.read() as tx:
        return list(tx.conflicts.find(status=None, **filters))


def _one(refused: list[Refusal]) -> Refusal:
    assert len(refused) == 1, refused
    return refused[0]


# -- 6. every local write is validated, and answered per record -----------------------------
def test_a_batch_with_a_mark_7_stores_the_good_records_and_names_the_bad_one(
    store: Store,
) -> None:
    seed(store)
    good = mark("Mnew", "P5", "L5late", "5")
    bad = mark("Mbad", "P5B", "L5B", "5").model_copy(update={"value": "7"})  # skips validation
    result = journal(store).write([good, bad], actor="учитель")
    assert result.accepted == ["Mnew"] and result.created == 1 and result.queued == 1
    refusal = _one(result.refused)
    assert (refusal.entity, refusal.record_id, refusal.field, refusal.rule) == (
        "marks",
        "Mbad",
        "value",
        "invalid_record",
    )
    assert "not a mark value" in refusal.reason
    assert stored(store, Entity.MARKS, "Mnew") is not None
    assert stored(store, Entity.MARKS, "Mbad") is None
    with pytest.raises(Exception, match="Mbad") as raised:
        result.raise_for_refusal()
    assert "value" in str(raised.value)


def test_a_malformed_snils_is_refused_and_its_value_goes_nowhere(store: Store) -> None:
    seed(store)
    before = stored(store, Entity.PUPILS, "P5")
    assert isinstance(before, Pupil)
    typo = before.model_copy(update={"snils": BAD_SNILS})
    with capture_logs() as logs:
        result = journal(store).write([typo], actor="кл. руководитель")
    refusal = _one(result.refused)
    assert (refusal.record_id, refusal.field) == ("P5", "snils") and "СНИЛС" in refusal.reason
    digits = "".join(ch for ch in BAD_SNILS if ch.isdigit())
    said = repr(result) + str(refusal.error()) + repr(logs)
    assert BAD_SNILS not in said and digits not in said and digits[:9] not in said
    assert stored(store, Entity.PUPILS, "P5") == before  # nothing of it stored


def test_a_record_of_another_school_is_refused_alone(store: Store) -> None:
    seed(store)
    foreign = mark("Mx", "P5", "L5late").model_copy(update={"school_id": "other"})
    result = journal(store).write([foreign, mark("Mok", "P5B", "L5B")], actor="учитель")
    assert result.accepted == ["Mok"] and _one(result.refused).field == "school_id"


# -- 7. a closed period is frozen for local writes --------------------------------------------
def _q1_closed(store: Store) -> None:
    seed(store)
    close(store, "Q1")


def _moved_lesson(store: Store, lesson_id: str, day: dt.date) -> Lesson:
    les = stored(store, Entity.LESSONS, lesson_id)
    assert isinstance(les, Lesson)
    return les.model_copy(update={"date": day})


def _edited(store: Store, entity: Entity, rid: str, **update: Any) -> Any:
    rec = stored(store, entity, rid)
    assert rec is not None
    return rec.model_copy(update=update)


@pytest.mark.parametrize(
    "case",
    [
        "mark moved out of the closed period",
        "mark moved into the closed period",
        "lesson date moved out of the closed period",
        "lesson date moved into the closed period",
        "period mark of the closed period changed",
        "closed period's end moved",
    ],
)
def test_changes_touching_a_closed_period_are_refused_naming_it(store: Store, case: str) -> None:
    _q1_closed(store)
    record = {
        "mark moved out of the closed period": lambda: _edited(
            store, Entity.MARKS, "Mq1", lesson_id="L5late"
        ),
        "mark moved into the closed period": lambda: _edited(
            store, Entity.MARKS, "Mq2", lesson_id="L5early"
        ),
        "lesson date moved out of the closed period": lambda: _moved_lesson(
            store, "L5early", dt.date(2025, 11, 6)
        ),
        "lesson date moved into the closed period": lambda: _moved_lesson(
            store, "L5late", dt.date(2025, 10, 2)
        ),
        "period mark of the closed period changed": lambda: _edited(
            store, Entity.FINAL_MARKS, "F1", value=MarkValue.parse("5")
        ),
        "closed period's end moved": lambda: _edited(
            store, Entity.PERIODS, "Q1", end=dt.date(2025, 10, 20)
        ),
    }[case]()
    before = stored(store, record.entity, record.id)
    result = journal(store).write([record], actor="учитель")
    refusal = _one(result.refused)
    assert refusal.rule == "closed_period" and "Q1" in refusal.reason, refusal
    assert result.accepted == [] and stored(store, record.entity, record.id) == before


def test_deleting_a_mark_or_lesson_in_a_closed_period_is_refused(store: Store) -> None:
    _q1_closed(store)
    j = journal(store)
    for entity, rid in ((Entity.MARKS, "Mq1"), (Entity.LESSONS, "L5early")):
        result = j.delete(entity, [rid], actor="учитель")
        refusal = _one(result.refused)
        assert refusal.rule == "closed_period" and "Q1" in refusal.reason
        assert result.deleted == 0 and stored(store, entity, rid) is not None
    # outside the closed period a deletion goes through
    assert j.delete(Entity.MARKS, ["Mq2"], actor="учитель").deleted == 1


def test_the_journal_neither_closes_nor_reopens_a_period(store: Store) -> None:
    seed(store)
    j = journal(store)
    closing = _edited(store, Entity.PERIODS, "Q1", closed=True)
    assert _one(j.write([closing], actor="учитель").refused).rule == "period_closing"
    close(store, "Q1")
    reopening = _edited(store, Entity.PERIODS, "Q1", closed=False)
    refusal = _one(j.write([reopening], actor="завуч").refused)
    assert refusal.rule == "period_closing" and refusal.field == "closed"
    period = stored(store, Entity.PERIODS, "Q1")
    assert isinstance(period, Period) and period.closed
    # a period created with ``closed`` set is closing it too
    fresh = Period(
        id="Q9", school_id="s1", name="x", kind="quarter", parallels=(5,),
        start=dt.date(2026, 1, 12), end=dt.date(2026, 3, 20), closed=True,
    )  # fmt: skip
    assert _one(j.write([fresh], actor="учитель").refused).rule == "period_closing"


def test_outside_a_closed_period_everything_goes_through(store: Store) -> None:
    _q1_closed(store)
    j = journal(store)
    result = j.write(
        [
            _edited(store, Entity.MARKS, "Mq2", value=MarkValue.parse("5")),
            _moved_lesson(store, "L5late", dt.date(2025, 11, 12)),
            _edited(store, Entity.PERIODS, "Q2", name="2 четверть"),
            _edited(store, Entity.PERIODS, "Q1", name="1 четверть"),  # not its dates
        ],
        actor="учитель",
    )
    assert result.ok and result.updated == 4, result


def test_an_unchanged_record_in_a_closed_period_is_no_change(store: Store) -> None:
    _q1_closed(store)
    same = stored(store, Entity.MARKS, "Mq1")
    assert same is not None
    result = journal(store).write([same], actor="учитель")
    assert result.ok and result.unchanged == 1 and result.queued == 0


# -- 8. local corrections, deletions and late entries reach the deputy director --------------
def test_a_local_correction_and_deletion_are_noted_as_a_systems_are(store: Store) -> None:
    seed(store)
    j = journal(store)
    fixed = j.write(
        [_edited(store, Entity.MARKS, "Mq2", value=MarkValue.parse("2"))], actor="учитель"
    )
    assert fixed.ok and fixed.noted == 1
    gone = j.delete(Entity.MARKS, ["Mq1"], actor="учитель")
    assert gone.deleted == 1 and gone.noted == 1
    notes = {f.kind: f for f in _findings(store)}
    assert set(notes) == {"corrected_mark", "deleted_mark"}
    corrected, deleted = notes["corrected_mark"], notes["deleted_mark"]
    assert (corrected.system, corrected.status, corrected.record_id) == ("local", "noted", "Mq2")
    assert corrected.field == "value" and "4 → 2" in (corrected.detail or "")
    assert corrected.current["value"] == "4" and corrected.incoming["value"] == "2"
    assert (deleted.system, deleted.status, deleted.record_id) == ("local", "noted", "Mq1")
    assert deleted.current["value"] == "4" and deleted.incoming is None


@pytest.mark.parametrize(
    ("work_type", "days_after", "parallel_lesson", "late"),
    [
        ("Контрольная работа", 6, "L5late", True),  # grades 2–9: 5 days
        ("Контрольная работа", 5, "L5late", False),
        ("контрольная  работа", 6, "L5late", True),  # case and spacing do not matter
        ("Диктант", 8, "L10", True),  # grades 10–11: 7 days
        ("Диктант", 7, "L10", False),
        ("Ответ на уроке", 30, "L5late", False),  # no deadline for oral answers
        (None, 30, "L5late", False),
    ],
)
def test_a_late_local_entry_of_written_work_is_noted(
    store: Store, work_type: str | None, days_after: int, parallel_lesson: str, late: bool
) -> None:
    seed(store)
    pupil = "P10" if parallel_lesson == "L10" else "P5"
    lesson_day = dt.date(2025, 11, 10)
    now = dt.datetime.combine(lesson_day + dt.timedelta(days=days_after), dt.time(10), MSK)
    entered = mark("Mlate", pupil, parallel_lesson, "5", work_type=work_type)
    result = journal(store, now).write([entered], actor="учитель")
    assert result.ok and result.created == 1
    late_rows = [f for f in _findings(store) if f.kind == "late_mark"]
    assert bool(late_rows) is late
    if late:
        [row] = late_rows
        assert (row.system, row.status, row.record_id) == ("local", "noted", "Mlate")
    held = stored(store, Entity.MARKS, "Mlate")
    assert isinstance(held, Mark) and held.created_at == now  # the journal's clock


def test_a_backdated_created_at_does_not_hide_a_late_entry(store: Store) -> None:
    seed(store)
    now = dt.datetime(2025, 11, 30, 10, tzinfo=MSK)
    claimed = dt.datetime(2025, 11, 10, 10, tzinfo=MSK)
    entered = mark("Mb", "P5", "L5late", work_type="Контрольная работа", created_at=claimed)
    assert journal(store, now).write([entered], actor="учитель").noted == 1
    held = stored(store, Entity.MARKS, "Mb")
    assert isinstance(held, Mark) and held.created_at == now
    # a later correction keeps the entry time, and is itself noted as a correction
    again = held.model_copy(update={"value": MarkValue.parse("3"), "created_at": claimed})
    later = dt.datetime(2025, 12, 1, tzinfo=MSK)
    assert journal(store, later).write([again], actor="учитель").noted == 1
    held2 = stored(store, Entity.MARKS, "Mb")
    assert isinstance(held2, Mark) and held2.created_at == now


# -- 9. marks and absences inside the pupil's enrolment; no homework in grade 1 ---------------
@pytest.mark.parametrize(
    ("pupil", "lesson", "why"),
    [
        ("Pleft", "L5late", "left on 2025-10-10"),  # after leaving
        ("Pnew", "L5early", "admitted on 2025-10-15"),  # before arriving (enrolment record)
        ("P5B", "L5late", "not in class C5A"),  # another class
        ("Pmoved", "L5late", "not in class C5A"),  # transferred out on 2025-10-14
        ("Pmoved", "L5Bearly", "not in class C5B"),  # in 5Б before the transfer into it
    ],
)
def test_a_mark_or_absence_outside_the_enrolment_is_refused(
    store: Store, pupil: str, lesson: str, why: str
) -> None:
    seed(store)
    absence = Attendance(
        id="A1", school_id="s1", pupil_id=pupil, lesson_id=lesson, code=AttendanceCode.ILL
    )
    result = journal(store).write([mark("Mx", pupil, lesson), absence], actor="учитель")
    assert result.accepted == [] and len(result.refused) == 2
    for refusal in result.refused:
        assert refusal.rule == "outside_enrolment" and refusal.field == "pupil_id"
        assert why in refusal.reason, refusal
    assert stored(store, Entity.MARKS, "Mx") is None


def test_marks_inside_the_enrolment_go_through(store: Store) -> None:
    seed(store)
    result = journal(store).write(
        [
            mark("M1", "Pleft", "L5early"),  # before leaving
            mark("M2", "Pnew", "L5late"),  # after arriving
            mark("M3", "Pmoved", "L5"),  # the day of the transfer: either class
            mark("M4", "Pmoved", "L5B"),  # in the new class
            mark("M5", "P5B", "L5B"),
        ],
        actor="учитель",
    )
    assert result.ok and result.created == 5, result.refused


def test_a_mark_moved_to_a_lesson_of_another_class_is_refused(store: Store) -> None:
    seed(store)
    moved = _edited(store, Entity.MARKS, "Mq2", lesson_id="L5B")
    refusal = _one(journal(store).write([moved], actor="учитель").refused)
    assert refusal.rule == "outside_enrolment" and refusal.record_id == "Mq2"


def test_homework_in_grade_1_is_refused(store: Store) -> None:
    seed(store)
    j = journal(store)
    homework = _edited(store, Entity.LESSONS, "L1", homework="Прописи, с. 12")
    refusal = _one(j.write([homework], actor="учитель").refused)
    assert (refusal.rule, refusal.field) == ("grade1_homework", "homework")
    topic = _edited(store, Entity.LESSONS, "L1", topic="Звуки и буквы")
    assert j.write([topic], actor="учитель").ok
    assert j.write([_edited(store, Entity.LESSONS, "L5late", homework="№ 12")], actor="у").ok


def test_a_grade_1_mark_is_refused_and_the_rest_of_the_batch_stored(store: Store) -> None:
    seed(store)
    result = journal(store).write(
        [mark("Mg1", "P1", "L1"), mark("Mg5", "P5", "L5late")], actor="учитель"
    )
    assert result.accepted == ["Mg5"] and _one(result.refused).rule == "grade1_mark"


def test_a_lesson_and_its_marks_in_one_batch(store: Store) -> None:
    """The rules see the lesson written in the same batch."""
    seed(store)
    new_lesson = Lesson(
        id="Lnew", school_id="s1", class_id="C5A", subject_id="S1",
        date=dt.date(2025, 11, 11), number=3,
    )  # fmt: skip
    result = journal(store).write(
        [mark("Mn1", "P5", "Lnew"), mark("Mn2", "P5B", "Lnew"), new_lesson], actor="учитель"
    )
    assert result.accepted == ["Lnew", "Mn1"], result
    assert _one(result.refused).record_id == "Mn2"


def test_a_period_mark_of_an_open_period_goes_through(store: Store) -> None:
    seed(store)
    f = FinalMark(
        id="F2", school_id="s1", pupil_id="P5", subject_id="S1", period_id="Q2", kind="period",
        value=MarkValue.parse("5"),
    )  # fmt: skip
    assert journal(store).write([f], actor="учитель").ok
