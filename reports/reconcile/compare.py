"""Comparing one record as the store holds it with the same record as the system holds it (pure).

Both sides are content in JSON form (:meth:`mapping.model.Record.content`; the store's rows give
the same form). Free text is compared the way the mapping normalises names — look-alike Latin
letters made Cyrillic, ``ё`` as ``е``, runs of spaces as one, dashes as hyphens — so that only
real differences show; a record that differs only so is *matched after normalising*. Fields the
system does not carry (and fields the gateway owns, such as ``Period.closed``) are not compared.
Personal fields (ФИО, birth date, СНИЛС) are named but their values never leave the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.entities import Entity
from core.names import fix_lookalikes, tidy_name
from mapping.model import PERSONAL_FIELDS

#: free-text fields, compared normalised
TEXT_FIELDS = frozenset(
    {"name", "short", "last_name", "first_name", "middle_name", "topic", "homework", "work_type"}
)

#: what an only-in-one-place row shows of the record (besides where it sits)
MAIN_FIELDS: dict[Entity, tuple[str, ...]] = {
    Entity.PERIODS: ("name", "start", "end"),
    Entity.SUBJECTS: ("name",),
    Entity.TEACHERS: ("last_name",),
    Entity.CLASSES: ("name",),
    Entity.PUPILS: ("last_name", "status"),
    Entity.ENROLMENTS: ("kind", "date"),
    Entity.SUBGROUPS: ("name",),
    Entity.LESSONS: ("number", "topic"),
    Entity.MARKS: ("value", "work_type"),
    Entity.FINAL_MARKS: ("kind", "value"),
    Entity.ATTENDANCE: ("code",),
}

#: how much a difference matters to a deputy director (5: the most), per entity …
_SEVERITY: dict[Entity, int] = {
    Entity.FINAL_MARKS: 5,
    Entity.PUPILS: 5,
    Entity.MARKS: 4,
    Entity.ATTENDANCE: 3,
    Entity.CLASSES: 3,
    Entity.LESSONS: 2,
    Entity.SUBGROUPS: 2,
}
#: … and fields that matter less than their record
_MINOR_FIELDS = frozenset({"topic", "homework", "work_type", "weight", "short", "middle_name"})


@dataclass(frozen=True, slots=True)
class FieldDiff:
    field: str
    store: Any
    system: Any

    def to_json(self) -> dict[str, Any]:
        """The stored form: a personal field without its values."""
        if self.field in PERSONAL_FIELDS:
            return {"field": self.field, "personal": True}
        return {"field": self.field, "store": self.store, "system": self.system}


def text_key(text: str) -> str:
    """Free text as compared: tidied (spaces, dashes), look-alike letters fixed, ``ё`` → ``е``."""
    return fix_lookalikes(tidy_name(text)).replace("ё", "е").replace("Ё", "Е")


def _same(field: str, a: Any, b: Any) -> bool:
    if a == b:
        return True
    if field in TEXT_FIELDS:
        ta = text_key(a) if isinstance(a, str) else a
        tb = text_key(b) if isinstance(b, str) else b
        return bool((ta or None) == (tb or None))
    return False


def field_diffs(
    store: Mapping[str, Any], system: Mapping[str, Any], skip: Iterable[str] = ()
) -> tuple[list[FieldDiff], bool]:
    """The fields that really differ, and whether any differed only in spelling."""
    skipped = frozenset(skip)
    out: list[FieldDiff] = []
    spelling = False
    for name in sorted(store.keys() | system.keys()):
        if name in skipped:
            continue
        a, b = store.get(name), system.get(name)
        if a == b:
            continue
        if _same(name, a, b):
            spelling = True
            continue
        out.append(FieldDiff(name, a, b))
    return out, spelling


def main_fields(entity: Entity, content: Mapping[str, Any], *, side: str) -> list[FieldDiff]:
    """What an only-in-one-place row shows: the record's main fields on its ``side``."""
    names = MAIN_FIELDS.get(entity, ())
    if side == "store":
        return [FieldDiff(n, content.get(n), None) for n in names]
    return [FieldDiff(n, None, content.get(n)) for n in names]


def severity(entity: Entity, kind: str, fields: Iterable[str] = ()) -> int:
    base = _SEVERITY.get(entity, 1)
    names = set(fields)
    if kind == "different" and names and names <= _MINOR_FIELDS:
        return max(1, base - 2)
    return base


def difference_key(
    kind: str, entity: Entity, record_id: str | None, external: str | None, fields: Iterable[str]
) -> str:
    """What makes two reconciliations' rows the same difference."""
    who = record_id or f"ext:{external}"
    names = ",".join(sorted(fields)) if kind == "different" else ""
    return f"{kind}|{entity.value}|{who}|{names}"[:300]
