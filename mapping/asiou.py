"""АСИОУ wire ⇄ canonical, driven by the profile ``mapping/profiles/asiou.toml``.

The profile names, per entity, each canonical field's wire attribute and how its value reads
(``text``, ``int``, ``date``, ``time``, ``parallels``, ``mark``, ``members``, ``ref:<entity>``,
``code:<table>``); this module only knows how to read and write each *type*. Empty attributes
mean "no value". Times carry their offset and become aware UTC; ids and references become
:func:`~mapping.model.ext_ref` ``"asiou:<Ид>"`` references for :mod:`mapping.identity`.

Errors are :class:`~core.errors.RecordError` naming the entity, the ``Ид`` and the field —
never a value (the values are people's names and birth dates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.entities import Entity, ext_ref, split_ext_ref
from core.errors import RecordError
from mapping.model import MODELS, Record, Tombstone
from mapping.notes import FieldNote
from mapping.profile import Profile, load_profile
from mapping.validation import build, dropped, optional

SYSTEM = "asiou"
ELEMENT_KEY = "_element"

#: ``resolve_ext(entity, gateway id)`` → the record's АСИОУ ``Ид`` (``None``: not known there)
ResolveExt = Callable[[Entity, str], str | None]

_profile: Profile | None = None
#: profile types read as the text they are
_TEXT_KINDS = ("text", "mark")
#: what :func:`~core.entities.ext_ref` puts before an АСИОУ ``Ид``
_REF_PREFIX = ext_ref(SYSTEM, "")


def default_profile() -> Profile:
    global _profile  # noqa: PLW0603 - a cache of the shipped file
    if _profile is None:
        _profile = load_profile(SYSTEM)
    return _profile


def _fields(profile: Profile, entity: Entity) -> Mapping[str, Mapping[str, str]]:
    table: Mapping[str, Mapping[str, str]] = profile.settings.get("fields", {}).get(
        entity.value, {}
    )
    return table


def entity_of(wire: Mapping[str, Any], profile: Profile | None = None) -> Entity:
    """The entity of a wire record, from its ``_element``."""
    elements: Mapping[str, str] = (profile or default_profile()).settings.get("elements", {})
    name = elements.get(str(wire.get(ELEMENT_KEY)))
    if name is None:
        raise RecordError("not a record element of the profile", entity="unknown", system=SYSTEM)
    return Entity(name)


def parse_parallels(text: str) -> tuple[int, ...]:
    """``"2-9"`` → 2..9; ``"2-4,10,11"`` → (2, 3, 4, 10, 11)."""
    out: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError("parallels must read like 2-9 or 10,11")
        out.extend(range(int(lo), int(hi) + 1) if sep else (int(lo),))
    return tuple(sorted(set(out)))


def format_parallels(values: Iterable[int]) -> str:
    """(2, 3, 4, 10, 11) → ``"2-4,10-11"``."""
    nums = sorted(set(values))
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ",".join(parts)


def parse_time(text: str, tz: dt.tzinfo) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(dt.UTC)


def _members(raw: Any) -> tuple[str, ...]:
    return tuple(ext_ref(SYSTEM, m) for m in raw or () if m)


def _text(text: str) -> str:
    return text


def _int(text: str) -> int:
    if not text.lstrip("-").isdigit():
        raise ValueError("not a whole number")
    return int(text)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO date (YYYY-MM-DD)") from None


def _reader(kind: str, profile: Profile) -> Callable[[str], Any]:
    """How a non-empty wire value (as text) of profile type ``kind`` reads: a function raising
    ValueError for a bad value. Chosen once per field, not per value."""
    if kind in _TEXT_KINDS:
        return _text
    if kind == "int":
        return _int
    if kind == "date":
        return _date
    if kind == "time":
        tz = profile.timezone

        def read_time(text: str) -> dt.datetime:
            try:
                return parse_time(text, tz)
            except ValueError:
                raise ValueError("not an ISO time with offset") from None

        return read_time
    if kind == "parallels":
        return parse_parallels
    if kind.startswith("ref:"):
        return lambda text: _REF_PREFIX + text
    if kind.startswith("code:"):
        name = kind[5:]

        def read_code(text: str) -> str:
            code = profile.code(name, text)  # a table the profile lacks: its ConfigError
            if code is None:
                raise ValueError(f"not a code of table {name}")
            return code

        return read_code

    def unknown(text: str) -> Any:
        raise ValueError(f"profile type {kind!r} is unknown")

    return unknown


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    attr: str
    #: reads a non-empty value; ``None``: the members list (empties handled by itself)
    read: Callable[[str], Any] | None
    optional: bool


@dataclass(frozen=True, slots=True)
class _EntityPlan:
    """What reading one entity's wire records takes, worked out once per profile."""

    model: type[Record]
    #: (field, attribute) of text fields (``text``, ``mark``), taken as they are
    texts: tuple[tuple[str, str], ...]
    #: (field, attribute) of references, made external references (``"asiou:<Ид>"``)
    refs: tuple[tuple[str, str], ...]
    #: the other fields, each with its reader
    fields: tuple[_Field, ...]
    id_attr: str
    deleted_attr: str


#: id(profile) → (the profile, kept so its id is not reused; its plans per entity)
_PLANS: dict[int, tuple[Profile, dict[Entity, _EntityPlan]]] = {}


def _plan(profile: Profile, entity: Entity) -> _EntityPlan:
    last = _LAST[0]
    if last is not None and last[0] is profile and last[1] is entity:
        return last[2]  # a page is one entity's: the plan of the record before
    plan = _plan_of(profile, entity)
    _LAST[0] = (profile, entity, plan)
    return plan


