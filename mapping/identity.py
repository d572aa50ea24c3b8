"""Identity resolution: rewrite external references into gateway ids (pure; lookups injected).

A profile maps a wire record to a canonical record whose ``id`` and reference fields are external
references (``"es2:55001"``). :func:`resolve` asks ``lookup(system, entity, external_id)`` for the
gateway id of each. The record's own id may be minted by ``mint``; a reference that cannot be
resolved is a :class:`RecordError` for that record (its target has not arrived, or was rejected).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.entities import Entity, split_ext_ref
from core.errors import RecordError
from mapping.model import Record, Subgroup

Lookup = Callable[[str, Entity, str], str | None]
Mint = Callable[[str, Entity, str], str]

R = TypeVar("R", bound=Record)


def resolve(record: R, lookup: Lookup, mint: Mint | None = None) -> R:
    """The record with gateway ids in ``id`` and every reference field."""
    changes: dict[str, object] = {}
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
        changes.update(_resolve_field(record, field, target, lookup))
    if isinstance(record, Subgroup):
        members = record.member_ids
        changes["member_ids"] = tuple(
            sorted(_resolve_one(record, "member_ids", m, Entity.PUPILS, lookup) for m in members)
        )
    return record.model_copy(update=changes) if changes else record


def _resolve_field(record: Record, field: str, target: Entity, lookup: Lookup) -> dict[str, object]:
    value = getattr(record, field)
    if value is None:
        return {}
    return {field: _resolve_one(record, field, value, target, lookup)}


def _resolve_one(record: Record, field: str, value: str, target: Entity, lookup: Lookup) -> str:
    parts = split_ext_ref(value)
    if parts is None:
        return value
    gid = lookup(parts[0], target, parts[1])
    if gid is None:
        raise RecordError(
            f"refers to {target} {value} which the gateway does not know",
            entity=record.entity,
            record_id=record.id,
            field=field,
        )
    return gid
