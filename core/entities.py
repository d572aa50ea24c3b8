"""Entity names and external references: the vocabulary every layer shares."""

from __future__ import annotations

import enum


class Entity(enum.StrEnum):
    """Entity names, as used by connectors, the store, the configuration and the CLI."""

    SCHOOLS = "schools"
    YEARS = "years"
    PERIODS = "periods"
    SUBJECTS = "subjects"
    TEACHERS = "teachers"
    CLASSES = "classes"
    PUPILS = "pupils"
    ENROLMENTS = "enrolments"
    SUBGROUPS = "subgroups"
    LESSONS = "lessons"
    MARKS = "marks"
    FINAL_MARKS = "final_marks"
    ATTENDANCE = "attendance"


#: The order in which entities must be pulled so that references resolve.
PULL_ORDER: tuple[Entity, ...] = (
    Entity.PERIODS,
    Entity.SUBJECTS,
    Entity.TEACHERS,
    Entity.CLASSES,
    Entity.PUPILS,
    Entity.SUBGROUPS,
    Entity.LESSONS,
    Entity.MARKS,
    Entity.FINAL_MARKS,
    Entity.ATTENDANCE,
)

_EXT_SEP = ":"


def ext_ref(system: str, external_id: object) -> str:
    """An unresolved reference to a record by its id in ``system``."""
    return f"{system}{_EXT_SEP}{external_id}"


def split_ext_ref(ref: str) -> tuple[str, str] | None:
    """``("es2", "55001")`` for ``"es2:55001"``; ``None`` for a gateway id."""
    system, sep, ext = ref.partition(_EXT_SEP)
    return (system, ext) if sep else None


__all__ = ["PULL_ORDER", "Entity", "ext_ref", "split_ext_ref"]
