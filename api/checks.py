"""The journal write API's edge checks, item by item: the canonical model first, then the records
an item names, then the school's rules (:mod:`sync.rules`) — each failure naming the field and
the rule. The journal itself (:mod:`sync.journal`) checks again when it stores the batch.

I/O is one read of the facts the rules need (:class:`Facts`); the checks are plain functions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from api.problems import ItemError
from core.entities import Entity
from mapping.model import (
    MODELS,
    AcademicYear,
    Attendance,
    Enrolment,
    Lesson,
    Mark,
    Period,
    Record,
)
from store import Tx
from sync import rules
from sync.facts import StoreFacts


@dataclass
class Facts:
    """What the checks of one request need from the store, read once."""

    school_id: str
    rule_context: StoreFacts
    #: live records of the school, by entity: id → selected fields
    known: dict[Entity, set[str]] = field(default_factory=dict)
    lessons: dict[str, tuple[str, str | None, dt.date]] = field(default_factory=dict)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)  # subgroup → pupils
    subgroup_class: dict[str, str] = field(default_factory=dict)
    stays: dict[str, list[rules.Stay]] = field(default_factory=dict)
    years: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)

    @classmethod
    def read(cls, tx: Tx, school_id: str, records: Sequence[Record]) -> Facts:
        ctx = StoreFacts(school_id)
        ctx.load_roster(tx)
        facts = cls(school_id, ctx)
        wanted: dict[Entity, set[str]] = defaultdict(set)
        for rec in records:
            for name, target in type(rec).refs.items():
                value = getattr(rec, name, None)
                if isinstance(value, str):
                    wanted[target].add(value)
        for entity, ids in wanted.items():
            found = tx.records.fields_of(entity, sorted(ids), ("school_id",))
            facts.known[entity] = {i for i, (school,) in found.items() if school == school_id}
        lesson_ids = sorted(wanted.get(Entity.LESSONS, ()))
        ctx.prefetch_lessons(tx, lesson_ids)
        for lid, (class_id, group, day) in tx.records.fields_of(
            Entity.LESSONS, lesson_ids, ("class_id", "subgroup_id", "date")
        ).items():
            facts.lessons[lid] = (class_id, group, day)
        groups = {g for _, g, _ in facts.lessons.values() if g} | wanted.get(
            Entity.SUBGROUPS, set()
        )
        for gid, (class_id, members) in tx.records.fields_of(
            Entity.SUBGROUPS, sorted(groups), ("class_id", "member_ids")
        ).items():
            facts.subgroup_class[gid] = class_id
            facts.members[gid] = tuple(members or ())
        pupils = sorted(wanted.get(Entity.PUPILS, ()))
        moves: dict[str, list[Enrolment]] = defaultdict(list)
        if pupils:
            ids = tx.records.ids_in_scope(Entity.ENROLMENTS, school_id, pupil_id=pupils)
            for e in tx.records.get(Entity.ENROLMENTS, ids).values():
                if isinstance(e, Enrolment):
                    moves[e.pupil_id].append(e)
        for pid, (class_id, left) in tx.records.fields_of(
            Entity.PUPILS, pupils, ("class_id", "left_date")
        ).items():
            facts.stays[pid] = rules.stays(moves.get(pid, []), class_id, left)
        facts.years = [
            (y.start, y.end)
            for y in tx.records.iter(Entity.YEARS, school_id)
            if isinstance(y, AcademicYear)
        ]
        facts.periods = [
            p for p in tx.records.iter(Entity.PERIODS, school_id) if isinstance(p, Period)
        ]
        return facts

    def year_of(self, parallel: int | None, day: dt.date) -> tuple[dt.date, dt.date] | None:
        """The academic year a date should fall in: the school's year record around it, or else
        the span of the parallel's marking periods; None when the store knows neither."""
        for start, end in self.years:
            if start <= day <= end:
                return start, end
        if self.years:
            return min(self.years, key=lambda y: abs((y[0] - day).days))
        spans = [p for p in self.periods if parallel is None or parallel in p.parallels]
        if not spans:
            return None
        return min(p.start for p in spans), max(p.end for p in spans)


def build(
    entity: Entity,
    index: int,
    given: Mapping[str, Any],
    stored: Record | None,
    *,
    school_id: str,
    new_id: str,
    now: dt.datetime,
) -> Record | ItemError:
    """The record an item asks for: the stored one with the given fields over it (or a new one),
    validated by the canonical model."""
    if stored is not None:
        data = stored.model_dump()
        rid = stored.id
    else:
        data = {"id": new_id, "school_id": school_id}
        if entity is Entity.MARKS:
            data["created_at"] = now
        rid = new_id
    data.update({k: v for k, v in given.items() if k != "id"})
    data["modified_at"] = now
    try:
        return MODELS[entity].model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False, include_context=False)[0]
        loc = err["loc"]
        return ItemError(
            index,
            str(loc[0]) if loc else None,
            err["type"],
            str(err["msg"]).removeprefix("Value error, "),
            rid,
        )


def check(index: int, record: Record, stored: Record | None, facts: Facts) -> ItemError | None:
    """The first reference or rule the record breaks, or None."""
    for name, target in type(record).refs.items():
        value = getattr(record, name, None)
        if isinstance(value, str) and value not in facts.known.get(target, set()):
            return ItemError(
                index, name, "unknown_reference", f"no {target} with that id in the school",
                record.id,
            )  # fmt: skip
    if (
        isinstance(record, Lesson)
        and record.subgroup_id is not None
        and facts.subgroup_class.get(record.subgroup_id) != record.class_id
    ):
        return ItemError(
            index, "subgroup_id", "subgroup_of_class", "the subgroup is not of the lesson's class",
            record.id,
        )  # fmt: skip
    for finding in _findings(record, stored, facts):
        if finding is not None and finding.blocking:
            return ItemError(index, finding.field, finding.kind, finding.detail, record.id)
    return None


def _findings(
    record: Record, stored: Record | None, facts: Facts
) -> Iterable[rules.Finding | None]:
    ctx = facts.rule_context
    yield rules.grade1(record, ctx)
    yield rules.closed_period(record, ctx)
    if stored is not None:  # moving a record out of a closed period changes that period too
        yield rules.closed_period(stored, ctx)
    if isinstance(record, Lesson):
        parallel = ctx.class_parallel(record.class_id)
        yield rules.grade1_homework(record, parallel)
        yield rules.outside_year(record.date, facts.year_of(parallel, record.date), "date")
    elif isinstance(record, Mark | Attendance):
        place = facts.lessons.get(record.lesson_id)
        if place is not None:
            class_id, group, day = place
            parallel = ctx.class_parallel(class_id)
            yield rules.outside_year(day, facts.year_of(parallel, day), "lesson_id")
            members = facts.members.get(group) if group is not None else None
            yield rules.not_enrolled(
                record, day, class_id, facts.stays.get(record.pupil_id, []), members
            )
