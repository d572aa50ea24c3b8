"""What the store knows of incoming records, as one system sees them: their current version,
the content this system last agreed on and, when both sides changed since, that agreed content
itself — the three versions the planner compares (:class:`sync.plan.Stored`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

from core.entities import Entity
from mapping.model import Record, Tombstone
from store import Tx
from sync.plan import Stored, needs_base


def stored_states(
    tx: Tx,
    system: str,
    entity: Entity,
    items: Sequence[Record | Tombstone],
    fresh: Collection[str] = (),
) -> dict[str, Stored]:
    """``id → Stored`` for the items the store holds (``fresh``: ids just minted, which it
    cannot hold yet, so they are not looked up)."""
    ids = [i.id for i in items if i.id not in fresh] if fresh else [i.id for i in items]
    heads = tx.records.states(entity, ids)
    agreements = tx.identity.agreements(system, entity, ids)
    stored: dict[str, Stored] = {}
    decode: dict[str, None] = {}
    once = Counter(ids)
    for item in items:
        head = heads.get(item.id)
        if head is None:
            continue
        content_hash, version, deleted = head
        if deleted:
            stored[item.id] = Stored(None, version, agreements.get(item.id))
        elif isinstance(item, Record) and once[item.id] == 1 and item.content_hash == content_hash:
            # the same content as stored: the incoming record stands in for the stored one
            # (they differ at most in ids and times, which a record found unchanged is not
            # compared by), so the stored one is not read back and rebuilt
            stored[item.id] = Stored(item, version, agreements.get(item.id))
        else:
            decode[item.id] = None
    for rid, (rec, ver) in tx.records.record_states(entity, list(decode)).items():
        stored[rid] = Stored(record=rec, version=ver, synced_hash=agreements.get(rid))
    for item in items:
        st = stored.get(item.id)
        if st is not None and st.synced_hash and needs_base(item, st):
            base = tx.history.content_at(entity, item.id, st.synced_hash)
            stored[item.id] = Stored(st.record, st.version, st.synced_hash, base)
    return stored
