"""The local journal's write API: what teachers enter here is checked, stored with its audit and
change-log rows and, in the same transaction, queued in the outbox for every system that takes
pushes of it.

Every record is answered on its own (:class:`WriteResult`): a batch with one bad record stores
the good ones and names the bad one, its field and the rule it breaks (:class:`Refusal`). A
record is refused when

- the canonical model refuses it (built again through validation: a record made with
  ``model_copy`` is never taken on trust) — a mark ``7``, a malformed СНИЛС;
- it belongs to another school;
- a school rule forbids it (:mod:`sync.rules`): a mark in grade 1, homework in grade 1, a change
  touching a closed period (a record in it, a mark or lesson moved into or out of it, a period
  mark of it, a closed period's dates, deleting any of those), a mark or absence outside the
  pupil's enrolment, ``Period.closed`` changed (only :mod:`sync.periods` closes and reopens).

What the deputy director must see of local entries is noted on the conflict queue exactly as for a
system's, with system ``local``: a corrected mark, a deleted mark, a new mark for written work
entered after its deadline. A new mark's ``created_at`` is the time the journal takes it (the
journal's clock, not the caller's word); a changed mark keeps the one it has.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from core.entities import Entity
from core.errors import RecordError
from mapping.model import Lesson, Mark, Record
from store import NewFinding, Store, Tx
from sync import findings as finding_rows
from sync import rules
from sync.facts import StoreFacts
from sync.outbox import pushes
from sync.plan import Decision, Op
from sync.rules import Deadlines, Finding
from sync.valid import read_valid, revalidate

log = structlog.get_logger("sync.journal")

LOCAL = "local"
#: a record the canonical model refuses
INVALID = finding_rows.INVALID_RECORD
#: entities whose records change what the rules know of the roster
_ROSTER = frozenset({Entity.PERIODS, Entity.CLASSES, Entity.PUPILS, Entity.ENROLMENTS})
#: a batch is written in this order, so that a mark sees the lesson written with it
_ORDER = list(Entity)

Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Refusal:
    """One record the journal did not take: which, the field, the reason and the rule."""

    entity: str
    record_id: str
    field: str | None
    reason: str
    #: the rule that refused it: a finding kind of :mod:`sync.rules`, or ``invalid_record``
    rule: str

    def error(self) -> RecordError:
        return RecordError(
            self.reason, entity=self.entity, record_id=self.record_id, field=self.field
        )

    @classmethod
    def of(cls, entity: Entity, record_id: str, finding: Finding) -> Refusal:
        return cls(entity.value, record_id, finding.field, finding.detail, finding.kind)

    @classmethod
    def invalid(cls, exc: RecordError, record_id: str) -> Refusal:
        return cls(exc.entity, exc.record_id or record_id, exc.field, exc.reason, INVALID)


@dataclass
class WriteResult:
    """What a write did, per record: counts, the ids taken and the records refused."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    #: pushes queued for the systems
    queued: int = 0
    #: findings put on the conflict queue for the deputy director (corrected, deleted, late)
    noted: int = 0
    accepted: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused

    def raise_for_refusal(self) -> None:
        """Raise the first refusal as a :class:`RecordError` (for callers that take a batch
        whole or not at all — the good records are stored all the same)."""
        if self.refused:
            raise self.refused[0].error()


class _DryRun(Exception):
    """Leave a dry run's unit of work without committing it."""


