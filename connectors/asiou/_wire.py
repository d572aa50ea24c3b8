"""The АСИОУ package wire: record elements, their containers, the integrity element.

A *record element* is one of :data:`RECORD_ELEMENTS`; ``<Итог Записей>`` counts exactly these
(``<Учебныйгод>`` and the ``<Член>`` children of a ``<Подгруппа>`` are parts of the package or of
a record, not records). A wire record is the element's attribute map with two keys added:
``_element`` (the element name) and, for a subgroup, ``Члены`` (the member pupil ids); a class also
carries the package's ``Учебныйгод`` code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from core.entities import PULL_ORDER, Entity
from core.errors import ConfigError

ENCODING = "windows-1251"
ELEMENT_KEY = "_element"
ID = "Ид"
EXTERNAL_ID = "ВнешнийИд"
DELETED = "Удалена"
MEMBERS = "Члены"
MEMBER = "Член"
MEMBER_PUPIL = "Учащийся"
YEAR_ELEMENT = "Учебныйгод"
YEAR_KEY = "Учебныйгод"
ROOT = "Пакет"
TOTAL = "Итог"
TOTAL_COUNT = "Записей"

#: record element → entity
RECORD_ELEMENTS: dict[str, Entity] = {
    "Период": Entity.PERIODS,
    "Предмет": Entity.SUBJECTS,
    "Сотрудник": Entity.TEACHERS,
    "Класс": Entity.CLASSES,
    "Подгруппа": Entity.SUBGROUPS,
    "Учащийся": Entity.PUPILS,
    "Урок": Entity.LESSONS,
    "Отметка": Entity.MARKS,
    "ИтоговаяОтметка": Entity.FINAL_MARKS,
    "Пропуск": Entity.ATTENDANCE,
}
#: entity → record element
ELEMENT_OF: dict[Entity, str] = {e: name for name, e in RECORD_ELEMENTS.items()}
#: entity → container element
CONTAINERS: dict[Entity, str] = {
    Entity.PERIODS: "Периоды",
    Entity.SUBJECTS: "Предметы",
    Entity.TEACHERS: "Сотрудники",
    Entity.CLASSES: "Классы",
    Entity.SUBGROUPS: "Подгруппы",
    Entity.PUPILS: "Учащиеся",
    Entity.LESSONS: "Уроки",
    Entity.MARKS: "Отметки",
    Entity.FINAL_MARKS: "ИтоговыеОтметки",
    Entity.ATTENDANCE: "Пропуски",
}
#: the entities an export package carries, in package order
PACKAGE_ENTITIES: tuple[Entity, ...] = tuple(e for e in PULL_ORDER if e in ELEMENT_OF)
#: the entities an import package may carry
PUSH_ENTITIES: frozenset[Entity] = frozenset(
    {Entity.MARKS, Entity.FINAL_MARKS, Entity.ATTENDANCE, Entity.LESSONS, Entity.PUPILS}
)
#: entities whose export marks deletions with ``Удалена="1"``
DELETABLE: frozenset[Entity] = frozenset({Entity.MARKS, Entity.FINAL_MARKS, Entity.ATTENDANCE})


@dataclass(frozen=True)
class WireNames:
    """The names a package uses for records, their containers, ids and deletions.

    The defaults are the modelled contract; a deployment whose АСИОУ names them otherwise renames
    them in its profile (``[elements]``, ``[containers]``, ``id_attribute``,
    ``deleted_attribute``), which the mapping reads too. Several element names may stand for one
    entity (an old and a new name): the parser takes each, a push writes the last one listed.
    """

    record_elements: Mapping[str, Entity]
    containers: Mapping[Entity, str]
    id_attr: str = ID
    deleted_attr: str = DELETED

    @cached_property
    def element_of(self) -> dict[Entity, str]:
        """Entity → the element a push writes (made once: a package asks for every record)."""
        return {entity: name for name, entity in self.record_elements.items()}

    @classmethod
    def from_profile(cls, settings: Mapping[str, Any]) -> WireNames:
        elements = {
            str(name): _entity(value, f"element {name!r}", "elements")
            for name, value in dict(settings.get("elements") or RECORD_ELEMENTS).items()
        }
        containers = dict(CONTAINERS)
        for key, name in dict(settings.get("containers") or {}).items():
            containers[_entity(key, "a container", "containers")] = str(name)
        return cls(
            record_elements=elements,
            containers=containers,
            id_attr=str(settings.get("id_attribute") or ID),
            deleted_attr=str(settings.get("deleted_attribute") or DELETED),
        )


def _entity(value: object, what: str, table: str) -> Entity:
    try:
        return Entity(str(value))
    except ValueError:
        raise ConfigError(
            f"profile {what} names no entity ({value!r})", key=f"asiou.{table}"
        ) from None


#: the modelled contract's names
CONTRACT_NAMES = WireNames(RECORD_ELEMENTS, CONTAINERS)
