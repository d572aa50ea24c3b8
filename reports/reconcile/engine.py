"""A reconciliation of one school with one system: read the system afresh and completely
through its connector, compare every record with the store, store the differences.

    read the system ─▶ map ─▶ look ids up (read-only) ─▶ sort by gateway id (bounded memory)
                                                                  │
    the store's rows, in id order ─────────────────────────────▶ merge ─▶ matched | different |
                                                                           only in the store |
                                                                           only in the system
                                                                  │
                                   labels of what is on its way ◀─┘─▶ report tables

Nothing is applied and nothing is linked: a record whose id the identity map does not know is
*only in the system*. The comparison streams — the system's side goes through a sorted spill
(:mod:`.sorting`), the store's side is a cursor — so a whole year is never held in memory.
Each reconciliation is stored with its summary; the rows the previous reconciliation of the same
scope also had are marked as not new.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from core.entities import Entity
from core.errors import GatewayError
from mapping.model import Pupil
from reports.reconcile import compare
from reports.reconcile.places import Place, Places, Window
from reports.reconcile.remote import ReadOnlyResolver, map_page, pages, readable
from reports.reconcile.scope import Request, window_for
from reports.reconcile.sink import DifferenceSink, Found
from reports.reconcile.sorting import SortedSpill, last_of_each, merge
from reports.reconcile.tally import Tally
from store import QueueFilter, Store, Tx
from store.codec import CODECS
from sync.jobs import Job
from sync.plan import GATEWAY_FIELDS

T = TypeVar("T")

PHASES = ("read_remote", "read_store", "compare")
#: records compared field by field (their rows read) at a time
_BATCH = 500


@dataclass
class Outcome:
    """A finished reconciliation: its id in the store and its summary."""

    id: int
    summary: dict[str, Any]

    @property
    def differences(self) -> int:
        return int(self.summary.get("differences", 0))


@dataclass
class _Clock:
    spent: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    def timed(self, rows: Iterator[T], phase: str, chunk: int = 1000) -> Iterator[T]:
        """``rows`` with the time spent fetching them counted to ``phase`` (fetched ``chunk`` at
        a time, so the clock is read once per chunk, not per row)."""
        clock = time.perf_counter
        take = itertools.islice
        while True:
            t0 = clock()
            block = list(take(rows, chunk))
            self.spent[phase] += clock() - t0
            if not block:
                return
            yield from block


class Reconciler:
    def __init__(self, store: Store, job: Job, request: Request) -> None:
        self.store = store
        self.job = job
        self.request = request
        self.school_id = job.setup.school_id
        self.system = job.setup.system
        self.tally = Tally()
        self.clock = _Clock()

    def run(self) -> Outcome:
        scope = self.request.scope()
        with self.store.begin() as wtx:
            rid = wtx.reconciliations.start(
                self.school_id, self.system, scope, self.request.scope_key()
            )
        try:
            summary = self._run(rid)
        except Exception as exc:
            message = str(exc) if isinstance(exc, GatewayError) else type(exc).__name__
            with self.store.begin() as wtx:
                wtx.reconciliations.finish(
                    rid, status="failed", summary={"scope": scope}, error=message
                )
            raise
        return Outcome(rid, summary)

    def _run(self, rid: int) -> dict[str, Any]:
        entities, unreadable = readable(self.job.connector, self.request.entities)
        with self.store.read() as tx:
            roster = tx.queries.roster(self.school_id)
            window = window_for(self.request, roster)
            places = Places(
                tx.queries.lesson_keys(self.school_id),
                {p.id: p.class_id for p in roster.pupils.values() if isinstance(p, Pupil)},
            )
            holds = tx.queries.holds(
                QueueFilter(school_id=self.school_id, statuses=("waiting",))
            ).items
            holds = [h for h in holds if h.system == self.system]
            sink = DifferenceSink(
                self.store, tx, rid, self.school_id, self.system, self.tally, holds
            )
            spills = {e: SortedSpill() for e in entities}
            try:
                t0 = time.perf_counter()
                self._read_remote(tx, spills, places, window, sink)
                self.clock.spent["read_remote"] = time.perf_counter() - t0
                t1 = time.perf_counter()
                for entity in entities:
                    self._compare(tx, entity, spills[entity], places, window, sink)
                sink.flush()
                self.clock.spent["compare"] = (
                    time.perf_counter() - t1 - self.clock.spent["read_store"]
                )
            finally:
                for spill in spills.values():
                    spill.close()
            totals = tx.queries.pending_totals(self.school_id, self.system)
        return self._finish(rid, entities, unreadable, totals)

    # -- the system's side -----------------------------------------------------------------
    def _read_remote(
        self,
        tx: Tx,
        spills: dict[Entity, SortedSpill],
        places: Places,
        window: Window,
        sink: DifferenceSink,
    ) -> None:
        resolver = ReadOnlyResolver(tx, self.school_id, self.system)
        for page in pages(self.job.connector, list(spills)):
            entity = page.entity
            records, refused = map_page(self.job.mapper, page)
            for bad in refused:
                sink.add(
                    Found(
                        "unreadable",
                        entity,
                        None,
                        bad.ext,
                        Place(),
                        [compare.FieldDiff(bad.field or "", None, bad.reason)],
                        compare.severity(entity, "unreadable"),
                    )
                )
            spill = spills[entity]
            for seen in resolver.resolve(entity, records):
                if seen.gid is not None:
                    spill.add((seen.gid, seen.ext, seen.content_hash, seen.content))
                    continue
                place = places.of(entity, None, seen.content)
                self.tally.note(entity, "system")
                if window.covers(entity, place):
                    fields = compare.main_fields(entity, seen.content, side="system")
                    sink.add(
                        Found(
                            "only_system",
                            entity,
                            None,
                            seen.ext,
                            place,
                            fields,
                            compare.severity(entity, "only_system"),
                        )
                    )

    # -- the merge ---------------------------------------------------------------------------
    def _compare(
        self,
        tx: Tx,
        entity: Entity,
        spill: SortedSpill,
        places: Places,
        window: Window,
        sink: DifferenceSink,
    ) -> None:
        """Merge the system's side with the store's, in id order. The store is read as ids and
        content hashes: a record whose hash is the system's is matched without reading its row;
        the rows of the rest (different, or only in the store) are read in batches."""
        kept = self.job.mapper.uncarried(entity) | GATEWAY_FIELDS.get(entity, frozenset())
        remote = last_of_each(iter(spill))
        duplicates = spill.count
        tally = self.tally
        from_store = from_system = 0  # records read from each side, counted once at the end
        everything = window.everything
        place_of = places.of
        rows = self.clock.timed(tx.queries.record_hashes(entity, self.school_id), "read_store")
        #: (the system's record or None, the store's id) to compare field by field
        pending: list[tuple[tuple[Any, ...] | None, str]] = []
        for seen, row in merge(remote, rows, _first, _first):
            if seen is not None:
                duplicates -= 1
                from_system += 1
            if row is None:
                assert seen is not None
                gid, ext, _, content = seen
                place = place_of(entity, gid, content)
                if window.covers(entity, place):
                    self._only(sink, "only_system", entity, gid, ext, place, content)
                continue
            from_store += 1
            if seen is not None and not kept and seen[2] == row[1]:
                place = place_of(entity, seen[0], seen[3])
                if everything or window.covers(entity, place):
                    tally.matched(entity, place)
                continue
            pending.append((seen, row[0]))
            if len(pending) >= _BATCH:
                self._settle(tx, entity, pending, kept, places, window, sink)
                pending = []
        self._settle(tx, entity, pending, kept, places, window, sink)
        tally.note(entity, "store", from_store)
        tally.note(entity, "system", from_system)
        if duplicates:
            tally.note(entity, "duplicates", duplicates)

    def _settle(
        self,
        tx: Tx,
        entity: Entity,
        pending: list[tuple[tuple[Any, ...] | None, str]],
        kept: frozenset[str],
        places: Places,
        window: Window,
        sink: DifferenceSink,
    ) -> None:
        """Compare field by field the records whose hashes differ, and name those only in the
        store, their rows read in one query."""
        if not pending:
            return
        t0 = time.perf_counter()
        rows = tx.queries.rows_by_id(entity, self.school_id, [gid for _, gid in pending])
        self.clock.spent["read_store"] += time.perf_counter() - t0
        row_content = CODECS[entity].row_content
        for seen, gid in pending:
            row = rows.get(gid)
            if row is None:  # deleted by a pull since its hash was read (PostgreSQL reads
                if seen is not None:  # each statement afresh): not in the store now
                    place = places.of(entity, gid, seen[3])
                    if window.covers(entity, place):
                        self._only(sink, "only_system", entity, gid, seen[1], place, seen[3])
                continue
            stored = row_content(row)  # type: ignore[arg-type]
            place = places.of(entity, gid, stored)
            if not window.covers(entity, place):
                continue
            if seen is None:
                self._only(sink, "only_store", entity, gid, None, place, stored)
                continue
            diffs, spelling = compare.field_diffs(stored, seen[3], kept)
            if not diffs:
                self.tally.matched(entity, place, normalised=spelling)
                continue
            sink.add(
                Found(
                    "different",
                    entity,
                    gid,
                    seen[1],
                    place,
                    diffs,
                    compare.severity(entity, "different", (d.field for d in diffs)),
                )
            )

    def _only(
        self,
        sink: DifferenceSink,
        kind: str,
        entity: Entity,
        gid: str | None,
        ext: str | None,
        place: Place,
        content: dict[str, Any],
    ) -> None:
        side = "store" if kind == "only_store" else "system"
        sink.add(
            Found(
                kind,
                entity,
                gid,
                ext,
                place,
                compare.main_fields(entity, content, side=side),
                compare.severity(entity, kind),
            )
        )

    # -- the end -----------------------------------------------------------------------------
    def _finish(
        self,
        rid: int,
        entities: list[Entity],
        unreadable: list[Entity],
        totals: dict[str, int],
    ) -> dict[str, Any]:
        with self.store.begin() as wtx:
            previous = wtx.reconciliations.previous(
                self.school_id, self.system, self.request.scope_key(), rid
            )
            if previous is not None:
                wtx.reconciliations.mark_seen_before(rid, previous)
        with self.store.read() as tx:
            sections = tx.queries.reconciliation_totals(rid)
            since = None
            if previous is not None:
                new = tx.queries.reconciliation_new(rid)
                gone = tx.queries.gone_since(rid, previous).total
                since = {"previous_id": previous, "new": new, "gone": gone}
        tallied = self.tally.as_json()
        summary: dict[str, Any] = {
            "scope": self.request.scope(),
            "compared": [e.value for e in entities],
            "not_read": [e.value for e in unreadable],
            "differences": sum(sections.values()),
            "sections": sections,
            "queues": totals,
            "since": since,
            "phases": {k: round(v, 3) for k, v in self.clock.spent.items()},
            **tallied,
        }
        with self.store.begin() as wtx:
            wtx.reconciliations.finish(rid, status="done", summary=summary, previous_id=previous)
        return summary


def _first(item: tuple[Any, ...]) -> str:
    key: str = item[0]
    return key


def reconcile(store: Store, job: Job, request: Request) -> Outcome:
    """Reconcile the school of ``job`` with its system (see the module's docstring)."""
    return Reconciler(store, job, request).run()
