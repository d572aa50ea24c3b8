"""Applying planned decisions to the store, in the caller's transaction (imperative shell).

In four steps: write the records (upsert/soft delete — each with its audit and change-log
rows); record the identity links and what this system now agrees on; put the findings on the
conflict queue (once: the same edits read again are not queued twice); queue the applied changes
for every *other* system that takes pushes of the entity. A change that came from a system is
never queued back to it, and an unchanged record queues nothing: that is what stops loops between
systems.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from core.entities import Entity
from mapping.model import Record
from store import NewFinding, Tx
from sync import findings as finding_rows
from sync.counts import RunCounts
from sync.outbox import pushes
from sync.plan import Decision, Op, Stored
from sync.rules import BOTH_CHANGED, Finding

log = structlog.get_logger("sync.apply")


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
    write_records(tx, ctx, entity, decisions)
    record_agreements(tx, ctx, entity, decisions, stored, new_links)
    tx.conflicts.add_findings(new_findings(tx, ctx, entity, decisions))
    applied = [d for d in decisions if d.applies]
    queue_applied(tx, ctx, entity, applied)
    decided: dict[str, int] = {}
    for d in decisions:
        outcome = _OUTCOME[d.op]
        decided[outcome] = decided.get(outcome, 0) + 1
    for outcome, n in decided.items():
        counts.add(entity.value, outcome, n)
    if decided:
        log.debug("decisions", entity=entity.value, **decided)
    return applied


def write_records(tx: Tx, ctx: ApplyContext, entity: Entity, decisions: Sequence[Decision]) -> None:
    upserts = [d.record for d in decisions if d.op in (Op.CREATE, Op.UPDATE) and d.record]
    deletes = [d.record_id for d in decisions if d.op is Op.DELETE]
    if upserts:
        tx.records.upsert(entity, upserts, source=ctx.system, run_id=ctx.run_id)
    if deletes:
        tx.records.delete(entity, deletes, source=ctx.system, run_id=ctx.run_id)


def record_agreements(
    tx: Tx,
    ctx: ApplyContext,
    entity: Entity,
    decisions: Sequence[Decision],
    stored: Mapping[str, Stored],
    new_links: Sequence[tuple[str, str]],
) -> None:
    """New identity links (with the hash agreed on) and the agreements that moved; the pushes
    queued to this system for records it now holds as the store does are settled unsent."""
    agreed = {d.record_id: d.agreed_hash for d in decisions if d.agreed_hash is not None}
    linked_now = {gid for _, gid in new_links}
    tx.identity.link_agreed(
        ctx.school_id, ctx.system, entity, [(ext, gid, agreed.get(gid)) for ext, gid in new_links]
    )
    moved = {
        gid: h
        for gid, h in agreed.items()
        if gid not in linked_now and (gid not in stored or stored[gid].synced_hash != h)
    }
    tx.identity.agree(ctx.system, entity, moved)
    settle_held(tx, ctx, entity, decisions, linked_now | set(moved))


def settle_held(
    tx: Tx, ctx: ApplyContext, entity: Entity, decisions: Sequence[Decision], agreed: set[str]
) -> int:
    """Pushes queued to this system for records it now holds exactly as the store does (its
    own pull matched them, or brought them) are settled: removed from the outbox, never sent.

    This is where the agreement becomes known — a change queued from one system for the others
    before they were read (a first sync: every mark read from ES2 is queued for АСИОУ and О7)
    turns out, when their pull links and agrees the record, to be there already. A record the
    store holds in another form than the system (a merge kept local fields) keeps its push."""
    if not agreed:
        return 0
    held = [d.record_id for d in decisions if d.record_id in agreed and _holds_as_stored(d)]
    settled = tx.outbox.settle(ctx.school_id, ctx.system, entity.value, held)
    if settled:
        log.info("queued pushes settled: the system holds them", entity=entity.value, count=settled)
    return settled


def new_findings(
    tx: Tx, ctx: ApplyContext, entity: Entity, decisions: Sequence[Decision]
) -> list[NewFinding]:
    """The decisions' findings that are not on the conflict queue yet."""
    recorded = _recorded(tx, ctx, entity, decisions)
    out: list[NewFinding] = []
    for d in decisions:
        for f in d.findings:
            if (
                _may_repeat(d, f)
                and _key(d.record_id, f.kind, f.field, d.incoming, d.current, d.base) in recorded
            ):
                continue  # the same edits read again: already on the conflict queue
            out.append(
                finding_rows.of_decision(
                    ctx.school_id, ctx.system, entity, d, f, ctx.policy_name or None
                )
            )
    return out


def queue_applied(tx: Tx, ctx: ApplyContext, entity: Entity, applied: Sequence[Decision]) -> None:
    """Queue the applied changes for the other systems that take pushes of the entity."""
    targets = ctx.push_targets.get(entity, ())
    if not applied or not any(t != ctx.system for t in targets):
        return
    versions = tx.records.versions(entity, [d.record_id for d in applied])
    rows = []
    for op in ("upsert", "delete"):
        chosen = [d for d in applied if (d.op is Op.DELETE) == (op == "delete")]
        rows += pushes(
            ctx.school_id,
            entity,
            [d.record_id for d in chosen],
            op=op,
            targets=targets,
            versions=versions,
            origin=ctx.system,
            hashes={d.record_id: d.record.content_hash for d in chosen if d.record},
        )
    tx.outbox.enqueue_many(rows)


def _holds_as_stored(d: Decision) -> bool:
    """The system agrees on the content the store holds after the decision."""
    after = d.record if d.record is not None else d.current
    return after is not None and d.agreed_hash == after.content_hash


_OUTCOME = {
    Op.CREATE: "created",
    Op.UPDATE: "updated",
    Op.DELETE: "deleted",
    Op.UNCHANGED: "unchanged",
    Op.CONFLICT: "conflicts",
    Op.REJECT: "rejected",
}


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
        for c in tx.conflicts.find(
            school_id=ctx.school_id, status=None, entity=entity.value, record_id=rid
        ):
            if c.system == ctx.system:
                out.add(_key(c.record_id, c.kind, c.field, c.incoming, c.current, c.base))
    return out
