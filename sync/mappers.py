"""The seam between the sync engine and a system's mapping profile.

A :class:`Mapper` turns one system's wire records into canonical records and back, and says which
canonical fields that system cannot carry (the planner keeps those from the store). Systems whose
mapping is a module with ``to_canonical(entity, wire, *, profile, school_id)`` and
``to_wire(record, *, profile, resolve_ext)`` functions (``mapping.es2``, ``mapping.asiou``) are
served by :class:`ModuleMapper`; a connector plugin may instead offer ``make_mapper(profile,
school_id, roster)`` on its class (О7 needs the roster to resolve names).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any, Protocol

from core.entities import Entity
from mapping.model import Record, Tombstone
from mapping.profile import Profile
from store import Tx

ResolveExt = Callable[[Entity, str], str | None]

#: fields the gateway owns whatever a system says
GATEWAY_FIELDS: Mapping[Entity, frozenset[str]] = {Entity.PERIODS: frozenset({"closed"})}


class Mapper(Protocol):
    system: str

    def to_canonical(
        self, entity: Entity | None, wire: Mapping[str, Any]
    ) -> Record | Tombstone: ...

    def to_wire(self, record: Record, resolve_ext: ResolveExt) -> dict[str, Any]: ...

    def kept_fields(self, entity: Entity) -> frozenset[str]: ...


ROSTER = (Entity.PERIODS, Entity.SUBJECTS, Entity.TEACHERS, Entity.CLASSES, Entity.SUBGROUPS)


def roster_for(tx: Tx, school_id: str, system: str) -> list[Record]:
    """The school's roster with each record's external id in ``system`` from the identity map."""
    out: list[Record] = []
    for entity in ROSTER:
        records = list(tx.iter_records(entity, school_id))
        ext = tx.ext_of(system, entity, [r.id for r in records])
        for r in records:
            known = ext.get(r.id)
            if known is not None and r.ext_ids.get(system) != known:
                out.append(r.model_copy(update={"ext_ids": {**r.ext_ids, system: known}}))
            else:
                out.append(r)
    return out


def refresh_mapper(mapper: Mapper, tx: Tx, school_id: str) -> None:
    """Let a mapper that resolves names against the roster see the roster as it is now."""
    refresh = getattr(mapper, "refresh", None)
    if refresh is not None:
        refresh(roster_for(tx, school_id, mapper.system))


class ModuleMapper:
    """A mapping module bound to a profile and a school."""

    def __init__(self, system: str, module: ModuleType, profile: Profile, school_id: str) -> None:
        self.system = system
        self._module = module
        self._profile = profile
        self._school_id = school_id
        uncarried = profile.settings.get("uncarried", {})
        self._uncarried: dict[str, frozenset[str]] = {
            str(k): frozenset(v) for k, v in dict(uncarried).items()
        }

    def to_canonical(self, entity: Entity | None, wire: Mapping[str, Any]) -> Record | Tombstone:
        out: Record | Tombstone = self._module.to_canonical(
            entity, wire, profile=self._profile, school_id=self._school_id
        )
        return out

    def to_wire(self, record: Record, resolve_ext: ResolveExt) -> dict[str, Any]:
        out: dict[str, Any] = self._module.to_wire(
            record, profile=self._profile, resolve_ext=resolve_ext
        )
        return out

    def kept_fields(self, entity: Entity) -> frozenset[str]:
        return GATEWAY_FIELDS.get(entity, frozenset()) | self._uncarried.get(
            entity.value, frozenset()
        )


def make_mapper(
    connector: object, system: str, profile: Profile, school_id: str, roster: Iterable[Record] = ()
) -> Mapper:
    factory = getattr(connector, "make_mapper", None)
    if factory is not None:
        mapper: Mapper = factory(profile, school_id, roster)
        return mapper
    module = importlib.import_module(f"mapping.{system}")
    return ModuleMapper(system, module, profile, school_id)
