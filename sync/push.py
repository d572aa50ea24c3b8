"""Push the outbox of one (school, system) through its connector (imperative shell).

1. Items a crash left ``sending`` go back to ``pending``: their idempotency keys make a resend
   safe (the system answers ``duplicate``, or replaces the record with the same key).
2. Receipts of earlier asynchronous pushes are polled; each item's outcome is recorded once.
3. Pending items are claimed in the connector's batch size, mapped canonical → wire with the
   references translated to the system's ids, sent, and each item's result recorded: accepted
   (with the remote id linked and the pushed content agreed), duplicate, rejected with its reason
   (also put on the conflict queue for the operator), or sent-awaiting-receipt.

Claiming commits before sending and results commit after: a crash in between only causes a resend.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from connectors.base import Connector, PushItem, PushResult
from core.entities import PULL_ORDER, Entity
from core.errors import ConnectorError, RecordError
from mapping.mapper import Mapper
from mapping.model import Record
from store import OutboxItem, OutboxResult, Store, Tx
from sync import findings as finding_rows
from sync.crash import crashpoint
from sync.keys import record_key
from sync.runs import RunReport, finish_run, start_run
from sync.valid import read_valid

log = structlog.get_logger("sync.push")

_STATUS = {
    "created": "accepted",
    "updated": "accepted",
    "deleted": "accepted",
    "duplicate": "duplicate",
    "rejected": "rejected",
    "pending": "sent",
}


@dataclass
class _Prepared:
    item: OutboxItem
    push: PushItem | None
    record: Record | None
    error: str | None = None
    #: the system already agrees on this content: nothing to send
    already: bool = False


class Pusher:
    def __init__(
        self,
        store: Store,
        connector: Connector,
        mapper: Mapper,
        *,
        school_id: str,
        system: str,
        max_batches: int | None = None,
        progress: Callable[[Entity, int], None] | None = None,
    ) -> None:
        self.store = store
        self.connector = connector
        self.mapper = mapper
        self.school_id = school_id
        self.system = system
        self.max_batches = max_batches
        self.progress = progress
        self.report = RunReport(school_id, system, "push")

    def run(self) -> RunReport:
        caps = self.connector.capabilities()
        start_run(self.store, self.report)
        with self.store.begin() as tx:
            requeued = tx.outbox.requeue(self.school_id, self.system)
        if requeued:
            log.info("requeued interrupted pushes", count=requeued)
        try:
            self._poll()
            batches = 0
            while self.max_batches is None or batches < self.max_batches:
                with self.store.begin() as tx:
                    claimed = tx.outbox.claim(self.school_id, self.system, caps.push_batch_size)
                crashpoint("push.claimed")
                if not claimed:
                    break
                batches += 1
                self._send(claimed)
        except ConnectorError as exc:
            self.report.status = "failed" if not self.report.counts.by_entity else "partial"
            self.report.error = str(exc)
            with self.store.begin() as tx:  # give back what was claimed and not sent
                tx.outbox.requeue(self.school_id, self.system)
        if self.report.status == "success" and self.report.counts.total("rejected"):
            self.report.status = "partial"
        finish_run(self.store, self.report)
        return self.report

    # -- receipts ------------------------------------------------------------------------
    def _poll(self) -> None:
        with self.store.read() as tx:
            tickets = tx.outbox.tickets(self.school_id, self.system)
        if not tickets:
            return
        results = self.connector.poll(list(tickets))
        crashpoint("push.receipts_read")
        if not results:
            return
        with self.store.read() as tx:
            items = {
                i.idempotency_key: i
                for i in tx.outbox.find(
                    status="sent", school_id=self.school_id, system=self.system, limit=1_000_000
                )
            }
        prepared = []
        outcome = []
        for res in results:
            item = items.get(res.key)
            if item is None or res.status == "pending":
                continue
            prepared.append(_Prepared(item, None, None))
            outcome.append(res)
        with self.store.begin() as tx:
            self._record(tx, prepared, outcome)
        crashpoint("push.polled")

    # -- sending -------------------------------------------------------------------------
    def _send(self, claimed: Sequence[OutboxItem]) -> None:
        by_entity: dict[Entity, list[OutboxItem]] = defaultdict(list)
        for item in claimed:
            by_entity[Entity(item.entity)].append(item)
        waves = [
            (entity, wave)
            for entity in sorted(by_entity, key=PULL_ORDER.index)
            for wave in _waves(by_entity[entity])
        ]
        for entity, items in waves:
            with self.store.read() as tx:
                prepared = self._prepare(tx, entity, items)
            sendable = [p for p in prepared if p.push is not None]
            results: list[PushResult] = []
            if sendable:
                results = self.connector.push(entity, [p.push for p in sendable if p.push])
                crashpoint("push.sent")
            by_key = {r.key: r for r in results}
            outcome = []
            for p in prepared:
                if p.already:
                    outcome.append(PushResult(p.item.idempotency_key, "duplicate"))
                elif p.push is None:
                    outcome.append(
                        PushResult(
                            p.item.idempotency_key, "rejected", error=p.error or "cannot be sent"
                        )
                    )
                else:
                    outcome.append(
                        by_key.get(p.item.idempotency_key)
                        or PushResult(
                            p.item.idempotency_key, "rejected", error="no result for this item"
                        )
                    )
            with self.store.begin() as tx:
                self._record(tx, prepared, outcome)
            crashpoint("push.recorded")
            if self.progress:
                self.progress(entity, len(items))

    def _prepare(self, tx: Tx, entity: Entity, items: Sequence[OutboxItem]) -> list[_Prepared]:
        # a stored record that no longer validates is refused as an item, not a traceback
        records, broken = read_valid(tx, entity, [i.record_id for i in items], include_deleted=True)
        own = tx.identity.ext_of(self.system, entity, [i.record_id for i in items])
        agreed = tx.identity.agreements(self.system, entity, [i.record_id for i in items])
        refs: dict[tuple[Entity, str], str] = {}
        wanted: dict[Entity, set[str]] = defaultdict(set)
        for held in records.values():
            for name, target in held.refs.items():
                value = getattr(held, name)
                if value:
                    wanted[target].add(value)
            for member in getattr(held, "member_ids", ()) or ():
                wanted[Entity.PUPILS].add(member)
        for target, gids in wanted.items():
            for gid, ext in tx.identity.ext_of(self.system, target, gids).items():
                refs[(target, gid)] = ext

        def resolve_ext(target: Entity, gid: str) -> str | None:
            return refs.get((target, gid))

        out = []
        for item in items:
            rec = records.get(item.record_id)
            if rec is None:
                bad = broken.get(item.record_id)
                why = f"{bad.reason} ({bad.field})" if bad else "the record no longer exists"
                out.append(_Prepared(item, None, None, why))
                continue
            try:
                payload = {} if item.op == "delete" else self.mapper.to_wire(rec, resolve_ext)
            except RecordError as exc:
                out.append(
                    _Prepared(
                        item, None, rec, exc.reason + (f" ({exc.field})" if exc.field else "")
                    )
                )
                continue
            remote = own.get(item.record_id)
            if (
                item.op != "delete"
                and remote is not None
                and agreed.get(rec.id) == rec.content_hash
            ):
                # the system already holds exactly this (it brought it, or a pull matched it)
                out.append(_Prepared(item, None, rec, already=True))
                continue
            if item.op == "delete" and remote is None:
                out.append(_Prepared(item, None, rec, "the system never had this record"))
                continue
            push = PushItem(
                item.idempotency_key,
                entity,
                "delete" if item.op == "delete" else "upsert",
                payload,
                remote_id=remote,
                record_key=record_key(self.system, entity.value, item.record_id),
            )
            out.append(_Prepared(item, push, rec))
        return out

    def _record(self, tx: Tx, prepared: Sequence[_Prepared], outcome: Sequence[PushResult]) -> None:
        results = []
        links: dict[Entity, list[tuple[str, str, str | None]]] = defaultdict(list)
        agree: dict[Entity, dict[str, str]] = defaultdict(dict)
        findings = []
        linked_cache: dict[Entity, dict[str, str]] = {}
        for p, res in zip(prepared, outcome, strict=True):
            status = _STATUS.get(res.status, "failed")
            results.append(
                OutboxResult(
                    p.item.id, status, ticket=res.ticket, remote_id=res.remote_id, error=res.error
                )
            )
            entity = Entity(p.item.entity)
            self.report.counts.add(
                entity.value,
                {
                    "accepted": "updated" if p.item.op != "delete" else "deleted",
                    "duplicate": "unchanged",
                    "rejected": "rejected",
                    "sent": "held",
                }.get(status, "rejected"),
            )
            if status == "rejected":
                findings.append(
                    finding_rows.push_refused(
                        self.school_id,
                        self.system,
                        entity,
                        p.item.record_id,
                        res.error or "rejected",
                        p.record,
                    )
                )
                continue
            if status not in ("accepted", "duplicate") or p.item.op == "delete":
                continue
            record = p.record
            if record is None:
                record = tx.records.get(entity, [p.item.record_id]).get(p.item.record_id)
                if record is None:
                    continue
            known = linked_cache.setdefault(entity, {})
            if p.item.record_id not in known:
                known.update(tx.identity.ext_of(self.system, entity, [p.item.record_id]))
            # a ``duplicate`` answer means the system holds what this key carried when it was
            # first sent: the record as it is now only if it has not changed since
            held = status == "accepted" or p.already or _same_version(tx, entity, p.item)
            if p.item.record_id in known:
                if held:
                    agree[entity][p.item.record_id] = record.content_hash
            elif res.remote_id:
                links[entity].append(
                    (str(res.remote_id), p.item.record_id, record.content_hash if held else None)
                )
                known[p.item.record_id] = str(res.remote_id)
        tx.outbox.record(results)
        for entity, rows in links.items():
            tx.identity.link_agreed(self.system, entity, rows)
        for entity, hashes in agree.items():
            tx.identity.agree(self.system, entity, hashes)
        tx.conflicts.add_findings(findings)


def _waves(items: Sequence[OutboxItem]) -> list[list[OutboxItem]]:
    """The items of one record go out one per wave, oldest first: a later change of a record
    whose first push is not recorded yet waits for the id that push brings back (its resend
    after a crash answers ``duplicate`` with it) — sent side by side, both would create."""
    waves: list[list[OutboxItem]] = []
    seen: dict[str, int] = defaultdict(int)
    for item in sorted(items, key=lambda i: i.id):
        n = seen[item.record_id]
        seen[item.record_id] += 1
        if n == len(waves):
            waves.append([])
        waves[n].append(item)
    return waves


def _same_version(tx: Tx, entity: Entity, item: OutboxItem) -> bool:
    """Whether the record is still at the version the item was queued for."""
    version = item.payload.get("version") if isinstance(item.payload, dict) else None
    return (
        version is not None
        and tx.records.versions(entity, [item.record_id]).get(item.record_id) == version
    )
