"""The access log of personal data: every read of a person's record through the API, by token
and record id (never by content), written before the answer leaves the server."""

from __future__ import annotations

from collections.abc import Sequence

from api.auth import Principal
from api.visibility import fields_read
from store import Access, Store
from store.types import utcnow


def log_people(
    store: Store,
    principal: Principal,
    people: Sequence[tuple[str, str, str]],
    route: str,
    personal: bool,
) -> None:
    """Record that ``principal`` read these (school, entity, id) records."""
    now = utcnow()
    rows = [
        Access(
            token_id=principal.token.id,
            school_id=school,
            entity=entity,
            record_id=rid,
            fields=fields_read(entity, personal=personal),
            route=route,
            at=now,
        )
        for school, entity, rid in people
    ]
    with store.begin() as tx:
        tx.access_log.record(rows)
