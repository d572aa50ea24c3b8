"""The fast content hash (compiled per model) and the store's rows agree with the canonical
model for every entity."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from mapping.hashing import canonical_json
from mapping.model import (
    AcademicYear,
    Attendance,
    Enrolment,
    FinalMark,
    Lesson,
    Mark,
    Period,
    Pupil,
    Record,
    School,
    SchoolClass,
    Subgroup,
    Subject,
    Teacher,
)
from store.codec import CODECS, content_hash

S = "sch1"
RECORDS: list[Record] = [
    School(id="s", school_id=S, name="МБОУ «СОШ № 42»"),
    AcademicYear(id="y", school_id=S, name="2025/2026", start=dt.date(2025, 9, 1), end=dt.date(2026, 5, 31)),
    Period(
        id="q1", school_id=S, name="1 четверть", kind="quarter", parallels=(5, 2, 3),
        start=dt.date(2025, 9, 1), end=dt.date(2025, 10, 26), closed=True,
    ),
    Subject(id="sub", school_id=S, name="Математика", short=None),
    Teacher(id="t", school_id=S, last_name="Петров", first_name="Пётр", middle_name="Ильич"),
    SchoolClass(id="c", school_id=S, name="5А", parallel=5, year="2025/2026", class_teacher_id="t"),
    Pupil(
        id="p", school_id=S, last_name="Ёлкина", first_name="Анна", birth_date=dt.date(2014, 3, 9),
        snils="112-233-445 95", class_id="c", status="left", left_date=dt.date(2026, 1, 12),
    ),
    Enrolment(id="e", school_id=S, pupil_id="p", kind="transfer", date=dt.date(2025, 11, 5),
              from_class_id="c", to_class_id="c2"),
    Subgroup(id="g", school_id=S, class_id="c", subject_id="sub", name="1 группа",
             member_ids=("p3", "p1", "p2")),
    Lesson(id="l", school_id=S, class_id="c", subject_id="sub", date=dt.date(2026, 2, 3), number=2,
           topic='Дроби "и" \\ проценты\n', homework="№ 5"),
    Mark(id="m", school_id=S, pupil_id="p", lesson_id="l", value="4/5", work_type="Тест", weight=2,
         created_at=dt.datetime(2026, 2, 3, 9, tzinfo=dt.UTC)),
    FinalMark(id="f", school_id=S, pupil_id="p", subject_id="sub", period_id="q1", kind="period",
              value="н/а"),
    Attendance(id="a", school_id=S, pupil_id="p", lesson_id="l", code="Б"),
]  # fmt: skip


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.entity.value)
def test_fast_hash_is_the_canonical_hash(record: Record) -> None:
    reference = json.dumps(
        record.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    expected = hashlib.blake2b(reference.encode(), digest_size=16).hexdigest()
    assert record.content_hash == expected
    assert content_hash(record) == expected
    assert canonical_json(record.content()) == canonical_json(CODECS[record.entity].content(record))


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.entity.value)
def test_row_decodes_to_the_same_record(record: Record) -> None:
    codec = CODECS[record.entity]
    row, _ = codec.encode(record)
    assert codec.decode(row) == record
    assert codec.row_content(row) == record.content()


def test_any_content_change_changes_the_hash() -> None:
    m = RECORDS[10]
    assert isinstance(m, Mark)
    assert content_hash(m.model_copy(update={"weight": 3})) != content_hash(m)
    # identity and timestamps are not content
    same = m.model_copy(update={"ext_ids": {"o7": "x"}, "modified_at": dt.datetime.now(dt.UTC)})
    assert content_hash(same) == content_hash(m)