class Journal:
    def __init__(
        self,
        store: Store,
        school_id: str,
        push_targets: Mapping[Entity, Sequence[str]],
        *,
        deadlines: Deadlines | None = None,
        clock: Clock = _now,
    ) -> None:
        self.store = store
        self.school_id = school_id
        self.targets = push_targets
        self.deadlines = deadlines or Deadlines()
        self.clock = clock

    # -- writes --------------------------------------------------------------------------
    def check(self, records: Sequence[Record], *, actor: str) -> WriteResult:
        """What :meth:`write` would take and refuse, writing nothing (a caller that takes a
        batch whole or not at all asks first)."""
        return self.write(records, actor=actor, dry_run=True)

    def write(self, records: Sequence[Record], *, actor: str, dry_run: bool = False) -> WriteResult:
        """Store local changes and queue their pushes; each record is taken or refused.
        ``dry_run``: decide the same, then roll back."""
        result = WriteResult()
        by_entity: dict[Entity, dict[str, Record]] = defaultdict(dict)
        for rec in records:
            try:
                checked = revalidate(rec)
            except RecordError as exc:
                self._refuse(result, Refusal.invalid(exc, str(getattr(rec, "id", "?"))))
                continue
            if checked.school_id != self.school_id:
                refusal = Refusal(
                    checked.entity.value,
                    checked.id,
                    "school_id",
                    "belongs to another school",
                    INVALID,
                )
                self._refuse(result, refusal)
                continue
            by_entity[checked.entity][checked.id] = checked  # the same record twice: the last
        if not by_entity:
            return result
        try:
            with self.store.begin() as tx:
                facts = StoreFacts(self.school_id)
                facts.load_roster(tx)
                for entity in sorted(by_entity, key=_ORDER.index):
                    self._write_entity(
                        tx, facts, entity, list(by_entity[entity].values()), actor, result
                    )
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return result

    def _write_entity(
        self,
        tx: Tx,
        facts: StoreFacts,
        entity: Entity,
        recs: list[Record],
        actor: str,
        result: WriteResult,
    ) -> None:
        current, _broken = read_valid(tx, entity, [r.id for r in recs])
        facts.prefetch_lessons(
            tx,
            (getattr(r, "lesson_id", "") for r in [*recs, *current.values()]),
        )
        taken: list[Record] = []
        notes: list[NewFinding] = []
        for given in recs:
            old = current.get(given.id)
            rec = self._stamped(given, old)
            if old is not None and old.content_hash == rec.content_hash:
                taken.append(rec)  # nothing changes: no rule to break
                continue
            refusal = self._check(entity, old, rec, facts)
            if refusal is not None:
                self._refuse(result, refusal)
                continue
            taken.append(rec)
            notes += self._notes(entity, old, rec, facts)
        if not taken:
            return
        written = tx.records.upsert(entity, taken, source=LOCAL, actor=actor)
        result.created += written.created
        result.updated += written.updated
        result.unchanged += written.unchanged
        result.accepted += [r.id for r in taken]
        hashes = {r.id: r.content_hash for r in taken}
        result.queued += self._queue(tx, entity, written.ids_changed, "upsert", hashes)
        tx.conflicts.add_findings(notes)
        result.noted += len(notes)
        if entity is Entity.LESSONS:
            facts.note_lessons(r for r in taken if isinstance(r, Lesson))
        elif entity in _ROSTER and written.ids_changed:
            facts.load_roster(tx)

    def delete(self, entity: Entity, ids: Sequence[str], *, actor: str) -> WriteResult:
        """Delete local records; each is deleted or refused (a record in a closed period). An id
        the store does not hold (or holds deleted) counts as unchanged."""
        result = WriteResult()
        with self.store.begin() as tx:
            facts = StoreFacts(self.school_id)
            facts.load_roster(tx)
            current, broken = read_valid(tx, entity, ids)
            facts.prefetch_lessons(tx, (getattr(r, "lesson_id", "") for r in current.values()))
            doomed: list[str] = []
            notes: list[NewFinding] = []
            for rid in dict.fromkeys(ids):
                old = current.get(rid)
                if old is None and rid not in broken:
                    result.unchanged += 1
                    continue
                if old is not None and old.school_id != self.school_id:
                    self._refuse(
                        result,
                        Refusal(
                            entity.value, rid, "school_id", "belongs to another school", INVALID
                        ),
                    )
                    continue
                if old is not None and (held := rules.frozen(old, None, facts)):
                    self._refuse(result, Refusal.of(entity, rid, held))
                    continue
                doomed.append(rid)
                if old is not None and (note := rules.deleted(old)):
                    notes.append(self._finding(entity, rid, note, old, None, Op.DELETE))
            result.deleted = tx.records.delete(entity, doomed, source=LOCAL, actor=actor)
            result.accepted += doomed
            result.queued += self._queue(tx, entity, doomed, "delete")
            tx.conflicts.add_findings(notes)
            result.noted += len(notes)
        return result

    # -- rules ---------------------------------------------------------------------------
    def _stamped(self, rec: Record, old: Record | None) -> Record:
        """A mark's entry time is the journal's: now for a new mark, kept for a changed one."""
        if not isinstance(rec, Mark):
            return rec
        created = old.created_at if isinstance(old, Mark) else self.clock()
        if rec.created_at == created:
            return rec
        return rec.model_copy(update={"created_at": created})  # META: not content, still valid

    def _check(
        self, entity: Entity, old: Record | None, new: Record, facts: StoreFacts
    ) -> Refusal | None:
        for found in (
            rules.period_closing(old, new),
            rules.grade1(new, facts),
            rules.frozen(old, new, facts),
            rules.out_of_year(new, facts),
            *rules.placement(old, new, facts),
        ):
            if found is not None:
                return Refusal.of(entity, new.id, found)
        return None

    def _notes(
        self, entity: Entity, old: Record | None, new: Record, facts: StoreFacts
    ) -> list[NewFinding]:
        found: list[Finding] = []
        if old is not None:
            found += rules.corrected(old, new)
        elif isinstance(new, Mark) and (late := rules.late_mark(new, facts, self.deadlines)):
            found.append(late)
        op = Op.CREATE if old is None else Op.UPDATE
        return [self._finding(entity, new.id, f, old, new, op) for f in found]

    def _finding(
        self,
        entity: Entity,
        record_id: str,
        f: Finding,
        old: Record | None,
        new: Record | None,
        op: Op,
    ) -> NewFinding:
        """A finding on a local change, shaped as a system's (``incoming`` is what was entered,
        ``current`` what the store held)."""
        decision = Decision(op, record_id, record=new, incoming=new, current=old)
        return finding_rows.of_decision(self.school_id, LOCAL, entity, decision, f, None)

    def _refuse(self, result: WriteResult, refusal: Refusal) -> None:
        result.refused.append(refusal)
        log.info(
            "local write refused",
            entity=refusal.entity,
            record=refusal.record_id,
            field=refusal.field,
            rule=refusal.rule,
        )

    # -- outbox --------------------------------------------------------------------------
    def _queue(
        self,
        tx: Tx,
        entity: Entity,
        ids: Sequence[str],
        op: str,
        hashes: Mapping[str, str] | None = None,
    ) -> int:
        targets = self.targets.get(entity, [])
        if not ids or not targets:
            return 0
        rows = pushes(
            self.school_id,
            entity,
            ids,
            op=op,
            targets=targets,
            versions=tx.records.versions(entity, ids),
            origin=LOCAL,
            hashes=hashes,
        )
        tx.outbox.enqueue_many(rows)  # its count is the driver's (-1 on PostgreSQL)
        return len(rows)  # each row a new version: none was queued before
