"""Planning a pull: incoming records against the store → decisions. Pure: no I/O.

For each incoming record (or tombstone) the planner compares three versions — the record as the
store holds it now (*current*), as it was when this system and the store last agreed (*base*, known
by its hash), and as the system sends it now (*incoming*):

- incoming == current                      → ``unchanged`` (and the agreement is recorded);
- only the system changed                  → ``update`` / ``create`` / ``delete``;
- only the store changed (a local edit)    → ``unchanged``: the edit waits in the outbox;
- both changed since they agreed           → a ``both_changed`` conflict, decided field by field by
                                             the policy (``source-wins``, ``local-wins``,
                                             ``newer-wins``, ``manual``).

Domain rules (:mod:`sync.rules`) come first: a grade-1 mark is rejected; a change touching a closed
period (a record in it, moved into or out of it, a closed period's dates) is held as a conflict;
corrected/deleted marks, late marks for written work, marks and absences outside a pupil's
enrolment and homework in grade 1 are recorded (``noted``) and applied — the system holds them, and
refusing what a system holds would only make the two disagree (a first full read, the
*baseline*, takes placement as it is).
Fields a system cannot carry (and fields the gateway owns, such as ``Period.closed``) are kept
from the current record, so a system that lacks them never erases them.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from core.entities import Entity
from mapping.model import Mark, Record, Tombstone
from sync import rules
from sync.policy import ConflictPolicy, EntityPolicy
from sync.rules import BOTH_CHANGED, Deadlines, Finding, RuleContext

#: fields the gateway owns whatever a system says (kept from the stored record)
GATEWAY_FIELDS: Mapping[Entity, frozenset[str]] = {Entity.PERIODS: frozenset({"closed"})}


class Op(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"  # held: nothing applied until someone resolves it
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Stored:
    """What the store knows of one record, as seen by one system."""

    record: Record | None  # None when soft-deleted
    version: int
    synced_hash: str | None = None  # the content hash this system and the store last agreed on
    base: Record | None = None  # the agreed content itself, when both sides changed

    @property
    def deleted(self) -> bool:
        return self.record is None


@dataclass(frozen=True, slots=True)
class Decision:
    op: Op
    record_id: str
    #: what to write for create/update (incoming merged per policy); None otherwise
    record: Record | None = None
    incoming: Record | None = None
    current: Record | None = None
    base: Record | None = None
    findings: tuple[Finding, ...] = ()
    #: the hash this system now agrees on; None when there is no agreement to record
    agreed_hash: str | None = None

    @property
    def applies(self) -> bool:
        return self.op in (Op.CREATE, Op.UPDATE, Op.DELETE)


@dataclass(frozen=True)
class Planner:
    """The rules and policies of one (school, system, entity) pull."""

    policy: EntityPolicy
    ctx: RuleContext
    deadlines: Deadlines = field(default_factory=Deadlines)
    #: fields the system does not carry or the gateway owns: kept from the current record
    kept_fields: frozenset[str] = frozenset()
    #: a first full read of this system: what it holds is the baseline, so records first seen
    #: inside an already closed period are taken as they are, not held as late changes
    baseline: bool = False

    def plan(
        self, incoming: Iterable[Record | Tombstone], stored: Mapping[str, Stored]
    ) -> list[Decision]:
        return [
            self.decide_tombstone(item, stored.get(item.id))
            if isinstance(item, Tombstone)
            else self.decide(item, stored.get(item.id))
            for item in incoming
        ]

    # -- records -------------------------------------------------------------------------
    def decide(self, incoming: Record, stored: Stored | None) -> Decision:
        current = stored.record if stored else None
        if current is not None:
            incoming = keep_fields(incoming, current, self.kept_fields)
        if finding := rules.grade1(incoming, self.ctx):
            return Decision(
                Op.REJECT, incoming.id, incoming=incoming, current=current, findings=(finding,)
            )
        new_hash = incoming.content_hash
        if current is None:
            return self._create(incoming, stored, new_hash)
        assert stored is not None
        current_hash = current.content_hash
        if current_hash == new_hash:
            return Decision(Op.UNCHANGED, incoming.id, current=current, agreed_hash=new_hash)
        agreed = stored.synced_hash
        if agreed is not None and agreed == new_hash:
            # the system still holds what we agreed on: the local edit is ahead and will be pushed
            return Decision(Op.UNCHANGED, incoming.id, incoming=incoming, current=current)
        local_changed = agreed is not None and agreed != current_hash
        findings: list[Finding] = []
        if held := rules.frozen(current, incoming, self.ctx):
            return Decision(
                Op.CONFLICT,
                incoming.id,
                incoming=incoming,
                current=current,
                base=stored.base,
                findings=(held,),
            )
        if not local_changed:
            findings.extend(rules.corrected(current, incoming))
            findings.extend(self._noted(current, incoming))
            if unusual := rules.unusual_value(incoming):
                findings.append(unusual)
            return Decision(
                Op.UPDATE,
                incoming.id,
                record=incoming,
                incoming=incoming,
                current=current,
                findings=tuple(findings),
                agreed_hash=new_hash,
            )
        return self._both_changed(incoming, current, stored.base, new_hash)

    def _create(self, incoming: Record, stored: Stored | None, new_hash: str) -> Decision:
        findings: list[Finding] = []
        if not self.baseline and (held := rules.frozen(None, incoming, self.ctx)):
            return Decision(Op.CONFLICT, incoming.id, incoming=incoming, findings=(held,))
        if isinstance(incoming, Mark) and (
            late := rules.late_mark(incoming, self.ctx, self.deadlines)
        ):
            findings.append(late)
        findings.extend(self._noted(None, incoming))
        if unusual := rules.unusual_value(incoming):
            findings.append(unusual)
        op = Op.CREATE if stored is None else Op.UPDATE  # a soft-deleted record comes back
        return Decision(
            op,
            incoming.id,
            record=incoming,
            incoming=incoming,
            findings=tuple(findings),
            agreed_hash=new_hash,
        )

    def _noted(self, current: Record | None, incoming: Record) -> list[Finding]:
        """Placement rules a system's record breaks (outside the pupil's enrolment, homework in
        grade 1): noted for the deputy director, not refused — the system holds the record."""
        if self.baseline:
            return []
        return [
            dataclasses.replace(f, blocking=False)
            for f in rules.placement(current, incoming, self.ctx)
        ]

    def _both_changed(
        self, incoming: Record, current: Record, base: Record | None, new_hash: str
    ) -> Decision:
        contested = changed_fields(current, incoming)
        remote_side = changed_fields(base, incoming) if base is not None else contested
        local_side = changed_fields(base, current) if base is not None else contested
        merged: dict[str, object] = {}
        manual: list[str] = []
        for name in sorted(contested):
            if name in remote_side and name not in local_side:
                merged[name] = getattr(incoming, name)  # only the system changed it
                continue
            if name not in remote_side:
                continue  # only the local side changed it: keep
            choice = self._choose(self.policy.policy_for(name), incoming, current)
            if choice == "manual":
                manual.append(name)
            elif choice == "remote":
                merged[name] = getattr(incoming, name)
        both = Finding(
            BOTH_CHANGED,
            "changed here and in the system since they last agreed: "
            + ", ".join(sorted(contested & remote_side & local_side) or sorted(contested)),
        )
        if manual:
            held = Finding(
                BOTH_CHANGED,
                f"manual resolution needed for: {', '.join(manual)}",
                manual[0],
                True,
            )
            return Decision(
                Op.CONFLICT,
                incoming.id,
                incoming=incoming,
                current=current,
                base=base,
                findings=(held,),
            )
        result = current.model_copy(update=merged) if merged else current
        findings = [both, *rules.corrected(current, result)]
        if result.content_hash == current.content_hash:
            # the local side won every field; the system still has to receive it (outbox)
            return Decision(
                Op.UNCHANGED,
                incoming.id,
                incoming=incoming,
                current=current,
                base=base,
                findings=tuple(findings),
            )
        return Decision(
            Op.UPDATE,
            incoming.id,
            record=result,
            incoming=incoming,
            current=current,
            base=base,
            findings=tuple(findings),
            agreed_hash=new_hash,
        )

    @staticmethod
    def _choose(
        policy: ConflictPolicy, incoming: Record, current: Record
    ) -> Literal["remote", "local", "manual"]:
        if policy == "source-wins":
            return "remote"
        if policy == "local-wins":
            return "local"
        if policy == "newer-wins":
            if incoming.modified_at is None or current.modified_at is None:
                return "manual"  # cannot tell which is newer: a person decides
            return "remote" if incoming.modified_at > current.modified_at else "local"
        return "manual"

    # -- tombstones ----------------------------------------------------------------------
    def decide_tombstone(self, tomb: Tombstone, stored: Stored | None) -> Decision:
        if stored is None or stored.record is None:
            return Decision(Op.UNCHANGED, tomb.id)
        current = stored.record
        if held := rules.frozen(current, None, self.ctx):
            return Decision(Op.CONFLICT, tomb.id, current=current, findings=(held,))
        findings: list[Finding] = []
        if note := rules.deleted(current):
            findings.append(note)
        local_changed = (
            stored.synced_hash is not None and stored.synced_hash != current.content_hash
        )
        if local_changed:
            choice = self._choose(self.policy.default_policy, _as_record(tomb, current), current)
            if choice == "manual":
                held_f = Finding(BOTH_CHANGED, "deleted in the system but changed here", None, True)
                return Decision(
                    Op.CONFLICT, tomb.id, current=current, base=stored.base, findings=(held_f,)
                )
            findings.append(Finding(BOTH_CHANGED, "deleted in the system but changed here"))
            if choice == "local":
                return Decision(Op.UNCHANGED, tomb.id, current=current, findings=tuple(findings))
        return Decision(Op.DELETE, tomb.id, current=current, findings=tuple(findings))


def changed_fields(a: Record | None, b: Record) -> set[str]:
    """Content fields whose values differ between ``a`` and ``b`` (all of ``b``'s when ``a`` is None)."""
    bc = b.content()
    if a is None:
        return set(bc)
    ac = a.content()
    return {k for k in bc if ac.get(k) != bc[k]}


def keep_fields(incoming: Record, current: Record, names: frozenset[str]) -> Record:
    """``incoming`` with ``names`` taken from ``current`` (fields the system does not carry),
    and the external ids of every system merged."""
    update: dict[str, object] = {
        n: getattr(current, n)
        for n in names
        if n in type(incoming).model_fields and getattr(incoming, n) != getattr(current, n)
    }
    if not current.ext_ids.items() <= incoming.ext_ids.items():
        update["ext_ids"] = {**current.ext_ids, **incoming.ext_ids}
    return incoming.model_copy(update=update) if update else incoming


def _as_record(tomb: Tombstone, current: Record) -> Record:
    """A stand-in carrying the tombstone's time, for newer-wins on deletions."""
    return current.model_copy(update={"modified_at": tomb.modified_at})


def needs_base(incoming: Record | Tombstone, stored: Stored | None) -> bool:
    """Whether the planner will want the agreed content: both sides changed since they agreed."""
    if stored is None or stored.record is None or stored.synced_hash is None:
        return False
    current_hash = stored.record.content_hash
    if stored.synced_hash == current_hash:
        return False
    if isinstance(incoming, Tombstone):
        return True
    new_hash = incoming.content_hash
    return new_hash not in (current_hash, stored.synced_hash)
