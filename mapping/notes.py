"""Notes a mapping leaves on a record it kept: an optional field whose received value was
invalid, stored empty instead of costing the record (DESIGN decision 16)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldNote:
    """``field`` was received invalid (``reason``) and stored empty. ``value`` is what was
    received, or ``None`` for personal data, which never leaves the records table."""

    field: str
    reason: str
    value: str | None = None
