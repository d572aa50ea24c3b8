"""Typed values of the journal: marks and attendance codes (see ``shared/domain.md``).

Mark values arrive as strings: ``1``..``5``, a double mark ``4/5``, ``зач``/``незач``,
``осв`` (exempt) and ``н/а`` (not attested, final marks only). Anything else — including the
«точка» ``.``, which is a debt and not a mark — is invalid.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


class MarkKind(enum.StrEnum):
    NUMERIC = "numeric"
    DOUBLE = "double"
    PASS = "pass"
    FAIL = "fail"
    EXEMPT = "exempt"
    NOT_ATTESTED = "not_attested"


_WORDS = {
    "зач": MarkKind.PASS,
    "зачет": MarkKind.PASS,
    "зачёт": MarkKind.PASS,
    "незач": MarkKind.FAIL,
    "незачет": MarkKind.FAIL,
    "незачёт": MarkKind.FAIL,
    "осв": MarkKind.EXEMPT,
    "н/а": MarkKind.NOT_ATTESTED,
}
_CANONICAL_WORD = {
    MarkKind.PASS: "зач",
    MarkKind.FAIL: "незач",
    MarkKind.EXEMPT: "осв",
    MarkKind.NOT_ATTESTED: "н/а",
}


#: spelling received → its parsed value (values are immutable, so one instance serves all)
_PARSED: dict[str, MarkValue] = {}


class InvalidValue(ValueError):
    """A value outside the journal's code tables (the message never includes personal data)."""


@dataclass(frozen=True, slots=True)
class MarkValue:
    """A parsed mark. ``str(value)`` is its canonical spelling."""

    kind: MarkKind
    numbers: tuple[int, ...] = ()

    @classmethod
    def parse(cls, raw: object) -> MarkValue:
        if isinstance(raw, MarkValue):
            return raw
        if isinstance(raw, str) and (known := _PARSED.get(raw)) is not None:
            return known  # a few spellings make up nearly every mark: parsed once each
        value = cls._parse(raw)
        if isinstance(raw, str) and len(_PARSED) < 256:
            _PARSED[raw] = value
        return value

    @classmethod
    def _parse(cls, raw: object) -> MarkValue:
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str):
            raise InvalidValue(f"mark value must be a string, got {type(raw).__name__}")
        text = raw.strip().lower()
        if text in {".", "точка"}:
            raise InvalidValue(f"{raw!r} is a debt (точка), not a mark")
        if text in _WORDS:
            return cls(_WORDS[text])
        if len(text) == 1 and text in "12345":
            return cls(MarkKind.NUMERIC, (int(text),))
        parts = text.split("/")
        if len(parts) == 2 and all(len(p) == 1 and p in "12345" for p in parts):
            return cls(MarkKind.DOUBLE, (int(parts[0]), int(parts[1])))
        raise InvalidValue(f"{raw!r} is not a mark value (1–5, 4/5, зач, незач, осв, н/а)")

    @property
    def is_numeric(self) -> bool:
        return self.kind in (MarkKind.NUMERIC, MarkKind.DOUBLE)

    def __str__(self) -> str:
        if self.kind is MarkKind.NUMERIC:
            return str(self.numbers[0])
        if self.kind is MarkKind.DOUBLE:
            return f"{self.numbers[0]}/{self.numbers[1]}"
        return _CANONICAL_WORD[self.kind]

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
            json_schema_input_schema=core_schema.str_schema(),
        )


class AttendanceCode(enum.StrEnum):
    """Canonical attendance codes. Systems' variants (``ОП`` for late) map here via profiles."""

    ILL = "Б"  # болезнь
    EXCUSED = "У"  # уважительная причина
    UNEXCUSED = "Н"  # неуважительная причина
    LATE = "О"  # опоздание

    @classmethod
    def parse(cls, raw: object) -> AttendanceCode:
        if isinstance(raw, AttendanceCode):
            return raw
        if isinstance(raw, str):
            text = raw.strip().upper()
            for code in cls:
                if code.value == text:
                    return code
        raise InvalidValue(f"{raw!r} is not an attendance code (Б, У, Н, О)")
