"""Pull one system into the store (imperative shell around :mod:`sync.plan`).

connector pages → mapping profile → identity → plan against the store → apply, each *unit* in one
transaction together with the connector state (checkpoint) of the pages it covers:

- the roster (periods … pupils) of a paged system is one unit, so a hold can still refuse it whole;
- after that every page is its own unit;
- pages marked ``atomic`` (a whole export package) stay in one unit up to their ``complete`` page:
  a package that fails its integrity check leaves the store as it was.

A complete snapshot (a full read, or a completely read date window) deletes what the store holds
in its scope and the snapshot lacks — unless a record of that scope was rejected on the way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog

from connectors.base import WHOLE, Connector, Page, Scope
from core.entities import PULL_ORDER, Entity
from core.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    CursorExpired,
    RecordError,
)
from mapping.mapper import Mapper
from mapping.model import Lesson, Period, Pupil, Record, SchoolClass, Tombstone
from store import Store, Tx
from sync.apply import ApplyContext, apply_decisions
from sync.context import StoreFacts
from sync.counts import RunCounts
from sync.crash import crashpoint
from sync.holds import HoldReason, pupil_hold
from sync.plan import GATEWAY_FIELDS, Decision, Planner, Stored, needs_base
from sync.policy import EntityPolicy, SyncSettings
from sync.prefetch import prefetch
from sync.resolver import IdentityResolver
from sync.roster import refresh_mapper
from sync.rules import Deadlines
from sync.runs import RunReport, finish_run, start_run

log = structlog.get_logger("sync.pull")

ROSTER = frozenset(
    {Entity.PERIODS, Entity.SUBJECTS, Entity.TEACHERS, Entity.CLASSES, Entity.PUPILS}
)
#: the roster and subgroups: small, and referred to by everything else
ROSTER_ALL = ROSTER | {Entity.SUBGROUPS}
BUNDLE_KEY = "bundle"

Progress = Callable[[Entity, int], None]


@dataclass(frozen=True)
class PullOptions:
    full: bool = False
    dry_run: bool = False
    entities: frozenset[Entity] | None = None
    #: apply even what a hold would stop (``schoolgate holds approve``)
    approve_hold: bool = False


class _Held(Exception):
    def __init__(self, reason: HoldReason) -> None:
        self.reason = reason


class _Rollback(Exception):
    """Leave a dry-run unit without committing."""


@dataclass
class _Unit:
    tx: Tx
    pupils_in: list[Record | Tombstone] = field(default_factory=list)
    pupils_missing: set[str] = field(default_factory=set)
    pupils_full: bool = False
    pupils_active: dict[str, bool] | None = None


class Puller:
    def __init__(
        self,
        store: Store,
        connector: Connector,
        mapper: Mapper,
        *,
        school_id: str,
        system: str,
        policies: Mapping[Entity, EntityPolicy],
        settings: SyncSettings,
        push_targets: Mapping[Entity, Sequence[str]],
        timezone: dt.tzinfo = dt.UTC,
        options: PullOptions | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.connector = connector
        self.mapper = mapper
        self.school_id = school_id
        self.system = system
        self.policies = policies
        self.settings = settings
        self.push_targets = push_targets
        self.options = options or PullOptions()
        self.progress = progress
        self.facts = StoreFacts(school_id)
        self.resolver = IdentityResolver(system, school_id)
        self.deadlines = Deadlines(
            settings.mark_deadline_days_2_9, settings.mark_deadline_days_10_11, timezone
        )
        self.report = RunReport(school_id, system, "pull")
        self._planners: dict[Entity, Planner] = {}
        #: ids seen so far in each snapshot scope, across the units of this run
        self._seen: dict[tuple[Entity, str], set[str]] = {}
        self._tainted: set[tuple[Entity, str]] = set()
        self._scopes: dict[tuple[Entity, str], Scope] = {}
        #: per entity: whether the school had records linked to this system when the run first
        #: read the entity; if not, every linked record of a scope was seen in it
        self._linked_before: dict[Entity, bool] = {}

    # -- entry point ---------------------------------------------------------------------
    def run(self) -> RunReport:
        with _fewer_collections():
            return self._run()

    def _run(self) -> RunReport:
        caps = self.connector.capabilities()
        entities = [
            e
            for e in PULL_ORDER
            if e in caps.pull
            and self.policies.get(e, EntityPolicy()).direction in ("pull", "both")
            and (self.options.entities is None or e in self.options.entities)
        ]
        if not self.options.dry_run:
            start_run(self.store, self.report)
        structlog.contextvars.bind_contextvars(
            run_id=self.report.run_id, system=self.system, school_id=self.school_id
        )
        try:
            self._roster_changed()
            if caps.bundled:
                self._pull_bundle(set(entities))
            else:
                roster = [e for e in entities if e in ROSTER]
                if roster:
                    self._pull_roster(roster)
                self._pull_entities([e for e in entities if e not in ROSTER])
        except _Held as held:
            self._record_hold(held.reason)
        except (AuthError, ConfigError) as exc:
            self.report.status = "failed"
            self.report.error = str(exc)
        except ConnectorError as exc:
            self.report.status = "failed" if not self.report.counts.by_entity else "partial"
            self.report.error = str(exc)
        except Exception as exc:  # recorded on the run, then raised for the operator
            self.report.status = "failed"
            self.report.error = f"{type(exc).__name__}: {exc}"
            self._finish()
            raise
        if self.report.status == "success" and self.report.counts.total("rejected"):
            self.report.status = "partial"
        self._finish()
        return self.report

    def _finish(self) -> None:
        finish_run(self.store, self.report)
        structlog.contextvars.unbind_contextvars("run_id", "system", "school_id")

    # -- units ---------------------------------------------------------------------------
    @contextmanager
    def _unit(self) -> Iterator[_Unit]:
        counted = RunCounts()
        counted.merge(self.report.counts)
        try:
            with self.store.begin() as tx:
                unit = _Unit(tx)
                yield unit
                self._check_hold(unit)
                crashpoint("pull.before_commit")
                if self.options.dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        except BaseException:
            self.resolver.reset()  # ids minted in the rolled-back unit are gone
            self.report.counts = counted  # and so is what it counted
            raise
        crashpoint("pull.after_commit")

    def _pull_roster(self, entities: Sequence[Entity]) -> None:
        with self._unit() as unit:
            for entity in entities:
                for page in self._pages(entity):
                    self._page(unit, page)
                # a mapper that resolves names (О7) must know the teachers this unit brought
                # before it reads the classes that name them
                refresh_mapper(self.mapper, unit.tx, self.school_id)
        self._roster_changed()

    def _roster_changed(self) -> None:
        with self.store.read() as tx:
            self.facts.load_roster(tx)
            refresh_mapper(self.mapper, tx, self.school_id)

    def _pull_entities(self, entities: Sequence[Entity]) -> None:
        """Each entity in turn; pages go in units of about ``chunk_size`` records: one
        transaction (and one checkpoint) per unit keeps commits few without holding much in
        memory. One reader fetches ahead across entities, so the next entity's first pages are
        on their way while this one's last are applied."""
        tagged = prefetch((e, page) for e in entities for page in self._pages(e))
        with contextlib.closing(tagged):
            stream = _Stream(tagged)
            for entity in entities:
                self._units_of(stream.pages_of(entity))
                if entity is Entity.SUBGROUPS:
                    self._roster_changed()  # lessons name their subgroups

    def _units_of(self, pages: Iterator[Page]) -> None:
        exhausted = False
        while not exhausted:
            with self._unit() as unit:
                taken = 0
                for page in pages:
                    self._page(unit, page)
                    taken += len(page.records)
                    if taken >= self.settings.chunk_size:
                        break
                else:
                    exhausted = True

    def _pull_bundle(self, enabled: set[Entity]) -> None:
        state = None if self.options.full else self._checkpoint(BUNDLE_KEY)
        with contextlib.closing(prefetch(iter(self.connector.pull(None, state)))) as pages:
            self._bundle_units(pages, enabled)

    def _bundle_units(self, pages: Iterator[Page], enabled: set[Entity]) -> None:
        exhausted = False
        while not exhausted:
            with self._unit() as unit:
                taken = 0
                held: list[Page] = []
                for taken, page in enumerate(pages, start=1):  # noqa: B007
                    if page.entity in enabled:
                        self._bundled_page(unit, page, held)
                    if not page.atomic or page.complete:
                        unit.tx.checkpoint_save(self.school_id, self.system, BUNDLE_KEY, page.state)
                        break
                else:
                    exhausted = True
                    if taken:  # atomic pages without their complete page: apply none of them
                        self.report.status = "failed"
                        self.report.error = "the package ended before it was complete"
                        raise _Rollback
            self._roster_changed()

    def _bundled_page(self, unit: _Unit, page: Page, held: list[Page]) -> None:
        """A package lists its parts in its own order (subgroups before the pupils they hold):
        roster pages wait until the package moves past the roster, then go in pull order."""
        if page.entity in ROSTER_ALL and not page.complete:
            held.append(page)
            return
        for waiting in sorted(held, key=lambda p: PULL_ORDER.index(p.entity)):
            self._page(unit, waiting, checkpoint=False)
        held.clear()
        self._page(unit, page, checkpoint=False)

    def _pages(self, entity: Entity) -> Iterator[Page]:
        state = None if self.options.full else self._checkpoint(entity.value)
        try:
            yield from self.connector.pull(entity, state)
        except CursorExpired:
            if state is None:
                raise
            log.warning("cursor expired: full pull", entity=entity.value)
            yield from self.connector.pull(entity, None)

    def _checkpoint(self, key: str) -> dict[str, Any] | None:
        with self.store.read() as tx:
            return tx.checkpoint_get(self.school_id, self.system, key)

    # -- one page ------------------------------------------------------------------------
    def _page(self, unit: _Unit, page: Page, *, checkpoint: bool = True) -> None:
        tx, entity = unit.tx, page.entity
        items: list[Record | Tombstone] = []
        rejected: list[tuple[str, RecordError]] = []
        for wire in page.records:
            try:
                items.append(self.mapper.to_canonical(entity, wire))
            except RecordError as exc:
                rejected.append((exc.record_id or "?", exc))
        resolved = self.resolver.resolve_page(tx, entity, items)
        rejected.extend(resolved.errors)
        scope = page.scope.key
        if page.snapshot:
            if entity not in self._linked_before:
                self._linked_before[entity] = tx.has_linked(entity, self.school_id, self.system)
            seen = self._seen.setdefault((entity, scope), set())
            self._scopes[(entity, scope)] = page.scope
            seen.update(i.id for i in resolved.items)
            if rejected:
                self._tainted.add((entity, scope))
        decisions, stored = self._decide(tx, entity, resolved.items, fresh=resolved.minted)
        crashpoint("pull.mapped")
        self._reject(tx, entity, rejected)
        if entity is Entity.PUPILS:
            self._track_pupils(unit, resolved.items, page)
        apply_decisions(
            tx,
            self._apply_ctx(entity),
            entity,
            decisions,
            stored,
            resolved.new_links,
            self.report.counts,
        )
        self._note_facts(entity, decisions)
        if page.complete:
            # a complete page ends its own scope; the complete page of an atomic unit (a whole
            # package) ends every snapshot scope the unit read
            ends = [k for k in self._seen if k[0] is entity and k[1] == scope]
            if page.atomic:
                ends = list(self._seen)
            for key in ends:
                self._close_scope(unit, key)
        if checkpoint and (not page.atomic or page.complete):
            tx.checkpoint_save(self.school_id, self.system, entity.value, page.state)
        crashpoint("pull.page_applied")
        if self.progress:
            self.progress(entity, len(page.records))

    def _close_scope(self, unit: _Unit, key: tuple[Entity, str]) -> None:
        """Delete what the store holds in a completely read snapshot scope and the read lacked."""
        seen = self._seen.pop(key)
        if key in self._tainted:
            self._tainted.discard(key)
            return
        entity, _ = key
        if not self._linked_before.get(entity, True):
            return  # all this system's records here were linked by this run, and seen by it
        missing = self._missing(unit.tx, entity, self._scopes.pop(key, WHOLE), seen)
        if not missing:
            return
        if entity is Entity.PUPILS:
            unit.pupils_missing.update(missing)
        tombs = [Tombstone(entity=entity, id=m, school_id=self.school_id) for m in missing]
        decisions, stored = self._decide(unit.tx, entity, tombs)
        apply_decisions(
            unit.tx, self._apply_ctx(entity), entity, decisions, stored, [], self.report.counts
        )

    def _decide(
        self,
        tx: Tx,
        entity: Entity,
        items: Sequence[Record | Tombstone],
        *,
        fresh: Collection[str] = (),
    ) -> tuple[list[Decision], dict[str, Stored]]:
        """Plan ``items`` against what the store holds of them (``fresh``: ids just minted,
        which it cannot hold yet, so they are not looked up)."""
        if not items:
            return [], {}
        ids = [i.id for i in items if i.id not in fresh] if fresh else [i.id for i in items]
        heads = tx.states(entity, ids)
        agreements = tx.agreements(self.system, entity, ids)
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
            elif (
                isinstance(item, Record)
                and once[item.id] == 1
                and item.content_hash == content_hash
            ):
                # the same content as stored: the incoming record stands in for the stored one
                # (they differ at most in ids and times, which a record found unchanged is not
                # compared by), so the stored one is not read back and rebuilt
                stored[item.id] = Stored(item, version, agreements.get(item.id))
            else:
                decode[item.id] = None
        for rid, (rec, ver) in tx.record_states(entity, list(decode)).items():
            stored[rid] = Stored(record=rec, version=ver, synced_hash=agreements.get(rid))
        for item in items:
            st = stored.get(item.id)
            if st is not None and st.synced_hash and needs_base(item, st):
                stored[item.id] = Stored(
                    st.record,
                    st.version,
                    st.synced_hash,
                    tx.content_at(entity, item.id, st.synced_hash),
                )
        if entity in (Entity.MARKS, Entity.ATTENDANCE):
            self.facts.prefetch_lessons(tx, (getattr(i, "lesson_id", None) or "" for i in items))
            self.facts.prefetch_lessons(
                tx, (getattr(s.record, "lesson_id", "") for s in stored.values() if s.record)
            )
        return self._planner(entity).plan(items, stored), stored

    def _missing(self, tx: Tx, entity: Entity, scope: Scope, seen: set[str]) -> set[str]:
        """What the store holds in ``scope`` that this system knows and the snapshot lacked."""
        filters: dict[str, Any] = {}
        if scope.date_from is not None:
            filters["date_from"] = scope.date_from
        if scope.date_to is not None:
            filters["date_to"] = scope.date_to
        if scope.class_id is not None:
            gid = tx.lookup_ext(self.system, Entity.CLASSES, [scope.class_id]).get(scope.class_id)
            if gid is None:
                return set()  # a class we do not know yet holds nothing of ours
            filters["class_id"] = gid
        # only records this system knows can disappear from it
        return tx.ids_in_scope(
            entity, self.school_id, linked_to=self.system, excluding=seen, **filters
        )

    def _track_pupils(self, unit: _Unit, items: Sequence[Record | Tombstone], page: Page) -> None:
        if unit.pupils_active is None:
            unit.pupils_active = {
                pid: status == "active"
                for pid, (status,) in unit.tx.fields_in_school(
                    Entity.PUPILS, self.school_id, ("status",)
                ).items()
            }
            unit.pupils_full = (
                page.snapshot
                or self.options.full
                or (self._checkpoint(Entity.PUPILS.value) is None)
            )
        unit.pupils_in.extend(items)

    def _check_hold(self, unit: _Unit) -> None:
        if unit.pupils_active is None or self.options.approve_hold:
            return
        reason = pupil_hold(
            unit.pupils_in,
            unit.pupils_active,
            full=unit.pupils_full,
            missing=unit.pupils_missing,
            threshold=self.settings.hold_pupil_share,
        )
        if reason is not None:
            raise _Held(reason)

    def _record_hold(self, reason: HoldReason) -> None:
        self.report.status = "held"
        self.report.hold = reason
        self.report.error = reason.detail
        self.report.counts.add(Entity.PUPILS.value, "held", reason.deactivated)
        if self.options.dry_run:
            return
        with self.store.begin() as tx:
            self.report.hold_id = tx.hold_add(
                self.school_id,
                self.system,
                reason.code,
                {
                    "detail": reason.detail,
                    "deactivated": reason.deactivated,
                    "active_before": reason.active_before,
                },
                run_id=self.report.run_id,
            )
        log.warning("pull held", reason=reason.code, hold_id=self.report.hold_id)

    def _reject(self, tx: Tx, entity: Entity, rejected: Sequence[tuple[str, RecordError]]) -> None:
        if not rejected:
            return
        self.report.counts.add(entity.value, "rejected", len(rejected))
        for ext, exc in rejected[:5]:
            log.warning(
                "record rejected",
                entity=entity.value,
                record=ext,
                reason=exc.reason,
                field=exc.field,
            )
        tx.findings_add(
            [
                {
                    "school_id": self.school_id,
                    "system": self.system,
                    "entity": entity.value,
                    "record_id": f"{self.system}:{ext}",
                    "kind": "invalid_record",
                    "field": exc.field,
                    "detail": exc.reason,
                    "status": "rejected",
                }
                for ext, exc in rejected
            ]
        )

    def _note_facts(self, entity: Entity, decisions: Sequence[Decision]) -> None:
        recs = [d.record for d in decisions if d.record is not None]
        if entity is Entity.LESSONS:
            self.facts.note_lessons(r for r in recs if isinstance(r, Lesson))
        elif entity is Entity.CLASSES:
            self.facts.note_classes(r for r in recs if isinstance(r, SchoolClass))
        elif entity is Entity.PUPILS:
            self.facts.note_pupils(r for r in recs if isinstance(r, Pupil))
        elif entity is Entity.PERIODS:
            self.facts.note_periods(r for r in recs if isinstance(r, Period))

    def _planner(self, entity: Entity) -> Planner:
        planner = self._planners.get(entity)
        if planner is None:
            policy = self.policies.get(entity, EntityPolicy())
            key = BUNDLE_KEY if self.connector.capabilities().bundled else entity.value
            planner = Planner(
                policy,
                self.facts,
                self.deadlines,
                self.mapper.uncarried(entity) | GATEWAY_FIELDS.get(entity, frozenset()),
                baseline=self._checkpoint(key) is None,
            )
            self._planners[entity] = planner
        return planner

    def _apply_ctx(self, entity: Entity) -> ApplyContext:
        policy = self.policies.get(entity, EntityPolicy())
        return ApplyContext(
            self.school_id,
            self.system,
            self.report.run_id,
            self.push_targets,
            policy.default_policy,
        )


class _Stream:
    """``(entity, page)`` pairs in entity order, taken one entity at a time."""

    def __init__(self, source: Iterator[tuple[Entity, Page]]) -> None:
        self._source = source
        self._next: tuple[Entity, Page] | None = None

    def pages_of(self, entity: Entity) -> Iterator[Page]:
        while True:
            if self._next is None:
                self._next = next(self._source, None)
                if self._next is None:
                    return
            if self._next[0] is not entity:
                return
            page = self._next[1]
            self._next = None
            yield page


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A pull makes millions of short-lived objects (wire items, records, rows) and few cycles;
    at its default pace (a collection every 700 allocations) the cyclic collector spends seconds
    of a large sync walking the heap for nothing. It runs less often during a pull."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