#: the plan used last, with its profile and entity
_LAST: list[tuple[Profile, Entity, _EntityPlan] | None] = [None]


def _plan_of(profile: Profile, entity: Entity) -> _EntityPlan:
    held = _PLANS.get(id(profile))
    if held is None or held[0] is not profile:
        if len(_PLANS) > 64:
            _PLANS.clear()
        held = _PLANS[id(profile)] = (profile, {})
    plans = held[1]
    plan = plans.get(entity)
    if plan is None:
        model = MODELS[entity]
        spec = _fields(profile, entity)
        kinds = {name: how["type"] for name, how in spec.items()}
        plan = plans[entity] = _EntityPlan(
            model=model,
            texts=tuple(
                (name, how["attr"]) for name, how in spec.items() if how["type"] in _TEXT_KINDS
            ),
            refs=tuple(
                (name, how["attr"]) for name, how in spec.items() if how["type"].startswith("ref:")
            ),
            fields=tuple(
                _Field(
                    name,
                    how["attr"],
                    None if how["type"] == "members" else _reader(how["type"], profile),
                    optional(model, name),
                )
                for name, how in spec.items()
                if kinds[name] not in _TEXT_KINDS and not kinds[name].startswith("ref:")
            ),
            id_attr=str(profile.settings.get("id_attribute", "Ид")),
            deleted_attr=str(profile.settings.get("deleted_attribute", "Удалена")),
        )
    return plan


def to_canonical(
    entity: Entity | None,
    wire: Mapping[str, Any],
    *,
    profile: Profile | None = None,
    school_id: str,
) -> Record | Tombstone:
    """The canonical record (or tombstone) for one wire record of ``entity``."""
    profile = profile or default_profile()
    entity = entity or entity_of(wire, profile)
    plan = _plan(profile, entity)
    get = wire.get
    rid = get(plan.id_attr)
    if not rid:
        raise RecordError("record has no Ид", entity=entity, system=SYSTEM)
    fields: dict[str, Any] = {}
    notes: list[FieldNote] = []
    for name, attr in plan.texts:  # cannot fail
        raw = get(attr)
        if raw is not None and raw != "":
            fields[name] = raw if type(raw) is str else str(raw)
    for name, attr in plan.refs:  # cannot fail
        raw = get(attr)
        if raw is not None and raw != "":
            fields[name] = _REF_PREFIX + (raw if type(raw) is str else str(raw))
    for f in plan.fields:
        raw = get(f.attr)
        if f.read is None:
            fields[f.name] = _members(raw)
            continue
        if raw is None or raw == "":
            continue
        try:
            fields[f.name] = f.read(raw if type(raw) is str else str(raw))
        except ValueError as exc:
            if not f.optional:
                raise RecordError(
                    str(exc), entity=entity, record_id=str(rid), field=f.name, system=SYSTEM
                ) from None
            notes.append(dropped(f.name, str(exc), raw))
    own = ext_ref(SYSTEM, rid)
    if get(plan.deleted_attr) == "1":
        return Tombstone(
            entity=entity, id=own, school_id=school_id, modified_at=fields.get("modified_at")
        )
    fields.update(id=own, school_id=school_id, ext_ids={SYSTEM: str(rid)})
    record: Record = build(plan.model, fields, system=SYSTEM, record_id=rid, notes=notes)
    return record


def _write(
    kind: str, value: Any, entity: Entity, field: str, *, resolve_ext: ResolveExt, profile: Profile
) -> Any:
    if kind == "members":
        return [_ref(Entity.PUPILS, v, entity, field, resolve_ext) for v in value]
    if value is None:
        return ""
    if kind == "date":
        return value.isoformat()
    if kind == "time":
        return value.astimezone(profile.timezone).isoformat(timespec="seconds")
    if kind == "parallels":
        return format_parallels(value)
    if kind.startswith("ref:"):
        return _ref(Entity(kind[4:]), value, entity, field, resolve_ext)
    if kind.startswith("code:"):
        code = profile.reverse(kind[5:]).get(str(value))
        if code is None:
            raise RecordError(
                f"no wire code in table {kind[5:]}", entity=entity, field=field, system=SYSTEM
            )
        return code
    return str(value)


def _ref(target: Entity, value: str, entity: Entity, field: str, resolve_ext: ResolveExt) -> str:
    parts = split_ext_ref(value)
    if parts is not None and parts[0] == SYSTEM:
        return parts[1]
    ext = resolve_ext(target, value)
    if ext is None:
        raise RecordError(
            f"refers to a {target} that АСИОУ does not know",
            entity=entity,
            field=field,
            system=SYSTEM,
        )
    return ext


def to_wire(
    record: Record,
    *,
    profile: Profile | None = None,
    resolve_ext: ResolveExt,
) -> dict[str, Any]:
    """The wire attributes of ``record`` for an import package (no ``Ид``/``ВнешнийИд``: the
    connector adds those from the push item; no change time: АСИОУ sets its own)."""
    profile = profile or default_profile()
    out: dict[str, Any] = {}
    for name, how in _fields(profile, record.entity).items():
        if how["type"] == "time":
            continue
        try:
            out[how["attr"]] = _write(
                how["type"],
                getattr(record, name),
                record.entity,
                name,
                resolve_ext=resolve_ext,
                profile=profile,
            )
        except RecordError as exc:
            raise RecordError(
                exc.reason, entity=record.entity, record_id=record.id, field=name, system=SYSTEM
            ) from None
    return out
