"""A store for the console's tests and bench: a generated school as a sync leaves it, plus what
the console shows — runs (one failed pull), open conflicts on real marks (base, incoming and
current), held pulls, identity reviews, failed pushes, a stored reconciliation with rows in many
classes and subjects, extra schools in the overview, console users.

``rows`` sets how many of each listing there are (10 and 1,000 for the query-count test; the
large school for the bench)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from core.entities import Entity
from fixtures.generator import generate_school
from mapping.model import Mark, Pupil, Record
from store import NewDifference, NewFinding, NewPush, Store
from store.types import utcnow

PASSWORDS = {
    "admin": "admin-password-1",
    "deputy": "deputy-password-1",
    "director": "director-password-1",
    "other": "other-password-1",
}


@dataclass
class World:
    school_id: str
    school_name: str
    failed_run: int = 0
    conflicts: list[int] = field(default_factory=list)
    reconciliation: int = 0
    class_id: str = ""
    subject_id: str = ""
    period_id: str = ""
    holds: list[int] = field(default_factory=list)
    reviews: list[int] = field(default_factory=list)


def fill_school(store: Store, seed: int = 7, size: str = "tiny") -> tuple[str, str]:
    school = generate_school(seed, size)
    for entity in Entity:
        records: list[Record]
        if entity is Entity.SCHOOLS:
            records = [school.school]
        elif entity is Entity.YEARS:
            records = [school.year]
        else:
            records = list(school.records(entity))
        with store.begin() as tx:
            tx.records.upsert(entity, records, source="es2")
    return school.school.id, school.school.name


def build(store: Store, rows: int = 10, *, seed: int = 7, size: str = "tiny") -> World:
    """Fill a migrated store; ``rows`` of each listing."""
    from console import users

    school_id, name = fill_school(store, seed, size)
    world = World(school_id, name)
    with store.read() as tx:
        marks = [m for m in tx.records.iter(Entity.MARKS, school_id) if isinstance(m, Mark)]
        pupils = [p for p in tx.records.iter(Entity.PUPILS, school_id) if isinstance(p, Pupil)]
        periods = list(tx.records.iter(Entity.PERIODS, school_id))
    marks.sort(key=lambda m: m.id)
    world.period_id = sorted(periods, key=lambda p: p.id)[0].id
    with store.begin() as tx:
        for system in ("es2", "asiou", "o7"):
            run = tx.runs.start(school_id, system, "pull")
            counts = {"marks": {"created": 120, "updated": 3, "unchanged": 900}}
            tx.runs.finish(run, "success", counts)
            push = tx.runs.start(school_id, system, "push")
            tx.runs.finish(push, "success", {"marks": {"sent": 3, "accepted": 3}})
        failed = tx.runs.start(school_id, "es2", "pull")
        tx.conflicts.add_findings(
            [
                NewFinding(
                    school_id=school_id, system="es2", entity="marks", record_id=f"es2:m{i}",
                    kind="invalid_record", status="rejected", field="value",
                    detail="mark value '6' is not one of the school's marks",
                    incoming={"value": "6"},
                )
                for i in range(2)
            ]
            + [
                NewFinding(
                    school_id=school_id, system="es2", entity="marks", record_id="es2:m9",
                    kind="waiting_reference", status="waiting", field="lesson_id",
                    detail="the lesson es2:l77 has not arrived yet",
                )
            ]
        )  # fmt: skip
        tx.runs.finish(
            failed,
            "failed",
            {"pupils": {"unchanged": 300}, "marks": {"created": 12, "rejected": 2}},
            error="ES2 answered 503 Service Unavailable at /api/v2/marks (page 14); "
            "the next run reads the rest",
        )
        world.failed_run = failed
        # extra schools in the overview: a region's administrator sees many
        for i in range(rows):
            other = f"reg{i:04d}"
            run = tx.runs.start(other, "asiou", "pull")
            tx.runs.finish(run, "failed" if i % 7 == 0 else "success", {})
        for i, mark in enumerate(marks[:rows]):
            base = mark.content()
            incoming = {**base, "value": "3" if base.get("value") != "3" else "4"}
            current = {**base, "value": "5" if base.get("value") != "5" else "2"}
            world.conflicts.append(
                tx.conflicts.add(
                    school_id,
                    "asiou" if i % 2 else "es2",
                    "marks",
                    mark.id,
                    "both_changed",
                    field="value",
                    base=base,
                    incoming=incoming,
                    current=current,
                    policy="manual",
                    detail="the mark changed here and in the system",
                )
            )
        for i in range(rows):
            world.holds.append(
                tx.holds.add(
                    school_id,
                    "asiou",
                    "mass_deactivation",
                    {
                        "detail": f"{40 + i} of 300 active pupils (13%) would leave; the limit is 10%"
                    },
                )
            )
        for i in range(rows):
            cands = [p.id for p in pupils[i % len(pupils) : i % len(pupils) + 2]]
            world.reviews.append(
                tx.reviews.add(
                    school_id,
                    "o7",
                    Entity.PUPILS,
                    f"o7-person-{i}",
                    cands,
                    "same name and birth date, different class",
                )
            )
        pushes = [
            NewPush(
                school_id=school_id,
                system="o7",
                entity="marks",
                record_id=m.id,
                op="upsert",
                idempotency_key=f"world-{m.id}",
                payload={"value": "5"},
            )
            for m in marks[:rows]
        ]
        tx.outbox.enqueue_many(pushes)
    _fail_pushes(store, school_id, rows)
    world.reconciliation = _reconciliation(store, school_id, marks, rows, world)
    for login, role in (("admin", "admin"), ("deputy", "deputy"), ("director", "director")):
        users.create_user(
            store, login=login, name=_NAMES[login], role=role, schools=[school_id],
            password=PASSWORDS[login],
        )  # fmt: skip
    users.create_user(
        store, login="other", name="Чужая Завуч", role="deputy", schools=["reg0001"],
        password=PASSWORDS["other"],
    )  # fmt: skip
    return world


_NAMES = {
    "admin": "Администратор Шлюза",
    "deputy": "Петрова Анна Сергеевна",
    "director": "Сидоров Павел Ильич",
}


def _fail_pushes(store: Store, school_id: str, rows: int) -> None:
    from sqlalchemy import update

    from store.outbox import OUTBOX

    with store.begin() as tx:
        tx.conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.school_id == school_id)
            .values(
                status="failed",
                error="no answer (timeout)",
                next_attempt_at=utcnow() + dt.timedelta(minutes=5),
            )
        )


def _reconciliation(
    store: Store, school_id: str, marks: list[Mark], rows: int, world: World
) -> int:
    with store.read() as tx:
        lessons = tx.queries.lesson_keys(school_id)
    diffs = []
    for i, m in enumerate(marks[: rows * 3]):
        key = lessons.get(m.lesson_id)
        if key is None:
            continue
        kind = ("different", "only_store", "only_system")[i % 3]
        diffs.append(
            NewDifference(
                kind=kind, section=kind, entity="marks", record_id=m.id,
                external_id=f"e{i}", key=f"marks:{m.id}", severity=2,
                fields=[{"field": "value", "store": m.content()["value"], "system": "3"}]
                if kind == "different" else [],
                class_id=key.class_id, subject_id=key.subject_id, pupil_id=m.pupil_id,
                day=key.date,
            )
        )  # fmt: skip
    first = next(d for d in diffs)
    world.class_id, world.subject_id = first.class_id or "", first.subject_id or ""
    buckets: dict[tuple[Any, Any], dict[str, Any]] = {}
    for d in diffs:
        b = buckets.setdefault(
            (d.class_id, d.subject_id),
            {"class_id": d.class_id, "subject_id": d.subject_id, "matched": 10, "worst": []},
        )
        b[d.section] = b.get(d.section, 0) + 1
    sections: dict[str, int] = {}
    for d in diffs:
        sections[d.section] = sections.get(d.section, 0) + 1
    with store.begin() as tx:
        rec = tx.reconciliations.start(school_id, "es2", {}, "all")
        tx.reconciliations.add_items(rec, diffs)
        tx.reconciliations.finish(
            rec,
            status="done",
            summary={
                "sections": sections,
                "entities": {"marks": {"matched": 1000, **sections}},
                "compared": ["marks"],
                "buckets": list(buckets.values()),
                "queues": {},
            },
        )
    return rec
