"""The local journal's write API: what teachers enter here is stored with its audit and change-log
rows and, in the same transaction, queued in the outbox for every system that takes pushes of it.

The school's rules hold here too: no marks in grade 1, nothing changed inside a closed period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from core.entities import Entity
from core.errors import RecordError
from mapping.model import Record
from store import Store, Tx
from sync import rules
from sync.facts import StoreFacts
from sync.outbox import pushes

LOCAL = "local"


class Journal:
    def __init__(
        self, store: Store, school_id: str, push_targets: Mapping[Entity, Sequence[str]]
    ) -> None:
        self.store = store
        self.school_id = school_id
        self.targets = push_targets

    def write(self, records: Sequence[Record], *, actor: str) -> dict[str, int]:
        """Store local changes and queue their pushes; returns counts. A record that breaks a
        rule raises :class:`RecordError` and nothing of the batch is stored."""
        if not records:
            return {}
        by_entity: dict[Entity, list[Record]] = defaultdict(list)
        for rec in records:
            if rec.school_id != self.school_id:
                raise RecordError("belongs to another school", entity=rec.entity, record_id=rec.id)
            by_entity[rec.entity].append(rec)
        counts = {"created": 0, "updated": 0, "unchanged": 0, "queued": 0}
        with self.store.begin() as tx:
            facts = StoreFacts(self.school_id)
            facts.load_roster(tx)
            for entity, recs in by_entity.items():
                facts.prefetch_lessons(tx, (getattr(r, "lesson_id", "") for r in recs))
                for rec in recs:
                    for finding in (rules.grade1(rec, facts), rules.closed_period(rec, facts)):
                        if finding is not None and finding.blocking:
                            raise RecordError(
                                finding.detail, entity=entity, record_id=rec.id, field=finding.field
                            )
                result = tx.records.upsert(entity, recs, source=LOCAL, actor=actor)
                counts["created"] += result.created
                counts["updated"] += result.updated
                counts["unchanged"] += result.unchanged
                hashes = {r.id: r.content_hash for r in recs}
                counts["queued"] += self._queue(tx, entity, result.ids_changed, "upsert", hashes)
        return counts

    def delete(self, entity: Entity, ids: Sequence[str], *, actor: str) -> int:
        with self.store.begin() as tx:
            deleted_ids = [i for i in ids if i in tx.records.hashes(entity, [i])]
            n = tx.records.delete(entity, deleted_ids, source=LOCAL, actor=actor)
            self._queue(tx, entity, deleted_ids, "delete")
        return n

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
        return tx.outbox.enqueue_many(
            pushes(
                self.school_id,
                entity,
                ids,
                op=op,
                targets=targets,
                versions=tx.records.versions(entity, ids),
                origin=LOCAL,
                hashes=hashes,
            )
        )
