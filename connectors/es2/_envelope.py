"""The ES2 response envelope: ``{"success", "data", "next_cursor", "revision", "error_type", "error"}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from connectors.transport import parse_json

ERROR_TYPES = frozenset({"auth", "validation", "not_found", "busy", "internal", "cursor_expired"})


@dataclass(frozen=True, slots=True)
class Envelope:
    success: bool
    data: Any
    next_cursor: str | None = None
    revision: int | None = None
    error_type: str | None = None
    error: str | None = None


def parse_envelope(response: httpx.Response) -> Envelope | None:
    """The envelope of ``response``, or ``None`` when the body is not one (HTML, garbage).

    :class:`~connectors.transport.TooDeep` when the body nests deeper than the bound.
    """
    try:
        body = parse_json(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
        return None
    cursor = body.get("next_cursor")
    revision = body.get("revision")
    error_type = body.get("error_type")
    error = body.get("error")
    return Envelope(
        success=body["success"],
        data=body.get("data"),
        next_cursor=cursor if isinstance(cursor, str) and cursor else None,
        revision=revision if isinstance(revision, int) and not isinstance(revision, bool) else None,
        error_type=error_type if isinstance(error_type, str) else None,
        error=error if isinstance(error, str) else None,
    )
