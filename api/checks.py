"""The journal write API's edge checks, item by item: the canonical model first, then the records
an item names (in the school, a subgroup of the lesson's class, a pupil of the lesson's subgroup)
— each failure naming the field and the rule. The school's rules (grade 1, closed periods,
enrolment, dates inside the year …) are the journal's own (:mod:`sync.journal`), asked before
anything is stored.

I/O is one read of the facts the rules need (:class:`Facts`); the checks are plain functions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from api.problems import ItemError
from core.entities import Entity
from mapping.model import (
    MODELS,
    Attendance,
    Lesson,
    Mark,
    Record,
)
from store import Tx
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
        return facts


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
    if isinstance(record, Mark | Attendance):
        place = facts.lessons.get(record.lesson_id)
        members = facts.members.get(place[1]) if place is not None and place[1] else None
        if members is not None and record.pupil_id not in members:
            return ItemError(
                index, "pupil_id", "not_in_subgroup", "the pupil is not in the lesson's subgroup",
                record.id,
            )  # fmt: skip
    return None
