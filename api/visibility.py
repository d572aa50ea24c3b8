"""Who sees what (``shared/domain.md``): pure decisions over a token's grants and a record.

- A token sees only its schools.
- Birth date and СНИЛС leave the server only for a token with the ``personal`` scope.
- A diary token (one pupil's) sees that pupil's marks, period marks and attendance, the lessons
  of the pupil's class (homework) — class-wide ones and those of the pupil's subgroups — its own
  pupil record, and the school's reference data (school, year, periods, subjects); nothing of
  anyone else.
- Every read of a person's record (pupils, teachers) is logged by token and record id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.entities import Entity

#: fields that are personal data beyond a name (152-ФЗ), per entity
PERSONAL_FIELDS: Mapping[str, tuple[str, ...]] = {Entity.PUPILS.value: ("birth_date", "snils")}
#: entities whose records are people: their reads go to the access log
PEOPLE = frozenset({Entity.PUPILS.value, Entity.TEACHERS.value})
#: what a diary token sees wholly: the school's reference data
DIARY_SHARED = (
    Entity.SCHOOLS.value,
    Entity.YEARS.value,
    Entity.PERIODS.value,
    Entity.SUBJECTS.value,
)
#: what a diary token sees of its own pupil only (by the record's ``pupil_id``)
DIARY_OWN = (Entity.MARKS.value, Entity.FINAL_MARKS.value, Entity.ATTENDANCE.value)


def shown(entity: str, content: dict[str, Any], *, personal: bool) -> dict[str, Any]:
    """The content as it may leave the server: personal fields dropped without the scope."""
    hidden = PERSONAL_FIELDS.get(entity)
    if personal or not hidden:
        return content
    return {k: v for k, v in content.items() if k not in hidden}


def fields_read(entity: str, *, personal: bool) -> str:
    """What the access log says was read of a person's record."""
    return "names+personal" if personal and entity in PERSONAL_FIELDS else "names"


def hidden_fields(*, personal: bool) -> Mapping[str, tuple[str, ...]]:
    """Fields left out of what a reader gets, per entity."""
    return {} if personal else PERSONAL_FIELDS


def diary_entities() -> Sequence[str]:
    """Entities a diary token may list in snapshots."""
    return sorted({*DIARY_SHARED, *DIARY_OWN, Entity.LESSONS.value, Entity.PUPILS.value})
