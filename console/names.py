"""Names for the values a page shows (a pupil's ФИО for ``pupil_id``, a lesson's date, number and
subject for ``lesson_id``), read in a fixed number of statements for a whole page: every id of one
kind in one query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.entities import Entity, split_ext_ref
from core.names import join_fio
from mapping.model import (
    PERSONAL_FIELDS,
    Lesson,
    Period,
    Pupil,
    Record,
    SchoolClass,
    Subject,
    Teacher,
)
from reports import text
from reports.names import REF_FIELDS, unknown
from store import Tx

HIDDEN = "скрыто (персональные данные: см. систему-источник)"


def _label(rec: Record | None, rid: str, subjects: Mapping[str, Record]) -> str:
    if isinstance(rec, Pupil | Teacher):
        return join_fio(rec.last_name, rec.first_name, rec.middle_name)
    if isinstance(rec, SchoolClass | Subject | Period):
        return rec.name
    if isinstance(rec, Lesson):
        subject = subjects.get(rec.subject_id)
        name = subject.name if isinstance(subject, Subject) else ""
        return f"{text.day(rec.date)}, {rec.number}-й урок" + (f", {name}" if name else "")
    if rec is not None and hasattr(rec, "name"):
        return str(rec.name)
    return unknown(rid)


class PageNames:
    """``resolve(values)`` once for a page, then ``value(field, raw)`` for every cell."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.labels: dict[str, str] = {}

    def resolve(self, rows: Iterable[Mapping[str, Any] | None]) -> None:
        wanted: dict[Entity, set[str]] = {}
        for row in rows:
            for field, raw in (row or {}).items():
                target = REF_FIELDS.get(field)
                if target is not None and isinstance(raw, str) and raw and not split_ext_ref(raw):
                    wanted.setdefault(target, set()).add(raw)
        self.people(wanted)

    def people(self, wanted: Mapping[Entity, Iterable[str]]) -> None:
        found: dict[str, Record] = {}
        for entity in sorted(wanted, key=lambda e: e.value):
            found.update(self.tx.queries.records_by_id(entity, list(wanted[entity])))
        subject_ids = {r.subject_id for r in found.values() if isinstance(r, Lesson)}
        subjects = (
            self.tx.queries.records_by_id(Entity.SUBJECTS, subject_ids) if subject_ids else {}
        )
        for ids in wanted.values():
            for rid in ids:
                self.labels[rid] = _label(found.get(rid), rid, subjects)

    def value(self, field: str, raw: Any) -> str:
        if field in PERSONAL_FIELDS and field not in ("last_name", "first_name", "middle_name"):
            return HIDDEN if raw not in (None, "") else "—"
        if REF_FIELDS.get(field) is not None and isinstance(raw, str):
            return self.labels.get(raw) or (unknown(raw) if split_ext_ref(raw) else raw)
        if raw is None or raw == "":
            return "—"
        return text.value(field, raw)
