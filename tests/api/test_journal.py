"""The local journal's write API over real HTTP: writes go through the journal (change log and
outbox), each request is idempotent by its key, and a refused item names its field and rule."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from core.entities import Entity
from mapping.model import Enrolment, Lesson, Mark, Period, Pupil, SchoolClass, Subgroup
from store import OutboxFilter, Paging, Store
from tests.api.conftest import TARGETS, A, MakeToken, Schools, follow

_keys = itertools.count()


def post(client: httpx.Client, kind: str, items: list[dict[str, Any]], key: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        f"/journal/v1/{A}/{kind}",
        json={"items": items},
        headers={"Idempotency-Key": key or f"key-{next(_keys)}"},
    )


class Facts:
    """Handy records of school A."""

    def __init__(self, schools: Schools) -> None:
        recs = schools.a
        self.classes = {c.id: c for c in recs[Entity.CLASSES] if isinstance(c, SchoolClass)}
        self.pupils = {p.id: p for p in recs[Entity.PUPILS] if isinstance(p, Pupil)}
        self.lessons = [x for x in recs[Entity.LESSONS] if isinstance(x, Lesson)]
        self.marks = [m for m in recs[Entity.MARKS] if isinstance(m, Mark)]
        self.groups = [g for g in recs[Entity.SUBGROUPS] if isinstance(g, Subgroup)]
        self.periods = [p for p in recs[Entity.PERIODS] if isinstance(p, Period)]
        self.moves = [e for e in recs[Entity.ENROLMENTS] if isinstance(e, Enrolment)]
        self.marked = {(m.pupil_id, m.lesson_id) for m in self.marks}

    def parallel(self, class_id: str) -> int:
        return self.classes[class_id].parallel

    def pair(self, parallel: int = 5) -> tuple[Pupil, Lesson]:
        """An active pupil of that parallel, present all year, and a class-wide lesson of their
        class without a mark of theirs."""
        moved = {e.pupil_id for e in self.moves if e.kind != "admission"}
        for lesson in self.lessons:
            if lesson.subgroup_id or self.parallel(lesson.class_id) != parallel:
                continue
            for p in self.pupils.values():
                if (
                    p.class_id == lesson.class_id
                    and p.status == "active"
                    and p.id not in moved
                    and (p.id, lesson.id) not in self.marked
                ):
                    return p, lesson
        raise AssertionError("no such pupil and lesson")


@pytest.fixture
def facts(schools: Schools) -> Facts:
    return Facts(schools)


@pytest.fixture
def teacher(client_for: MakeToken) -> httpx.Client:
    return client_for("journal-app", [A], ["journal", "feed"])[1]


def test_an_accepted_write_goes_to_the_change_log_and_the_outbox(
    store: Store, teacher: httpx.Client, facts: Facts
) -> None:
    pupil, lesson = facts.pair()
    _, cursor = follow(teacher)
    r = post(teacher, "marks", [{"pupil_id": pupil.id, "lesson_id": lesson.id, "value": "4/5"}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 1 and body["updated"] == 0
    assert body["queued"] == len(TARGETS[Entity.MARKS])
    (new_id,) = body["ids"]
    with store.read() as tx:
        stored = tx.records.get(Entity.MARKS, [new_id])[new_id]
        queued = tx.queries.outbox(OutboxFilter(record_ids=[new_id]), Paging(10)).items
    assert isinstance(stored, Mark) and str(stored.value) == "4/5"
    assert stored.created_at is not None
    assert sorted(i.system for i in queued) == sorted(TARGETS[Entity.MARKS])
    events, _ = follow(teacher, cursor=cursor)
    assert [(e["id"], e["op"], e["source"]) for e in events] == [(new_id, "create", "local")]


def test_a_lesson_gets_topic_homework_and_substitute_keeping_its_other_fields(
    store: Store, teacher: httpx.Client, facts: Facts, schools: Schools
) -> None:
    _, lesson = facts.pair()
    substitute = next(t.id for t in schools.a[Entity.TEACHERS] if t.id != lesson.teacher_id)
    item = {
        "id": lesson.id,
        "topic": "Дроби",
        "homework": "§12, № 3–5",
        "substitute_teacher_id": substitute,
    }
    r = post(teacher, "lessons", [item])
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == 1
    with store.read() as tx:
        stored = tx.records.get(Entity.LESSONS, [lesson.id])[lesson.id]
    assert isinstance(stored, Lesson)
    assert (stored.topic, stored.homework, stored.substitute_teacher_id) == (
        "Дроби",
        "§12, № 3–5",
        substitute,
    )
    assert (stored.class_id, stored.date, stored.number, stored.teacher_id) == (
        lesson.class_id,
        lesson.date,
        lesson.number,
        lesson.teacher_id,
    )


def test_the_same_key_and_body_is_answered_again_and_writes_once(
    store: Store, teacher: httpx.Client, facts: Facts
) -> None:
    pupil, lesson = facts.pair()
    item = [{"pupil_id": pupil.id, "lesson_id": lesson.id, "code": "Н"}]
    first = post(teacher, "attendance", item, key="absence-1")
    again = post(teacher, "attendance", item, key="absence-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    with store.read() as tx:
        found = tx.records.ids_in_scope(
            Entity.ATTENDANCE, A, pupil_id=pupil.id, lesson_id=lesson.id
        )
    assert found == set(first.json()["ids"])
    other = post(teacher, "attendance", [{**item[0], "code": "Б"}], key="absence-1")
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"


def test_a_request_without_an_idempotency_key_is_refused(teacher: httpx.Client) -> None:
    r = teacher.post(f"/journal/v1/{A}/marks", json={"items": [{"value": "5"}]})
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["message"]


def _refusal(r: httpx.Response) -> list[tuple[int, str | None, str]]:
    assert r.status_code == 422, r.text
    return [(i["index"], i["field"], i["rule"]) for i in r.json()["items"]]


def test_each_refused_item_names_its_field_and_rule_and_nothing_is_stored(
    store: Store, teacher: httpx.Client, facts: Facts
) -> None:
    pupil, lesson = facts.pair()
    first_grader, first_lesson = facts.pair(parallel=1)
    good = {"pupil_id": pupil.id, "lesson_id": lesson.id, "value": "5"}
    items = [
        good,
        {**good, "value": "7"},
        {**good, "pupil_id": "nobody"},
        {**good, "weight": 42},
        {"pupil_id": first_grader.id, "lesson_id": first_lesson.id, "value": "5"},
        {"lesson_id": lesson.id, "value": "5"},
    ]
    before = _counts(store)
    assert _refusal(post(teacher, "marks", items)) == [
        (1, "value", "value_error"),
        (2, "pupil_id", "unknown_reference"),
        (3, "weight", "less_than_equal"),
        (4, "value", "grade1_mark"),
        (5, "pupil_id", "missing"),
    ]
    assert _counts(store) == before


def _counts(store: Store) -> tuple[int, int, int]:
    with store.read() as tx:
        return (
            tx.records.count(Entity.MARKS),
            tx.changes.last_position(),
            sum(tx.queries.outbox_totals().values()),
        )


def test_a_body_outside_the_schema_is_refused_per_item(teacher: httpx.Client) -> None:
    r = post(teacher, "marks", [{"value": "5"}, {"value": ["5"]}, {"colour": "red"}])
    assert _refusal(r) == [(1, "value", "string_type"), (2, "colour", "extra_forbidden")]


def test_school_rules_grade1_homework_and_dates_inside_the_year(
    teacher: httpx.Client, facts: Facts
) -> None:
    _, first_lesson = facts.pair(parallel=1)
    _, lesson = facts.pair()
    summer = {
        "class_id": lesson.class_id,
        "subject_id": lesson.subject_id,
        "date": "2026-07-15",
        "number": 1,
    }
    r = post(teacher, "lessons", [{"id": first_lesson.id, "homework": "прочитать"}, summer])
    assert _refusal(r) == [(0, "homework", "grade1_homework"), (1, "date", "outside_year")]
    ok = post(teacher, "lessons", [{**summer, "date": "2026-05-20", "topic": "Повторение"}])
    assert ok.status_code == 200 and ok.json()["created"] == 1


def test_marks_and_absences_only_for_pupils_enrolled_in_the_lesson(
    teacher: httpx.Client, facts: Facts
) -> None:
    pupil, lesson = facts.pair()
    other_class = next(
        x
        for x in facts.lessons
        if x.class_id != pupil.class_id and not x.subgroup_id and facts.parallel(x.class_id) > 1
    )
    group = next(g for g in facts.groups if g.class_id == pupil.class_id)
    outsider = next(
        p.id
        for p in facts.pupils.values()
        if p.class_id == group.class_id and p.id not in group.member_ids
    )
    group_lesson = next(x for x in facts.lessons if x.subgroup_id == group.id)
    left = next(e for e in facts.moves if e.kind == "leaving")
    after_leaving = next(
        x
        for x in facts.lessons
        # on the day of a movement the pupil counts as in both classes (sync.rules.enrolment)
        if x.class_id == left.from_class_id and x.date > left.date and not x.subgroup_id
    )
    items = [
        {"pupil_id": pupil.id, "lesson_id": other_class.id, "code": "Н"},
        {"pupil_id": outsider, "lesson_id": group_lesson.id, "code": "Н"},
        {"pupil_id": left.pupil_id, "lesson_id": after_leaving.id, "code": "Н"},
        {"pupil_id": pupil.id, "lesson_id": lesson.id, "code": "Н"},
    ]
    assert _refusal(post(teacher, "attendance", items)) == [
        (0, "pupil_id", "outside_enrolment"),
        (1, "pupil_id", "not_in_subgroup"),
        (2, "pupil_id", "outside_enrolment"),
    ]


def test_nothing_changes_inside_a_closed_period(
    store: Store, teacher: httpx.Client, facts: Facts
) -> None:
    pupil, _ = facts.pair()
    quarter = next(p for p in facts.periods if p.kind == "quarter" and 5 in p.parallels)
    with store.begin() as tx:
        tx.records.upsert(
            Entity.PERIODS, [quarter.model_copy(update={"closed": True})], source="es2"
        )
    inside = next(
        x
        for x in facts.lessons
        if x.class_id == pupil.class_id and quarter.start <= x.date <= quarter.end
        and not x.subgroup_id
    )  # fmt: skip
    stored = next(m for m in facts.marks if m.lesson_id == inside.id)
    r = post(
        teacher,
        "marks",
        [
            {"pupil_id": pupil.id, "lesson_id": inside.id, "value": "5"},
            {"id": stored.id, "value": "2"},
        ],
    )
    assert _refusal(r) == [(0, None, "closed_period"), (1, None, "closed_period")]
    gone = teacher.delete(f"/journal/v1/{A}/marks/{stored.id}", headers={"Idempotency-Key": "d1"})
    assert _refusal(gone) == [(0, None, "closed_period")]


def test_a_deleted_mark_is_a_tombstone_in_the_feed_and_a_push(
    store: Store, teacher: httpx.Client, facts: Facts
) -> None:
    mark = next(m for m in facts.marks if facts.parallel(_class_of(facts, m)) > 1)
    _, cursor = follow(teacher)
    r = teacher.delete(f"/journal/v1/{A}/marks/{mark.id}", headers={"Idempotency-Key": "del"})
    assert r.status_code == 200 and r.json() == {"deleted": 1}
    events, _ = follow(teacher, cursor=cursor)
    assert [(e["id"], e["op"]) for e in events] == [(mark.id, "delete")]
    with store.read() as tx:
        queued = tx.queries.outbox(OutboxFilter(record_ids=[mark.id]), Paging(10)).items
    assert {(i.system, i.op) for i in queued} == {(s, "delete") for s in TARGETS[Entity.MARKS]}
    missing = teacher.delete(f"/journal/v1/{A}/marks/nope", headers={"Idempotency-Key": "d2"})
    assert missing.status_code == 404


def _class_of(facts: Facts, mark: Mark) -> str:
    return next(x.class_id for x in facts.lessons if x.id == mark.lesson_id)


def test_a_school_without_a_journal_here_takes_no_writes(client_for: MakeToken) -> None:
    _, client = client_for("b-journal", ["sch2"], ["journal"])
    r = client.post(
        "/journal/v1/sch2/marks", json={"items": [{"value": "5"}]}, headers={"Idempotency-Key": "k"}
    )
    assert r.status_code == 404 and r.json()["error"] == "not_journal_school"


def test_period_marks_are_written_for_an_open_period(
    store: Store, teacher: httpx.Client, facts: Facts
) -> None:
    pupil, lesson = facts.pair()
    quarter = next(p for p in facts.periods if p.kind == "quarter" and 5 in p.parallels)
    item = {
        "pupil_id": pupil.id,
        "subject_id": lesson.subject_id,
        "period_id": quarter.id,
        "kind": "period",
        "value": "4",
    }
    r = post(teacher, "final_marks", [item, {**item, "kind": "term"}])
    assert _refusal(r) == [(1, "kind", "literal_error")]
    ok = post(teacher, "final_marks", [item])
    assert ok.status_code == 200 and ok.json()["created"] == 1
    with store.begin() as tx:
        tx.records.upsert(
            Entity.PERIODS, [quarter.model_copy(update={"closed": True})], source="es2"
        )
    closed = post(teacher, "final_marks", [{"id": ok.json()["ids"][0], "value": "5"}])
    assert _refusal(closed) == [(0, "value", "closed_period")]
