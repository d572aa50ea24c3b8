"""Identity resolution rewrites external references to gateway ids, or names what is missing."""

from __future__ import annotations

import datetime as dt

import pytest

from core.entities import Entity, ext_ref
from core.errors import RecordError
from mapping.identity import resolve
from mapping.model import Lesson, Subgroup

KNOWN = {
    ("es2", Entity.CLASSES, "1017"): "gC",
    ("es2", Entity.SUBJECTS, "7"): "gS",
    ("es2", Entity.TEACHERS, "302"): "gT",
    ("es2", Entity.PUPILS, "55001"): "gP1",
    ("es2", Entity.PUPILS, "55007"): "gP7",
}


def lookup(system: str, entity: Entity, ext: str) -> str | None:
    return KNOWN.get((system, entity, ext))


def lesson(**kw: object) -> Lesson:
    fields = {
        "id": ext_ref("es2", 900001),
        "school_id": "s",
        "class_id": ext_ref("es2", 1017),
        "subject_id": ext_ref("es2", 7),
        "teacher_id": ext_ref("es2", 302),
        "date": dt.date(2025, 10, 14),
        "number": 3,
    } | kw
    return Lesson(**fields)  # type: ignore[arg-type]


def test_resolves_own_id_by_minting_and_references_by_lookup() -> None:
    minted: list[tuple[str, Entity, str]] = []

    def mint(system: str, entity: Entity, ext: str) -> str:
        minted.append((system, entity, ext))
        return "gL"

    out = resolve(lesson(), lookup, mint)
    assert (out.id, out.class_id, out.subject_id, out.teacher_id) == ("gL", "gC", "gS", "gT")
    assert out.substitute_teacher_id is None
    assert minted == [("es2", Entity.LESSONS, "900001")]


def test_unknown_reference_names_record_and_field() -> None:
    # (a substitute teacher is a soft reference since part A: dropped with a note; a subject is not)
    with pytest.raises(RecordError) as info:
        resolve(lesson(subject_id=ext_ref("es2", 999)), lookup, lambda *a: "gL")
    assert info.value.field == "subject_id"
    assert "es2:999" in str(info.value)


def test_unknown_own_id_without_mint_is_an_error() -> None:
    with pytest.raises(RecordError, match="not known"):
        resolve(lesson(), lookup)


def test_gateway_ids_pass_through_and_members_resolve_sorted() -> None:
    sg = Subgroup(
        id="gG",
        school_id="s",
        class_id="gC",
        subject_id=ext_ref("es2", 7),
        name="1 подгр.",
        member_ids=(ext_ref("es2", 55007), ext_ref("es2", 55001)),
    )
    out = resolve(sg, lookup)
    assert out.id == "gG" and out.subject_id == "gS"
    assert out.member_ids == ("gP1", "gP7")
