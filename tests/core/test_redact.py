"""Free text loses the personal data and secrets it carries before it is stored or logged."""

from __future__ import annotations

import pytest

from core.redact import REDACTED, redact_optional, redact_text

SNILS = "112-233-445 95"


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        # pydantic echoes the refused input whatever the field
        (
            f"1 validation error for Pupil\nsnils\n  Value error [type=value_error, "
            f"input_value='{SNILS}', input_type=str]",
            SNILS,
            "validation error for Pupil",
        ),
        ("input_value=11223344595, input_type=int", "11223344595", "input_type=int"),
        # keyed values, in the shapes remote systems and libraries write them
        ('{"snils": "11223344595", "id": 7}', "11223344595", '"id": 7'),
        ("birth_date=2011-03-04 class=5А", "2011-03-04", "class=5А"),
        ("login failed: password: hunter2", "hunter2", "login failed"),
        # a bare СНИЛС, and a full name with a patronymic
        (f"pupil with СНИЛС {SNILS} is not in the class", SNILS, "is not in the class"),
        ("ученик Иванова Анна Петровна не найден", "Иванова", "не найден"),
        ("teacher Петров И. С. is absent", "Петров", "is absent"),
    ],
)
def test_personal_data_is_replaced(text: str, gone: str, kept: str) -> None:
    out = redact_text(text)
    assert gone not in out and REDACTED in out and kept in out


@pytest.mark.parametrize(
    "text",
    [
        "[es2] service unavailable (HTTP 503) after 5 attempts",
        "marks es2:7000123 field 'value': Input should be '1', '2', '3', '4' or '5'",
        "lesson 2025-10-20 №3 refers to class 5А",
        "receipt 5e44d961-9785-5377-93d6-8792e9f87fca is unknown",
    ],
)
def test_the_gateways_own_messages_pass_unchanged(text: str) -> None:
    assert redact_text(text) == text


def test_absent_text_stays_absent() -> None:
    assert redact_optional(None) is None and redact_optional("") == ""
