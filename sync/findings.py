"""Rows for the conflict queue, built in one place: what a deputy director or administrator
must see about a record — a held conflict, a recorded change (corrected, deleted, late mark), a
refused record or a push the system refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.entities import Entity
from core.errors import GatewayError, MissingReference, RecordError
from core.redact import redact_text
from mapping.model import PERSONAL_FIELDS, Record
from store import NewFinding
from sync.plan import Decision, Op
from sync.rules import Finding

INVALID_RECORD = "invalid_record"
INVALID_FIELD = "invalid_field"
LOOKALIKE = "lookalike_letters"
WAITING = "waiting_reference"
QUARANTINED = "quarantined"
PUSH_REJECTED = "push_rejected"


def _content(rec: Record | None) -> dict[str, Any] | None:
    return None if rec is None else rec.content()


def of_decision(
    school_id: str, system: str, entity: Entity, d: Decision, f: Finding, policy: str | None
) -> NewFinding:
    """A rule's or a policy's finding on one planned decision: ``open`` when it holds the change,
    ``rejected`` when it refuses the record, else ``noted`` (applied, and recorded)."""
    status = {Op.CONFLICT: "open", Op.REJECT: "rejected"}.get(d.op, "noted")
    return NewFinding(
        school_id=school_id,
        system=system,
        entity=entity.value,
        record_id=d.record_id,
        kind=f.kind,
        status=status,
        field=f.field,
        detail=f.detail,
        policy=policy,
        base=_content(d.base),
        incoming=_content(d.incoming),
        current=_content(d.current),
    )


def refused(
    school_id: str, system: str, entity: Entity, rejected: Sequence[tuple[str, RecordError]]
) -> list[NewFinding]:
    """Records refused on the way in (mapping, validation, identity), named by their external
    id: the field, the rule it broke (``detail``) and — when the field is not personal — the
    value refused (``incoming``), for the person who corrects it at the source."""
    return [
        NewFinding(
            school_id=school_id,
            system=system,
            entity=entity.value,
            record_id=f"{system}:{ext}",
            kind=INVALID_RECORD,
            status="rejected",
            field=exc.field,
            detail=redact_text(exc.reason),
            incoming=_refused_value(exc),
        )
        for ext, exc in rejected
    ]


def _refused_value(exc: RecordError) -> dict[str, Any] | None:
    value = getattr(exc, "value", None)
    if value is None or not exc.field or exc.field in PERSONAL_FIELDS:
        return None
    return {exc.field: redact_text(str(value))}


def push_refused(
    school_id: str, system: str, entity: Entity, record_id: str, error: str, current: Record | None
) -> NewFinding:
    """A push the system refused."""
    return NewFinding(
        school_id=school_id,
        system=system,
        entity=entity.value,
        record_id=record_id,
        kind=PUSH_REJECTED,
        status="rejected",
        detail=error,
        current=_content(current),
    )


def dropped_fields(
    school_id: str, system: str, entity: Entity, records: Sequence[Record]
) -> list[NewFinding]:
    """Optional fields received invalid and stored empty (:class:`mapping.notes.FieldNote`),
    one ``noted`` finding each: the record, the field, the reason, and the value received
    unless it is personal data — for the person who corrects it at the source."""
    return [
        NewFinding(
            school_id=school_id,
            system=system,
            entity=entity.value,
            record_id=r.id,
            kind=LOOKALIKE if note.corrected else INVALID_FIELD,
            status="noted",
            field=note.field,
            detail=f"stored corrected: {note.reason}; correct it at the source"
            if note.corrected
            else f"stored empty: {note.reason}",
            incoming=None if note.value is None else {note.field: note.value},
        )
        for r in records
        for note in r.field_notes
    ]


def waiting(
    school_id: str, system: str, entity: Entity, items: Sequence[tuple[Record, MissingReference]]
) -> list[NewFinding]:
    """Records that refer to one the gateway does not have yet: they wait on the queue (the
    whole record kept, to be applied by the run in which what they refer to arrives)."""
    return [
        NewFinding(
            school_id=school_id,
            system=system,
            entity=entity.value,
            record_id=rec.id,
            kind=WAITING,
            status="waiting",
            field=exc.field,
            detail=exc.reason,
            incoming=rec.model_dump(mode="json"),
        )
        for rec, exc in items
    ]


def quarantined(
    school_id: str, system: str, entity: Entity, record_id: str, exc: Exception
) -> NewFinding:
    """A record that could not be applied for a reason nobody foresaw: set aside with the kind
    of failure (never the message of an unknown exception, which may hold the record's data)."""
    safe = isinstance(exc, GatewayError)
    return NewFinding(
        school_id=school_id,
        system=system,
        entity=entity.value,
        record_id=record_id,
        kind=QUARANTINED,
        status="rejected",
        detail=f"could not be applied ({type(exc).__name__})" + (f": {exc}" if safe else ""),
    )
