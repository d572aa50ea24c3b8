"""Resolving О7's names against the roster: teachers, subjects, subgroups and period codes (pure).

О7 names teachers by ``fio``, subjects by ``discipline`` and subgroups by ``discipline`` +
``group_name``; it gives no ids for them. A :class:`NameIndex` is built from canonical records —
the store's roster, a previous pull of another system's roster, or the О7 pull itself — and maps
normalised names to record ids (gateway ids, or external references still to resolve). A name
that matches nothing, or more than one record, is a :class:`RecordError` for the record that
uses it: it goes to review, never to a guess.

Where nothing in the roster matches, records О7 *is* the source of (its derived teachers,
subjects, subgroups, periods) get stable minted external ids made from the normalised name —
hashed, so that no personal data ends up in an identifier (see :func:`minted`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from core.entities import ext_ref
from core.errors import RecordError, SentToReview
from core.names import join_fio, name_key, normalise_name
from mapping.model import Period, SchoolClass, Subgroup, Subject, Teacher

SYSTEM = "o7"
_ORDINAL_SUFFIX = {"quarter": "ч", "half": "п"}


def minted(kind: str, *parts: str) -> str:
    """A stable О7 external id for a record О7 names but gives no id: ``teacher:<hash>``."""
    return ":".join((kind, *parts))


def teacher_ext(fio: str) -> str:
    return minted("teacher", name_key(fio))


def subject_ext(name: str) -> str:
    return minted("subject", name_key(name))


def subgroup_ext(class_guid: str, discipline: str, group: str) -> str:
    return minted("subgroup", class_guid, name_key(discipline), name_key(group))


def period_ext(code: str) -> str:
    return minted("period", code)


def period_codes(periods: Iterable[Period]) -> dict[str, str]:
    """О7 subperiod codes of canonical periods: quarters ``1ч``…, halves ``1п``…, the year ``год``."""
    out: dict[str, str] = {}
    by_kind: dict[str, list[Period]] = {}
    for p in periods:
        by_kind.setdefault(p.kind, []).append(p)
    for kind, items in by_kind.items():
        items.sort(key=lambda p: p.start)
        if kind == "year":
            out["год"] = items[0].id
            continue
        for n, p in enumerate(items, start=1):
            out[f"{n}{_ORDINAL_SUFFIX[kind]}"] = p.id
    return out


def _many(pairs: Iterable[tuple[object, str]]) -> dict[object, tuple[str, ...]]:
    out: dict[object, list[str]] = {}
    for key, value in pairs:
        if value not in out.setdefault(key, []):
            out[key].append(value)
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class NameIndex:
    """Normalised names → record ids. A pure value: build it, pass it to the mapping."""

    teachers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    subjects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: (class reference "o7:<guid>" or id, normalised subject, normalised group name) → ids
    subgroups: Mapping[tuple[str, str, str], tuple[str, ...]] = field(default_factory=dict)
    #: subperiod code → period id
    periods: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_roster(
        cls,
        *,
        teachers: Iterable[Teacher] = (),
        subjects: Iterable[Subject] = (),
        subgroups: Iterable[Subgroup] = (),
        classes: Iterable[SchoolClass] = (),
        periods: Iterable[Period] = (),
    ) -> NameIndex:
        subjects = list(subjects)
        subject_names = {s.id: normalise_name(s.name) for s in subjects}
        class_refs = {
            c.id: ext_ref(SYSTEM, c.ext_ids[SYSTEM]) for c in classes if SYSTEM in c.ext_ids
        }
        groups = []
        for g in subgroups:
            subject = subject_names.get(g.subject_id)
            if subject is not None:
                key = (class_refs.get(g.class_id, g.class_id), subject, normalise_name(g.name))
                groups.append((key, g.id))
        return cls(
            teachers=_many(  # type: ignore[arg-type]
                (normalise_name(join_fio(t.last_name, t.first_name, t.middle_name)), t.id)
                for t in teachers
            ),
            subjects=_many((normalise_name(s.name), s.id) for s in subjects),  # type: ignore[arg-type]
            subgroups=_many(groups),  # type: ignore[arg-type]
            periods=period_codes(periods),
        )

    # -- lookups: ``find_*`` → id | None (raising when ambiguous); ``*`` → id or RecordError -------

    @staticmethod
    def _one(
        found: tuple[str, ...], what: str, entity: str, record_id: str, fld: str
    ) -> str | None:
        if len(found) > 1:
            if what == "teacher":  # people that cannot be told apart: a person decides
                raise SentToReview(
                    f"{len(found)} teachers share this name",
                    entity=entity,
                    record_id=record_id,
                    candidates=tuple(sorted(found)),
                    field=fld,
                    system=SYSTEM,
                )
            raise RecordError(
                f"ambiguous {what} name: {len(found)} candidates",
                entity=entity,
                record_id=record_id,
                field=fld,
                system=SYSTEM,
            )
        return found[0] if found else None

    def find_teacher(self, fio: str, *, entity: str, record_id: str, field: str) -> str | None:
        found = self.teachers.get(normalise_name(fio), ())
        return self._one(found, "teacher", entity, record_id, field)

    def find_subject(self, name: str, *, entity: str, record_id: str, field: str) -> str | None:
        found = self.subjects.get(normalise_name(name), ())
        return self._one(found, "subject", entity, record_id, field)

    def find_subgroup(
        self,
        class_ref: str,
        discipline: str,
        group: str,
        *,
        entity: str,
        record_id: str,
        field: str,
    ) -> str | None:
        key = (class_ref, normalise_name(discipline), normalise_name(group))
        return self._one(self.subgroups.get(key, ()), "subgroup", entity, record_id, field)

    def _need(self, found: str | None, what: str, entity: str, record_id: str, fld: str) -> str:
        if found is None:
            raise RecordError(
                f"unknown {what}", entity=entity, record_id=record_id, field=fld, system=SYSTEM
            )
        return found

    def teacher(self, fio: str, *, entity: str, record_id: str, field: str) -> str:
        found = self.find_teacher(fio, entity=entity, record_id=record_id, field=field)
        return self._need(found, "teacher name", entity, record_id, field)

    def subject(self, name: str, *, entity: str, record_id: str, field: str) -> str:
        found = self.find_subject(name, entity=entity, record_id=record_id, field=field)
        return self._need(found, "subject", entity, record_id, field)

    def subgroup(
        self,
        class_ref: str,
        discipline: str,
        group: str,
        *,
        entity: str,
        record_id: str,
        field: str,
    ) -> str:
        found = self.find_subgroup(
            class_ref, discipline, group, entity=entity, record_id=record_id, field=field
        )
        return self._need(found, "subgroup", entity, record_id, field)
