"""What a person decides: conflicts, holds and identity reviews (used by the CLI and console).

- **Conflict, take remote**: the system's version (``incoming``) is written to the store, as the
  system's change, and agreed with the system. For a deletion the record is deleted.
- **Conflict, take local**: the store keeps its version and it is queued to the system, so the
  two agree again after the next push.
- **Hold approve**: records the yes (the caller runs the held pull again with the hold lifted);
  **discard** just records the no.
- **Identity link / reject**: link an external person to a gateway person, or say nobody matches
  (the next pull creates a new person).
"""

from __future__ import annotations

from typing import Literal

from core.entities import Entity
from core.errors import GatewayError, StoreError
from mapping.model import MODELS
from store import Conflict, Hold, Store
from sync.journal import LOCAL
from sync.outbox import pushes

Take = Literal["local", "remote"]


def resolve_conflict(store: Store, conflict_id: int, take: Take, *, by: str) -> Conflict:
    with store.begin() as tx:
        conflict = tx.conflicts.get(conflict_id)
        if conflict is None or conflict.status != "open":
            raise StoreError(f"conflict {conflict_id} does not exist or is not open")
        entity = Entity(conflict.entity)
        model = MODELS[entity]
        current = tx.records.get(entity, [conflict.record_id]).get(conflict.record_id)
        if take == "remote":
            if conflict.incoming is None:
                if current is not None:
                    tx.records.delete(
                        entity, [conflict.record_id], source=conflict.system, actor=by
                    )
            else:
                meta = (
                    current.model_dump(include={"ext_ids", "modified_at", "created_at"})
                    if current
                    else {}
                )
                record = model.model_validate(
                    {
                        **meta,
                        **conflict.incoming,
                        "id": conflict.record_id,
                        "school_id": conflict.school_id,
                    }
                )
                tx.records.upsert(entity, [record], source=conflict.system, actor=by)
                tx.identity.agree(conflict.system, entity, {record.id: record.content_hash})
        elif current is not None:
            tx.outbox.enqueue_many(
                pushes(
                    conflict.school_id,
                    entity,
                    [current.id],
                    op="upsert",
                    targets=[conflict.system],
                    versions=tx.records.versions(entity, [current.id]),
                    origin=LOCAL,
                    hashes={current.id: current.content_hash},
                    key_tag=f"resolve-{conflict_id}",
                    extra={"conflict": conflict_id},
                )
            )
        tx.conflicts.resolve(conflict_id, f"take-{take}", by=by)
        resolved = tx.conflicts.get(conflict_id)
    assert resolved is not None
    return resolved


def approve_hold(store: Store, hold_id: int, *, by: str) -> Hold:
    """Record the yes; the caller then runs the held pull again with ``approve_hold=True``."""
    with store.begin() as tx:
        hold = tx.holds.get(hold_id)
        if hold is None or hold.status != "waiting":
            raise StoreError(f"hold {hold_id} does not exist or is already decided")
        tx.holds.decide(hold_id, approve=True, by=by)
    return hold


def discard_hold(store: Store, hold_id: int, *, by: str) -> None:
    with store.begin() as tx:
        tx.holds.decide(hold_id, approve=False, by=by)


def decide_identity(store: Store, item_id: int, *, link_to: str | None, by: str) -> None:
    with store.begin() as tx:
        if link_to is not None:
            items = {i.id: i for i in tx.reviews.find(status="open")}
            item = items.get(item_id)
            if item is None:
                raise StoreError(f"review item {item_id} does not exist or is not open")
            found = tx.records.get(Entity(item.entity), [link_to])
            if link_to not in found:
                raise GatewayError(f"no {item.entity} record {link_to} to link to")
        tx.reviews.decide(item_id, linked_id=link_to, by=by)
