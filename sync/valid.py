"""Records the canonical model accepts, and only those.

A record made with ``model_copy(update=…)`` is not validated (pydantic's choice, kept for the
engine's hot path): a mark ``7`` or a malformed СНИЛС passes through it. Whatever comes from
outside the engine — the local journal's writes — is validated again here, and a record the store
holds that no longer validates (stored before this check, or by hand) is named with its reason
instead of ending the run that meets it.

Reasons name the field and the rule, never the value: pydantic's own messages echo the input,
and for a pupil that is personal data.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from core.entities import Entity
from core.errors import RecordError
from mapping.model import MODELS, Record
from store import Tx


def reason_of(exc: ValidationError) -> tuple[str | None, str]:
    """The first bad field and why, without the value."""
    first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    loc = ".".join(str(p) for p in first["loc"]) or None
    return loc, str(first["msg"]).removeprefix("Value error, ")


def revalidate(record: Record) -> Record:
    """``record`` built again through the canonical model, or a :class:`RecordError` naming the
    record, the field and the reason."""
    model = MODELS.get(getattr(record, "entity", None))  # type: ignore[arg-type]
    if model is None or type(record) is not model:
        raise RecordError(
            "not a canonical record", entity=str(getattr(record, "entity", "?")), record_id=None
        )
    values = {name: getattr(record, name) for name in model.model_fields}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        field, reason = reason_of(exc)
        raise RecordError(
            reason, entity=model.entity.value, record_id=record.id, field=field
        ) from None


def read_valid(
    tx: Tx, entity: Entity, ids: Iterable[str], *, include_deleted: bool = False
) -> tuple[dict[str, Record], dict[str, RecordError]]:
    """The stored records among ``ids`` that validate, and for each one that does not, why.

    One read for all of them; only when one fails are they read one at a time to tell which."""
    wanted = list(dict.fromkeys(ids))
    try:
        return tx.records.get(entity, wanted, include_deleted=include_deleted), {}
    except ValidationError:
        pass
    good: dict[str, Record] = {}
    bad: dict[str, RecordError] = {}
    for rid in wanted:
        try:
            good.update(tx.records.get(entity, [rid], include_deleted=include_deleted))
        except ValidationError as exc:
            field, reason = reason_of(exc)
            bad[rid] = RecordError(
                f"the stored record fails validation: {reason}",
                entity=entity.value,
                record_id=rid,
                field=field,
            )
    return good, bad
