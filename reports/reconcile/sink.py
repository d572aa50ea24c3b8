"""Where a reconciliation's differences go: in batches, each labelled with what is already on its
way for it (pushes to the system, open or waiting conflict-queue rows, identity reviews, a held
pull), counted, and written to the store's report tables. The labels are looked up in the
reconciliation's own read transaction; the rows are written in short transactions of their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.entities import Entity
from reports.reconcile.compare import FieldDiff, difference_key
from reports.reconcile.places import Place
from reports.reconcile.tally import Tally
from store import Hold, NewDifference, Store, Tx

#: a held pull holds the roster it read: differences of these wait for its decision
HELD_BY_A_HOLD = frozenset(
    {Entity.PERIODS, Entity.SUBJECTS, Entity.TEACHERS, Entity.CLASSES, Entity.PUPILS}
)


@dataclass(frozen=True, slots=True)
class Found:
    """A difference as the comparison finds it, before its labels."""

    kind: str
    entity: Entity
    record_id: str | None
    external_id: str | None
    place: Place
    fields: Sequence[FieldDiff]
    severity: int


@dataclass
class DifferenceSink:
    store: Store
    tx: Tx
    reconciliation_id: int
    school_id: str
    system: str
    tally: Tally
    holds: Sequence[Hold] = ()
    batch: int = 1000
    _held: list[Found] = field(default_factory=list)

    def add(self, found: Found) -> None:
        self._held.append(found)
        if len(self._held) >= self.batch:
            self.flush()

    def flush(self) -> None:
        by_entity: dict[Entity, list[Found]] = {}
        for f in self._held:
            by_entity.setdefault(f.entity, []).append(f)
        self._held = []
        rows: list[NewDifference] = []
        for entity, found in by_entity.items():
            rows.extend(self._rows(entity, found))
        if rows:
            with self.store.begin() as tx:
                tx.reconciliations.add_items(self.reconciliation_id, rows)

    def _rows(self, entity: Entity, found: list[Found]) -> list[NewDifference]:
        ids = [f.record_id for f in found if f.record_id is not None]
        missing_ext = [f.record_id for f in found if f.record_id and f.external_id is None]
        ext_of = self.tx.identity.ext_of(self.system, entity, missing_ext) if missing_ext else {}
        exts = [e for f in found if (e := f.external_id or ext_of.get(f.record_id or ""))]
        pending = self.tx.queries.pending_for(self.school_id, self.system, entity.value, ids, exts)
        out: list[NewDifference] = []
        for f in found:
            ext = f.external_id or ext_of.get(f.record_id or "")
            labels: list[dict[str, Any]] = []
            for ref in (f.record_id, f"{self.system}:{ext}" if ext else None):
                for p in pending.get(ref or "", ()):
                    labels.append({"kind": p.kind, "ref": p.id, "detail": p.detail})
            if entity in HELD_BY_A_HOLD:
                labels += [{"kind": "hold", "ref": h.id, "detail": h.reason} for h in self.holds]
            section = "pending" if labels else f.kind
            names = [d.field for d in f.fields] if f.kind == "different" else []
            brief = {
                "entity": entity.value,
                "kind": f.kind,
                "section": section,
                "fields": names,
                "day": f.place.day.isoformat() if f.place.day else None,
                "pupil_id": f.place.pupil_id,
                "record_id": f.record_id,
                "external_id": ext,
            }
            self.tally.difference(entity, f.place, section, f.severity, brief)
            out.append(
                NewDifference(
                    kind=f.kind,
                    section=section,
                    entity=entity.value,
                    record_id=f.record_id,
                    external_id=ext,
                    key=difference_key(f.kind, entity, f.record_id, ext, names),
                    severity=f.severity,
                    fields=[d.to_json() for d in f.fields],
                    class_id=f.place.class_id,
                    subject_id=f.place.subject_id,
                    pupil_id=f.place.pupil_id,
                    day=f.place.day,
                    pending=labels or None,
                )
            )
        return out
