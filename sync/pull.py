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
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from connectors.base import Connector, Page, WireRecord
from core.entities import PULL_ORDER, Entity
from core.errors import (
    ConfigError,
    ConnectorError,
    CursorExpired,
    DataRejected,
    MissingReference,
    RecordError,
    SentToReview,
    StoreError,
)
from mapping.mapper import Mapper
from mapping.model import MODELS, Lesson, Period, Pupil, Record, SchoolClass, Tombstone
from store import Conflict, Store, Tx
from sync import findings as finding_rows
from sync.apply import ApplyContext, apply_decisions
from sync.counts import RunCounts
from sync.crash import crashpoint
from sync.facts import StoreFacts
from sync.holds import HoldReason, PupilGuard
from sync.plan import GATEWAY_FIELDS, Decision, Planner, Stored
from sync.policy import EntityPolicy, SyncSettings
from sync.prefetch import EntityStream, prefetch
from sync.resolver import LEAVES, PAGED, IdentityResolver
from sync.roster import refresh_mapper
from sync.runs import RunReport, finish_run, hold_run, start_run
from sync.snapshots import SnapshotTracker
from sync.stored import stored_states

log = structlog.get_logger("sync.pull")

ROSTER = frozenset(
    {Entity.PERIODS, Entity.SUBJECTS, Entity.TEACHERS, Entity.CLASSES, Entity.PUPILS}
)
#: the roster and subgroups: small, and referred to by everything else
ROSTER_ALL = ROSTER | {Entity.SUBGROUPS}
BUNDLE_KEY = "bundle"
#: deletions planned and applied at a time when a complete read lacked records
DELETE_BATCH = 1_000

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
    #: the unit's pupil changes, watched for a hold (made when the unit first meets pupils)
    pupils: PupilGuard | None = None


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
        written_work: Sequence[str] | None = None,
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
        self.resolver = IdentityResolver(
            system, school_id, paged=LEAVES if self.options.dry_run else PAGED
        )
        self.deadlines = settings.deadlines(timezone, written_work)
        self.report = RunReport(school_id, system, "pull")
        self._planners: dict[Entity, Planner] = {}
        self.snapshots = SnapshotTracker(school_id, system)
        #: entities read to their end in this run
        self._read: set[Entity] = set()

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
            if self.report.status != "failed":
                self._retry_waiting()
        except _Held as held:
            hold_run(self.store, self.report, held.reason, record=not self.options.dry_run)
        except (ConnectorError, ConfigError) as exc:
            # the read did not finish: whatever units were applied stay (each with its
            # checkpoint), but the run failed, and says what it did not read
            self.report.status = "failed"
            unread = [e.value for e in entities if e not in self._read]
            self.report.unread = unread
            self.report.error = str(exc) + (f" (not read: {', '.join(unread)})" if unread else "")
        except Exception as exc:  # recorded on the run, then raised for the operator
            self.report.status = "failed"
            self.report.error = f"{type(exc).__name__}: {exc}"
            self._finish()
            raise
        if self.report.status == "success" and (
            self.report.counts.total("rejected") or self.report.counts.total("waiting")
        ):
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
        self._read.update(entities)
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
            stream = EntityStream(tagged)
            for entity in entities:
                self._units_of(stream.pages_of(entity))
                self._read.add(entity)
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
                        unit.tx.checkpoints.save(
                            self.school_id, self.system, BUNDLE_KEY, page.state
                        )
                        break
                else:
                    exhausted = True
                    if taken:  # atomic pages without their complete page: apply none of them
                        self.report.status = "failed"
                        self.report.error = "the package ended before it was complete"
                        raise _Rollback
            self._roster_changed()
        if self.report.status == "failed":
            self.report.unread = sorted(e.value for e in enabled)
        else:
            self._read.update(enabled)

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
            return tx.checkpoints.get(self.school_id, self.system, key)

    # -- one page ------------------------------------------------------------------------
    def _page(self, unit: _Unit, page: Page, *, checkpoint: bool = True) -> None:
        tx, entity = unit.tx, page.entity
        log.debug("page", entity=entity.value, records=len(page.records), snapshot=page.snapshot,
                  complete=page.complete, scope=page.scope.key)  # fmt: skip
        items, refused = self._map(tx, entity, page.records)
        if page.snapshot:
            self.snapshots.first_read(tx, entity)
        if entity is Entity.PUPILS:
            self._watch_pupils(unit, page)
        try:
            with tx.savepoint():
                applied, tainted, _ = self._apply(unit, entity, items)
        except Exception as exc:
            if _lost_store(exc):
                raise
            # something in the page cannot be applied: find it, set it aside, apply the rest —
            # from the page mapped afresh (resolving sets gateway ids in the records it is given)
            self.resolver.reset()
            items, _ = self._map(tx, entity, page.records, again=True)
            applied, tainted = self._apply_each(unit, entity, items, exc)
        tainted |= refused
        if page.snapshot:
            self.snapshots.note(page, (r.id for r in applied), tainted=tainted)
        if unit.pupils is not None and entity is Entity.PUPILS:
            unit.pupils.incoming.extend(applied)
        for key in self.snapshots.ending(page):
            self._delete_missing(unit, key[0], self.snapshots.close(tx, key))
        if checkpoint and (not page.atomic or page.complete):
            tx.checkpoints.save(self.school_id, self.system, entity.value, page.state)
        crashpoint("pull.page_applied")
        if self.progress:
            self.progress(entity, len(page.records))

    def _map(
        self, tx: Tx, entity: Entity, wires: Sequence[WireRecord], *, again: bool = False
    ) -> tuple[list[Record | Tombstone], bool]:
        """Canonical records of a page, one per id (a record read twice: the last wins); the
        records that cannot be mapped are refused here with their reason (and ``True`` says
        some were). ``again``: the page was mapped (and its refusals recorded) before."""
        by_id: dict[str, Record | Tombstone] = {}
        refused: list[tuple[str, RecordError]] = []
        for wire in wires:
            try:
                item = self.mapper.to_canonical(entity, wire)
            except SentToReview as exc:  # the mapping cannot tell people apart by name
                ext = exc.record_id or "?"
                if (
                    not again
                    and tx.reviews.status(self.school_id, self.system, entity, ext) != "open"
                ):
                    tx.reviews.add(
                        self.school_id, self.system, entity, ext, list(exc.candidates), exc.reason
                    )
                refused.append((ext, exc))
                continue
            except RecordError as exc:
                refused.append((exc.record_id or "?", exc))
                continue
            except Exception as exc:  # a mapping that fails outside its contract: poison
                refused.append(
                    ("?", RecordError(f"the mapping failed ({type(exc).__name__})", entity=entity))
                )
                log.warning("mapping failed", entity=entity.value, error=type(exc).__name__)
                continue
            if item.id in by_id:
                del by_id[item.id]  # the last one read wins, in its own place
                if not again:
                    self.report.counts.add(entity.value, "duplicates")
            by_id[item.id] = item
        if not again:
            self._reject(tx, entity, refused)
        return list(by_id.values()), bool(refused)

    def _apply(
        self,
        unit: _Unit,
        entity: Entity,
        items: Sequence[Record | Tombstone],
        *,
        retry: bool = False,
    ) -> tuple[list[Record | Tombstone], bool, set[str]]:
        """Resolve, plan and apply ``items``: returns them resolved (records applied or found
        unchanged, tombstones), whether any was refused or set waiting, and the ids (as read) of
        those waiting.
        ``retry``: the items waited already (they are not counted as waiting again)."""
        tx = unit.tx
        resolved = self.resolver.resolve_page(tx, entity, items)
        decisions, stored = self._decide(tx, entity, resolved.items, fresh=resolved.minted)
        crashpoint("pull.mapped")
        self._reject(tx, entity, resolved.errors)
        self._park(tx, entity, resolved.waiting, count=not retry)
        records = [i for i in resolved.items if isinstance(i, Record)]
        tx.conflicts.add_findings(
            finding_rows.dropped_fields(self.school_id, self.system, entity, records)
        )
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
        waiting = {rec.id for rec, _ in resolved.waiting}
        return resolved.items, bool(resolved.errors or waiting), waiting

    def _apply_each(
        self, unit: _Unit, entity: Entity, items: Sequence[Record | Tombstone], cause: Exception
    ) -> tuple[list[Record | Tombstone], bool]:
        """The page failed whole: apply its records one by one, each alone, and quarantine
        those that fail with the kind of failure; the run goes on."""
        applied: list[Record | Tombstone] = []
        tainted = False
        bad = 0
        for item in items:
            try:
                with unit.tx.savepoint():
                    # a copy: resolving sets gateway ids in what it is given, and a record set
                    # aside is named as read
                    done, refused, _ = self._apply(unit, entity, [item.model_copy()])
            except Exception as exc:
                if _lost_store(exc):
                    raise
                self.resolver.reset()
                unit.tx.conflicts.add_findings(
                    [finding_rows.quarantined(self.school_id, self.system, entity, item.id, exc)]
                )
                self.report.counts.add(entity.value, "rejected")
                tainted = True
                bad += 1
                continue
            applied.extend(done)
            tainted |= refused
        log.warning(
            "records quarantined",
            entity=entity.value,
            count=bad,
            cause=type(cause).__name__,
        )
        return applied, tainted

    def _park(
        self,
        tx: Tx,
        entity: Entity,
        items: Sequence[tuple[Record, MissingReference]],
        *,
        count: bool = True,
    ) -> None:
        if not items:
            return
        if count:
            self.report.counts.add(entity.value, "waiting", len(items))
        tx.conflicts.park(finding_rows.waiting(self.school_id, self.system, entity, items))

    def _retry_waiting(self) -> None:
        """Records that waited for a reference, from this run or earlier ones: applied now if
        what they refer to has arrived, else they keep waiting."""
        with self.store.read() as tx:
            rows = tx.conflicts.waiting(self.school_id, self.system)
        by_entity: dict[Entity, list[Conflict]] = {}
        for row in rows:
            by_entity.setdefault(Entity(row.entity), []).append(row)
        for entity in (e for e in PULL_ORDER if e in by_entity):
            batch = by_entity[entity]
            model = MODELS[entity]
            with self._unit() as unit:
                records = [model.model_validate(row.incoming) for row in batch]
                if entity is Entity.PUPILS:
                    self._watch_pupils(unit, None)
                applied, _, still = self._apply(unit, entity, records, retry=True)
                arrived = [row.id for row in batch if row.record_id not in still]
                unit.tx.conflicts.settle(arrived, "arrived")
                if unit.pupils is not None:
                    unit.pupils.incoming.extend(applied)
            if arrived:
                log.info("waiting records applied", entity=entity.value, count=len(arrived))

    def _delete_missing(self, unit: _Unit, entity: Entity, missing: set[str]) -> None:
        """Delete what a completely read snapshot scope lacked, ``DELETE_BATCH`` records at a
        time: a system that sends an empty but complete read lacks every record, and planning
        all their deletions at once held every stored record (1.8 GB for the large school)."""
        if not missing:
            return
        if entity is Entity.PUPILS and unit.pupils is not None:
            unit.pupils.missing.update(missing)
            # the unit's pupils are all known now: a unit that is to be held stops before
            # it deletes anything more (an empty package would go on to every mark)
            self._check_hold(unit)
        ids = sorted(missing)
        for start in range(0, len(ids), DELETE_BATCH):
            tombs = [
                Tombstone(entity=entity, id=m, school_id=self.school_id)
                for m in ids[start : start + DELETE_BATCH]
            ]
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
        stored = stored_states(tx, self.system, entity, items, fresh)
        if entity in (Entity.MARKS, Entity.ATTENDANCE):
            self.facts.prefetch_lessons(tx, (getattr(i, "lesson_id", None) or "" for i in items))
            self.facts.prefetch_lessons(
                tx, (getattr(s.record, "lesson_id", "") for s in stored.values() if s.record)
            )
        return self._planner(entity).plan(items, stored), stored

    def _watch_pupils(self, unit: _Unit, page: Page | None) -> None:
        """Before the unit's first pupils are applied: who is active now, for the hold."""
        if unit.pupils is not None:
            return
        active = {
            pid: status == "active"
            for pid, (status,) in unit.tx.records.fields_in_school(
                Entity.PUPILS, self.school_id, ("status",)
            ).items()
        }
        # a first pull has no checkpoint: per entity, or one for the whole bundle (АСИОУ's
        # package), whose pupils' own key is never written
        first = self._checkpoint(Entity.PUPILS.value) is None and (
            self._checkpoint(BUNDLE_KEY) is None
        )
        full = (page is not None and page.snapshot) or self.options.full or first
        unit.pupils = PupilGuard(active, full=full)

    def _check_hold(self, unit: _Unit) -> None:
        if unit.pupils is None or self.options.approve_hold:
            return
        reason = unit.pupils.verdict(self.settings.hold_pupil_share)
        if reason is not None:
            raise _Held(reason)

    def _reject(self, tx: Tx, entity: Entity, errors: Sequence[tuple[str, RecordError]]) -> None:
        """Refused records go on the queue with their reason; people sent to the identity
        review queue are counted as such (the review queue holds them)."""
        review = [e for _, e in errors if isinstance(e, SentToReview)]
        if review:
            self.report.counts.add(entity.value, "review", len(review))
        rejected = [(ext, e) for ext, e in errors if not isinstance(e, SentToReview)]
        if not rejected:
            return
        self.report.counts.add(entity.value, "rejected", len(rejected))
        for ext, exc in rejected:  # a burst of one reason ends in «N more like this»
            log.warning(
                "record rejected",
                entity=entity.value,
                record=ext,
                reason=exc.reason,
                field=exc.field,
            )
        tx.conflicts.add_findings(
            finding_rows.refused(self.school_id, self.system, entity, rejected)
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


def _lost_store(exc: BaseException) -> bool:
    """The database itself failed (not one record's data): nothing to set aside, stop."""
    return isinstance(exc, StoreError) and not isinstance(exc, DataRejected)
