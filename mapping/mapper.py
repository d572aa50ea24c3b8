"""The seam between the sync engine and one system's mapping.

A :class:`Mapper` turns one system's wire records into canonical records and back, and says which
canonical fields that system cannot carry (the planner keeps those from the store). A mapping
written as two functions — ``to_canonical(entity, wire, *, profile, school_id)`` and
``to_wire(record, *, profile, resolve_ext)`` (``mapping.es2``, ``mapping.asiou``) — is bound to
its profile and school by :class:`FunctionMapper`; a mapping that resolves names against the
roster (О7) is a class of its own with a ``refresh(roster)`` method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from core.entities import Entity
from mapping.model import Record, Tombstone
from mapping.profile import Profile

#: ``resolve_ext(entity, gateway id)`` → the record's id in the system (``None``: unknown there)
ResolveExt = Callable[[Entity, str], str | None]
ToCanonical = Callable[..., Record | Tombstone]
ToWire = Callable[..., dict[str, Any]]


class Mapper(Protocol):
    system: str

    def to_canonical(
        self, entity: Entity | None, wire: Mapping[str, Any]
    ) -> Record | Tombstone: ...

    def to_wire(self, record: Record, resolve_ext: ResolveExt) -> dict[str, Any]: ...

    def uncarried(self, entity: Entity) -> frozenset[str]:
        """Canonical fields of ``entity`` this system does not carry."""
        ...


@runtime_checkable
class RosterMapper(Mapper, Protocol):
    """A mapping that resolves names against the school's roster: told when the roster changes."""

    def refresh(self, roster: Iterable[Record]) -> None: ...


def uncarried_fields(profile: Profile) -> dict[str, frozenset[str]]:
    """The profile's ``[uncarried]`` table: entity → fields the system does not carry."""
    table = profile.settings.get("uncarried", {})
    return {str(k): frozenset(v) for k, v in dict(table).items()}


class FunctionMapper:
    """A mapping module's two functions bound to a profile and a school."""

    def __init__(
        self,
        system: str,
        profile: Profile,
        school_id: str,
        *,
        to_canonical: ToCanonical,
        to_wire: ToWire,
    ) -> None:
        self.system = system
        self._profile = profile
        self._school_id = school_id
        self._to_canonical = to_canonical
        self._to_wire = to_wire
        self._uncarried = uncarried_fields(profile)

    def to_canonical(self, entity: Entity | None, wire: Mapping[str, Any]) -> Record | Tombstone:
        return self._to_canonical(entity, wire, profile=self._profile, school_id=self._school_id)

    def to_wire(self, record: Record, resolve_ext: ResolveExt) -> dict[str, Any]:
        return self._to_wire(record, profile=self._profile, resolve_ext=resolve_ext)

    def uncarried(self, entity: Entity) -> frozenset[str]:
        return self._uncarried.get(entity.value, frozenset())
