"""The school's roster as a mapping that resolves names against it (О7) must see it."""

from __future__ import annotations

from core.entities import Entity
from mapping.mapper import Mapper, RosterMapper
from mapping.model import Record
from store import Tx

ROSTER = (Entity.PERIODS, Entity.SUBJECTS, Entity.TEACHERS, Entity.CLASSES, Entity.SUBGROUPS)


def roster_for(tx: Tx, school_id: str, system: str) -> list[Record]:
    """The school's roster with each record's external id in ``system`` from the identity map."""
    out: list[Record] = []
    for entity in ROSTER:
        records = list(tx.records.iter(entity, school_id))
        ext = tx.identity.ext_of(system, entity, [r.id for r in records])
        for r in records:
            known = ext.get(r.id)
            if known is not None and r.ext_ids.get(system) != known:
                out.append(r.model_copy(update={"ext_ids": {**r.ext_ids, system: known}}))
            else:
                out.append(r)
    return out


def refresh_mapper(mapper: Mapper, tx: Tx, school_id: str) -> None:
    """Let a mapping that resolves names against the roster see the roster as it is now."""
    if isinstance(mapper, RosterMapper):
        mapper.refresh(roster_for(tx, school_id, mapper.system))
