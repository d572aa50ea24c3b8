from __future__ import annotations

import pytest

from connectors.transport import safe_url, where


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("http://host/path", "http://host/path"),
        ("http://user:pw@host:8080/p", "http://host:8080/p"),
        ("https://user@host/p", "https://host/p"),
        ("http://h/p?school=42&since=2025-10-01", "http://h/p?school=42&since=2025-10-01"),
        ("http://h/p?token=abc&limit=5", "http://h/p?token=[redacted]&limit=5"),
        (
            "http://h/p?Password=x&API_KEY=y&sid=z",
            "http://h/p?Password=[redacted]&API_KEY=[redacted]&sid=[redacted]",
        ),
        ("http://h/p#frag", "http://h/p"),
        ("not a url at all \x00", "[an unreadable URL]"),
    ],
)
def test_safe_url(url: str, safe: str) -> None:
    assert safe_url(url) == safe


def test_where_names_a_request() -> None:
    assert where("POST", "http://a:b@h/api/X?login=u") == "POST http://h/api/X?login=[redacted]"
