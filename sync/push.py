"""Push the outbox of one (school, system) through its connector (imperative shell).

1. Items a crash left ``sending`` go back to ``pending``: their idempotency keys make a resend
   safe (the system answers ``duplicate``, or replaces the record with the same key).
2. Receipts of earlier asynchronous pushes are polled; each item's outcome is recorded once. A
   receipt that cannot be read (lost, garbage) fails its own items only (:mod:`sync.receipts`).
3. Pending items, and failed ones whose next attempt is due, are claimed in the connector's batch
   size and prepared: a record the system already holds as it is now is *settled* — never sent;
   one that cannot be sent (it no longer exists, the mapping refuses it) is rejected with the
   reason; the rest are mapped canonical → wire with the references translated to the system's
   ids, and sent.
4. Each item's result is recorded: accepted (created, updated or deleted — the remote id linked
   and the pushed content agreed), duplicate, rejected with its reason (also put on the conflict
   queue for the operator), sent-awaiting-receipt, or **failed**: the system gave no answer for it
   (a timeout, a reset after sending, a batch answer without it), so its outcome is unknown. A
   failed item is sent again with the same key — which the contracts make safe — on a later run,
   after a backoff that doubles with each attempt (``schoolgate outbox retry`` sends it now).

Whatever stops a push — a connector's error, a fault in the gateway, an interruption — the items
in flight become failed (outcome unknown), claimed items not yet sent go back to ``pending``, and
the run is recorded ``failed`` with the error: no item is left ``sending``, no run ``running``.
Error texts are redacted (:func:`core.redact.redact_text`) before they are stored.

Claiming commits before sending and results commit after: a crash in between only causes a resend.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog

from connectors.base import Connector, PushItem, PushResult
from core.entities import PULL_ORDER, Entity
from core.errors import RecordError
from core.redact import redact_optional, redact_text
from mapping.mapper import Mapper
from mapping.model import Record
from store import OutboxItem, OutboxResult, Store, Tx
from store.types import utcnow
from sync import findings as finding_rows
from sync.crash import crashpoint
from sync.keys import record_key
from sync.receipts import read_receipts
from sync.runs import RunReport, describe_error, finish_run, start_run
from sync.valid import read_valid

log = structlog.get_logger("sync.push")

#: the outbox status of each answer a system gives
_STATUS = {
    "created": "accepted",
    "updated": "accepted",
    "deleted": "accepted",
    "duplicate": "duplicate",
    "rejected": "rejected",
    "pending": "sent",
}
#: the run's count for each answer (see :data:`sync.counts.PUSH_OUTCOMES`)
_COUNTED = {
    "created": "created",
    "updated": "updated",
    "deleted": "deleted",
    "duplicate": "duplicate",
    "rejected": "rejected",
    "pending": "awaiting",
}
NO_ANSWER = "the system gave no answer for this item: its outcome is unknown, it is sent again"


@dataclass(frozen=True)
class Backoff:
    """When a failed item is sent again: ``first`` after its first attempt, doubling with each
    further attempt up to ``cap``."""

    first: dt.timedelta = dt.timedelta(minutes=1)
    cap: dt.timedelta = dt.timedelta(hours=6)

    def after(self, attempts: int) -> dt.timedelta:
        factor: int = 2 ** max(0, min(attempts - 1, 30))
        return min(self.cap, self.first * factor)


@dataclass
class _Prepared:
    item: OutboxItem
    push: PushItem | None
    record: Record | None
    error: str | None = None
    #: the system already agrees on this content: nothing to send
    already: bool = False
    #: the item could not be prepared for a reason nobody foresaw: try again later
    broken: bool = False


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
        backoff: Backoff | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.store = store
        self.connector = connector
        self.mapper = mapper
        self.school_id = school_id
        self.system = system
        self.max_batches = max_batches
        self.progress = progress
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.report = RunReport(school_id, system, "push")
        #: claimed by this run, outcome not recorded yet
        self._claimed: dict[int, OutboxItem] = {}
        #: handed to the connector, no answer recorded yet
        self._inflight: list[OutboxItem] = []

    def run(self) -> RunReport:
        caps = self.connector.capabilities()
        start_run(self.store, self.report)
        structlog.contextvars.bind_contextvars(
            run_id=self.report.run_id, system=self.system, school_id=self.school_id
        )
        try:
            try:
                self._requeue()
                self._poll()
                self._send_due(caps.push_batch_size)
            except BaseException as exc:
                self._stopped(exc)
                if not isinstance(exc, Exception):
                    raise  # an interruption: recorded, then passed on
            if self.report.status == "success" and (
                self.report.counts.total("rejected") or self.report.counts.total("failed")
            ):
                self.report.status = "partial"
        finally:
            finish_run(self.store, self.report)
            structlog.contextvars.unbind_contextvars("run_id", "system", "school_id")
        return self.report

    def _requeue(self) -> None:
        with self.store.begin() as tx:
            requeued = tx.outbox.requeue(self.school_id, self.system)
        if requeued:
            log.info("requeued interrupted pushes", count=requeued)

    def _send_due(self, batch_size: int) -> None:
        batches = 0
        while self.max_batches is None or batches < self.max_batches:
            with self.store.begin() as tx:
                claimed = tx.outbox.claim(self.school_id, self.system, batch_size, now=self.clock())
            crashpoint("push.claimed")
            if not claimed:
                break
            self._claimed.update((i.id, i) for i in claimed)
            batches += 1
            log.debug("claimed", count=len(claimed), batch=batches)
            self._send(claimed)

    def _stopped(self, exc: BaseException) -> None:
        """The push stopped: what was in flight has an unknown outcome (failed, sent again
        later), what was claimed and not sent goes back to ``pending``, the run failed."""
        error = redact_text(describe_error(exc))
        self.report.status = "failed"
        self.report.error = error
        log.error("push stopped", error=error, kind=type(exc).__name__)
        inflight = {i.id for i in self._inflight}
        unsent = [i for i in self._claimed if i not in inflight]
        try:
            with self.store.begin() as tx:
                tx.outbox.record(
                    [self._failed(item, f"the push stopped: {error}") for item in self._inflight]
                )
                released = tx.outbox.release(unsent)
        except Exception as again:  # the store itself is gone: the next run requeues them
            log.error("claimed pushes not given back", error=type(again).__name__)
            return
        for item in self._inflight:
            self.report.counts.add(item.entity, "failed")
        if released:
            log.info("claimed pushes given back", count=released)
        self._inflight = []
        self._claimed.clear()

    def _failed(self, item: OutboxItem, error: str) -> OutboxResult:
        """An item whose outcome is unknown: sent again with the same key after the backoff."""
        return OutboxResult(
            item.id,
            "failed",
            error=redact_text(error),
            next_attempt_at=self.clock() + self.backoff.after(item.attempts),
        )

    # -- receipts ------------------------------------------------------------------------
    def _poll(self) -> None:
        with self.store.read() as tx:
            tickets = tx.outbox.tickets(self.school_id, self.system)
        if not tickets:
            return
        read = read_receipts(self.connector.poll, list(tickets))
        crashpoint("push.receipts_read")
        log.debug(
            "receipts polled",
            tickets=len(tickets),
            answered=len(read.results),
            unreadable=len(read.unreadable),
        )
        if not read.results and not read.unreadable:
            return
        with self.store.read() as tx:
            items = {
                i.idempotency_key: i
                for i in tx.outbox.find(
                    status="sent", school_id=self.school_id, system=self.system, limit=1_000_000
                )
            }
        by_id = {i.id: i for i in items.values()}
        prepared = []
        outcome = []
        for res in read.results:
            item = items.get(res.key)
            if item is None or res.status == "pending":
                continue
            prepared.append(_Prepared(item, None, None))
            outcome.append(res)
        lost = [
            self._failed(by_id[item_id], f"the receipt could not be read: {why}")
            for ticket, why in read.unreadable.items()
            for item_id in tickets.get(ticket, ())
            if item_id in by_id
        ]
        with self.store.begin() as tx:
            self._record(tx, prepared, outcome)
            tx.outbox.record(lost)
        for result in lost:
            self.report.counts.add(by_id[result.id].entity, "failed")
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
                self._inflight = [p.item for p in sendable]
                self.report.counts.add(entity.value, "sent", len(sendable))
                log.debug("sending", entity=entity.value, items=len(sendable))
                results = self.connector.push(entity, [p.push for p in sendable if p.push])
                crashpoint("push.sent")
            by_key = {r.key: r for r in results}
            outcome = [self._outcome(p, by_key) for p in prepared]
            with self.store.begin() as tx:
                self._record(tx, prepared, outcome)
            self._inflight = []
            for p in prepared:
                self._claimed.pop(p.item.id, None)
            crashpoint("push.recorded")
            log.debug(
                "batch answered",
                entity=entity.value,
                **Counter(r.status if r else "settled" for r in outcome),
            )
            if self.progress:
                self.progress(entity, len(items))

    @staticmethod
    def _outcome(p: _Prepared, by_key: Mapping[str, PushResult]) -> PushResult | None:
        """The answer for one prepared item (``None``: settled, nothing was sent)."""
        key = p.item.idempotency_key
        if p.already or p.broken:
            return None
        if p.push is None:
            return PushResult(key, "rejected", error=p.error or "cannot be sent")
        return by_key.get(key)

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
            except Exception as exc:  # the mapping failed outside its contract: not this run
                why = f"the item could not be prepared ({type(exc).__name__})"
                log.warning("push not prepared", entity=entity.value, record=item.record_id)
                out.append(_Prepared(item, None, rec, why, broken=True))
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

    def _record(
        self, tx: Tx, prepared: Sequence[_Prepared], outcome: Sequence[PushResult | None]
    ) -> None:
        results = []
        settled = []
        links: dict[Entity, list[tuple[str, str, str | None]]] = defaultdict(list)
        agree: dict[Entity, dict[str, str]] = defaultdict(dict)
        findings = []
        linked_cache: dict[Entity, dict[str, str]] = {}
        for p, res in zip(prepared, outcome, strict=True):
            entity = Entity(p.item.entity)
            if res is None:
                if p.already:  # held by the system as it is now: settled, never sent
                    settled.append(p.item.id)
                    self.report.counts.add(entity.value, "settled")
                else:  # not prepared, or no answer: the outcome is unknown
                    why = (p.error or "not prepared") if p.broken else NO_ANSWER
                    results.append(self._failed(p.item, why))
                    self.report.counts.add(entity.value, "failed")
                continue
            status = _STATUS.get(res.status)
            if status is None:  # an answer outside the contract: the outcome is unknown
                results.append(self._failed(p.item, f"unknown answer {res.status!r}"))
                self.report.counts.add(entity.value, "failed")
                continue
            error = redact_optional(res.error)
            results.append(
                OutboxResult(
                    p.item.id, status, ticket=res.ticket, remote_id=res.remote_id, error=error
                )
            )
            self.report.counts.add(entity.value, _COUNTED[res.status])
            if status == "rejected":
                findings.append(
                    finding_rows.push_refused(
                        self.school_id,
                        self.system,
                        entity,
                        p.item.record_id,
                        error or "rejected",
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
            held = status == "accepted" or _same_version(tx, entity, p.item)
            if p.item.record_id in known:
                if held:
                    agree[entity][p.item.record_id] = record.content_hash
            elif res.remote_id:
                links[entity].append(
                    (str(res.remote_id), p.item.record_id, record.content_hash if held else None)
                )
                known[p.item.record_id] = str(res.remote_id)
        tx.outbox.record(results)
        tx.outbox.settle_claimed(settled)
        for entity, rows in links.items():
            tx.identity.link_agreed(self.school_id, self.system, entity, rows)
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
