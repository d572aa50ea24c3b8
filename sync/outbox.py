"""Pushes to queue: the outbox rows of applied changes, built in one place.

An applied change is queued for every system that takes pushes of its entity, except the one it
came from (that is what stops loops between systems). Each row's idempotency key names the record,
its version and content for that system (:func:`sync.keys.push_key`), so the same change is queued
once however often it is queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.entities import Entity
from store import NewPush
from sync.keys import push_key


def pushes(
    school_id: str,
    entity: Entity,
    ids: Sequence[str],
    *,
    op: str,
    targets: Iterable[str],
    versions: Mapping[str, int],
    origin: str,
    hashes: Mapping[str, str] | None = None,
    key_tag: str = "",
    extra: Mapping[str, Any] | None = None,
) -> list[NewPush]:
    """One row per (target, record). ``origin`` is where the change came from (a system or
    ``local``) and is never a target; ``key_tag`` makes a key of its own for a deliberate resend
    of the same version (a conflict resolved for the store's side)."""
    hashes = hashes or {}
    return [
        NewPush(
            school_id=school_id,
            system=target,
            entity=entity.value,
            record_id=rid,
            op=op,
            idempotency_key=push_key(
                target,
                entity.value,
                rid,
                versions.get(rid, 0),
                key_tag or op,
                hashes.get(rid, ""),
            ),
            payload={"origin": origin, "version": versions.get(rid, 0), **(extra or {})},
        )
        for target in targets
        if target != origin
        for rid in ids
    ]
