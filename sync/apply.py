"""Applying planned decisions to the store, in the caller's transaction (imperative shell).

Writes the records (upsert/soft delete — each with its audit and change-log rows), the identity
links and agreements, the findings for the conflict queue, and the outbox rows that forward the
applied changes to every *other* system that takes pushes of the entity. A change that came from
a system is never queued back to it, and an unchanged record queues nothing: that is what stops
loops between systems.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.entities import Entity
from mapping.model import Record
from store import Tx
from sync.counts import RunCounts
from sync.keys import push_key
from sync.plan import Decision, Op, Stored
from sync.rules import BOTH_CHANGED, Finding


@dataclass(frozen=True)
class ApplyContext:
    school_id: str
    system: str
    run_id: int | None
    #: systems that take pushes of each entity (the source system is filtered out here)
    push_targets: Mapping[Entity, Sequence[str]]
    policy_name: str = ""


def apply_decisions(
    tx: Tx,
    ctx: ApplyContext,
    entity: Entity,
    decisions: Sequence[Decision],
    stored: Mapping[str, Stored],
    new_links: Sequence[tuple[str, str]],
    counts: RunCounts,
) -> list[Decision]:
    """Write what the decisions say; returns the decisions that changed the store."""
    upserts = [d.record for d in decisions if d.op in (Op.CREATE, Op.UPDATE) and d.record]
    deletes = [d.record_id for d in decisions if d.op is Op.DELETE]
    if upserts:
        tx.upsert(entity, upserts, source=ctx.system, run_id=ctx.run_id)
    if deletes:
        tx.delete(entity, deletes, source=ctx.system, run_id=ctx.run_id)

    agreed = {d.record_id: d.agreed_hash for d in decisions if d.agreed_hash is not None}
    linked_now = {gid for _, gid in new_links}
    tx.link_agreed(ctx.system, entity, [(ext, gid, agreed.get(gid)) for ext, gid in new_links])
    changed_agreements = {
        gid: h
        for gid, h in agreed.items()
        if gid not in linked_now and (gid not in stored or stored[gid].synced_hash != h)
    }
    tx.agree(ctx.system, entity, changed_agreements)

    findings: list[dict[str, Any]] = []
    recorded = _recorded(tx, ctx, entity, decisions)
    for d in decisions:
        for f in d.findings:
            if (
                _may_repeat(d, f)
                and _key(d.record_id, f.kind, f.field, d.incoming, d.current, d.base) in recorded
            ):
                continue  # the same edits read again: already on the conflict queue
            status = "noted"
            if d.op is Op.CONFLICT:
                status = "open"
            elif d.op is Op.REJECT:
                status = "rejected"
            findings.append(
                {
                    "school_id": ctx.school_id,
                    "system": ctx.system,
                    "entity": entity.value,
                    "record_id": d.record_id,
                    "kind": f.kind,
                    "field": f.field,
                    "detail": f.detail,
                    "status": status,
                    "policy": ctx.policy_name or None,
                    "base": _content(d.base),
                    "incoming": _content(d.incoming),
                    "current": _content(d.current),
                }
            )
    tx.findings_add(findings)

    applied = [d for d in decisions if d.applies]
    targets = [t for t in ctx.push_targets.get(entity, ()) if t != ctx.system]
    if applied and targets:
        versions = tx.versions(entity, [d.record_id for d in applied])
        tx.outbox_enqueue_many(
            [
                {
                    "school_id": ctx.school_id,
                    "system": target,
                    "entity": entity.value,
                    "record_id": d.record_id,
                    "op": "delete" if d.op is Op.DELETE else "upsert",
                    "idempotency_key": push_key(
                        target,
                        entity.value,
                        d.record_id,
                        versions.get(d.record_id, 0),
                        "delete" if d.op is Op.DELETE else "upsert",
                        d.record.content_hash if d.record is not None else "",
                    ),
                    "payload": {"origin": ctx.system, "version": versions.get(d.record_id, 0)},
                }
                for target in targets
                for d in applied
            ]
        )

    for d in decisions:
        counts.add(entity.value, _OUTCOME[d.op])
    return applied


_OUTCOME = {
    Op.CREATE: "created",
    Op.UPDATE: "updated",
    Op.DELETE: "deleted",
    Op.UNCHANGED: "unchanged",
    Op.CONFLICT: "conflicts",
    Op.REJECT: "rejected",
}


def _content(rec: Record | None) -> dict[str, Any] | None:
    return None if rec is None else rec.content()


def _may_repeat(d: Decision, f: Finding) -> bool:
    """Whether ``f`` may already be on the queue from an earlier read (see :func:`_recorded`)."""
    return not d.applies or f.kind == BOTH_CHANGED


_Key = tuple[str, str, str | None, str, str, str]


def _key(
    record_id: str,
    kind: str,
    field: str | None,
    incoming: Record | dict[str, Any] | None,
    current: Record | dict[str, Any] | None,
    base: Record | dict[str, Any] | None,
) -> _Key:
    """What makes two findings one: the record, the kind and field, and the versions met —
    for a conflict (both sides changed) also the version they last agreed on."""

    def canon(value: Record | dict[str, Any] | None) -> str:
        content = value.content() if isinstance(value, Record) else value
        return json.dumps(content, sort_keys=True, ensure_ascii=False)

    agreed = canon(base) if kind == BOTH_CHANGED else ""
    return (record_id, kind, field, canon(incoming), canon(current), agreed)


def _recorded(
    tx: Tx, ctx: ApplyContext, entity: Entity, decisions: Sequence[Decision]
) -> set[_Key]:
    """Findings already on the conflict queue for decisions that apply nothing.

    A held conflict, a conflict the local side won (its edit still waits in the outbox) and a
    rejected record are decided again each time the system sends the same version — the next
    incremental read's overlap, a full read. The same record, kind and versions (incoming and
    current) are one finding: recorded once, whatever became of it since. A conflict is the same
    one as long as the agreed version is too, even when this time the decision applies the
    incoming side (under ``newer-wins``, the system sent the same value again, later than the
    local edit).
    """
    ids = sorted({d.record_id for d in decisions for f in d.findings if _may_repeat(d, f)})
    out: set[_Key] = set()
    for rid in ids:
        for c in tx.conflicts_list(
            school_id=ctx.school_id, status=None, entity=entity.value, record_id=rid
        ):
            if c.system == ctx.system:
                out.add(_key(c.record_id, c.kind, c.field, c.incoming, c.current, c.base))
    return out
