"""Identity resolution: rewrite external references into gateway ids (pure; lookups injected).

A profile maps a wire record to a canonical record whose ``id`` and reference fields are external
references (``"es2:55001"``). :func:`resolve` asks ``lookup(system, entity, external_id)`` for the
gateway id of each. The record's own id may be minted by ``mint``; a reference that cannot be
resolved is a :class:`MissingReference` for that record (its target has not arrived, or was
refused: the record waits for it) — except a *soft* reference (``Record.soft_refs``: who taught a
lesson, a subgroup's members), which is left empty with a note and costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.entities import Entity, split_ext_ref
from core.errors import MissingReference, RecordError
from mapping.model import Record, Subgroup
from mapping.notes import FieldNote

Lookup = Callable[[str, Entity, str], str | None]
Mint = Callable[[str, Entity, str], str]

R = TypeVar("R", bound=Record)


def resolve(record: R, lookup: Lookup, mint: Mint | None = None) -> R:
    """The record with gateway ids in ``id`` and every reference field."""
    changes: dict[str, object] = {}
    notes: list[FieldNote] = []
    own = split_ext_ref(record.id)
    if own is not None:
        system, ext = own
        gid = lookup(system, record.entity, ext)
        if gid is None:
            if mint is None:
                raise RecordError(
                    "record not known to the gateway", entity=record.entity, record_id=record.id
                )
            gid = mint(system, record.entity, ext)
        changes["id"] = gid
    for field, target in record.refs.items():
        value = getattr(record, field)
        if value is not None:
            changes[field] = _resolve_one(record, field, value, target, lookup, notes)
    if isinstance(record, Subgroup):
        found = (
            _resolve_one(record, "member_ids", m, Entity.PUPILS, lookup, notes)
            for m in record.member_ids
        )
        changes["member_ids"] = tuple(sorted(m for m in found if m is not None))
    if notes:
        changes["_field_notes"] = (*record.field_notes, *notes)
    return record.model_copy(update=changes) if changes else record


def unknown_ref(record: Record, field: str, target: Entity, value: str) -> FieldNote:
    """The note for a soft reference left empty: what it named is not in the gateway."""
    return FieldNote(field, f"refers to {target} {value} which the gateway does not have", value)


def _resolve_one(
    record: Record,
    field: str,
    value: str,
    target: Entity,
    lookup: Lookup,
    notes: list[FieldNote],
) -> str | None:
    parts = split_ext_ref(value)
    if parts is None:
        return value
    gid = lookup(parts[0], target, parts[1])
    if gid is None:
        if field in record.soft_refs:
            notes.append(unknown_ref(record, field, target, value))
            return None
        raise MissingReference(
            entity=record.entity, record_id=record.id, field=field, target=target, ref=value
        )
    return gid
