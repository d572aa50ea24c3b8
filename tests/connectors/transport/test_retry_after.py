"""One ``Retry-After`` parser: delta seconds and HTTP dates, bounded."""

from __future__ import annotations

import email.utils

import pytest

from connectors.transport import parse_retry_after
from connectors.transport._retry_after import MAX_RETRY_AFTER

NOW = 1_761_000_000.0  # a fixed "now" for the dates


def _date(offset: float) -> str:
    return email.utils.formatdate(NOW + offset, usegmt=True)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("12", 12.0),
        ("  7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (_date(90), 90.0),
        (_date(-3600), 0.0),  # a date in the past: go now
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        (email.utils.formatdate(NOW + 30, usegmt=False, localtime=False), 30.0),
        ("99999999999", MAX_RETRY_AFTER),  # bounded
        (_date(10 * 86_400), MAX_RETRY_AFTER),
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", None),
        ("inf", None),
        ("nan", None),
        ("1e9", None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=lambda: NOW) == seconds


def test_a_cap_of_the_caller() -> None:
    assert parse_retry_after("600", cap=120) == 120.0
    assert parse_retry_after(_date(600), now=lambda: NOW, cap=120) == 120.0
