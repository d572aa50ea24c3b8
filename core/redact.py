"""Personal data out of free text: error messages bound for a run record, the outbox, the
conflict queue or a log line.

The gateway's own messages name records by entity and id only; but some texts are not ours — a
remote system's refusal, a library's exception (pydantic echoes the value it refused:
``input_value='123-456-789 64'``). :func:`redact_text` is applied to every such text before it is
stored or logged. It removes what can be recognised:

- values after a personal or secret key (``snils=…``, ``"birth_date": "…"``, ``password: …``);
- pydantic's ``input_value=…`` (the refused input, whatever the field);
- СНИЛС-shaped numbers (``123-456-789 64``, eleven digits in a row);
- a full name with a patronymic (``Иванова Анна Петровна``, ``Иванова А. П.``).

It is a last line of defence, not a licence: code that builds a message still names ids only.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

#: keys whose values are never stored or logged
SENSITIVE_KEYS = frozenset(
    {
        "fio",
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "birthday",
        "snils",
        "password",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "authorization",
        "cookie",
        "login_password",
    }
)

_KEYS = "|".join(sorted(SENSITIVE_KEYS, key=len, reverse=True))
#: ``key=value``, ``key: value``, ``"key": "value"``, ``'key': 'value'`` (any case)
_KEYED = re.compile(
    rf"""(?ix)
    (?P<key>["']?\b(?:{_KEYS})\b["']?\s*[:=]\s*)
    (?P<value>"[^"]*"|'[^']*'|[^\s,;}}\])]+)
    """
)
#: pydantic's echo of the refused input: ``input_value='…'`` / ``input_value=…``
_INPUT_VALUE = re.compile(r"""input_value=(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,\]\s]+)""")
#: СНИЛС: 123-456-789 64 (any of space/dash separators) or eleven digits in a row
_SNILS = re.compile(r"(?<!\d)(?:\d{3}[- ]?\d{3}[- ]?\d{3}[- ]?\d{2})(?!\d)")
_CAP = r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?"
_PATRONYMIC = r"[А-ЯЁ][а-яё]+(?:вич|вна|ична|инична|ич|оглы|кызы)"
#: Фамилия Имя Отчество, and Фамилия И. О.
_FULL_NAME = re.compile(rf"\b{_CAP}\s+{_CAP}\s+{_PATRONYMIC}\b|\b{_CAP}\s+[А-ЯЁ]\.\s?[А-ЯЁ]\.")


def redact_text(text: str) -> str:
    """``text`` with the personal data and secrets it can recognise replaced."""
    if not text:
        return text
    out = _INPUT_VALUE.sub(f"input_value={REDACTED}", text)
    out = _KEYED.sub(lambda m: m.group("key") + REDACTED, out)
    out = _SNILS.sub(REDACTED, out)
    return _FULL_NAME.sub(REDACTED, out)


def redact_optional(text: str | None) -> str | None:
    """:func:`redact_text` of a text that may be absent."""
    return None if text is None else redact_text(text)
