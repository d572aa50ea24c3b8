"""Canonical marks and absences → О7 push payloads (``SaveMarks`` / ``SaveAbsences`` items).

References must already be О7 GUIDs (the sync engine looks them up in the identity map); the
connector adds ``ext_id`` from the push item's key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.entities import Entity
from mapping.model import Attendance, Mark
from mapping.profile import Profile

#: (entity, gateway id) → О7 GUID, or None when the record has none in О7
GuidOf = Callable[[Entity, str], str | None]


def _guid(guid_of: GuidOf, entity: Entity, gid: str) -> str:
    guid = guid_of(entity, gid)
    if guid is None:
        from core.errors import RecordError

        raise RecordError("has no О7 id yet", entity=entity, record_id=gid, system="o7")
    return guid


def mark_to_wire(mark: Mark, guid_of: GuidOf, profile: Profile) -> dict[str, Any]:
    work = mark.work_type  # О7 spells work types in full, as the canonical model does
    return {
        "pupil_guid": _guid(guid_of, Entity.PUPILS, mark.pupil_id),
        "lesson_guid": _guid(guid_of, Entity.LESSONS, mark.lesson_id),
        "mark": str(mark.value),
        "mark_type": work,
    }


def absence_to_wire(item: Attendance, guid_of: GuidOf, profile: Profile) -> dict[str, Any]:
    return {
        "pupil_guid": _guid(guid_of, Entity.PUPILS, item.pupil_id),
        "lesson_guid": _guid(guid_of, Entity.LESSONS, item.lesson_id),
        "reason": profile.reverse("attendance").get(item.code.value, item.code.value),
    }
