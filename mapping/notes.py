"""Notes a mapping leaves on a record it kept: an optional field whose received value was
invalid, stored empty instead of costing the record (DESIGN decision 16), or a value stored
corrected that the source should correct too."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldNote:
    """``field`` was received invalid (``reason``) and stored empty — or, for a ``corrected``
    note, stored corrected (Latin look-alike letters in a Russian name). ``value`` is what was
    received, or ``None`` for personal data, which never leaves the records table."""

    field: str
    reason: str
    value: str | None = None
    corrected: bool = False
