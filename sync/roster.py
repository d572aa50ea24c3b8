"""The school's roster as a mapping that resolves names against it (О7) must see it."""

from __future__ import annotations

from core.entities import Entity
from mapping.mapper import Mapper, RosterMapper
from mapping.model import Record
from store import Tx

ROSTER = (Entity.PERIODS, Entity.SUBJECTS, Entity.TEACHERS, Entity.CLASSES, Entity.SUBGROUPS)


def roster_for(tx: Tx, school_id: str, system: str) -> list[Record]:
    """The school's roster, each record with its external ids from the identity map (a record
    read from the store carries them: see :mod:`store.records`)."""
    return [r for entity in ROSTER for r in tx.records.iter(entity, school_id)]


def refresh_mapper(mapper: Mapper, tx: Tx, school_id: str) -> None:
    """Let a mapping that resolves names against the roster see the roster as it is now."""
    if isinstance(mapper, RosterMapper):
        mapper.refresh(roster_for(tx, school_id, mapper.system))
