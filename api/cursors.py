"""Opaque cursors: a feed position, a snapshot page's last id. Consumers keep them as given
(the feed's are made by the database too, see :mod:`store.queries.feed`)."""

from __future__ import annotations

import base64
import binascii
import re

from api.problems import bad_request
from store.queries.feed import CURSOR_PREFIX

_PAGE = "p1:"
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_HEX = re.compile(r"^[0-9a-f]{1,15}$")


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _decode(cursor: str, prefix: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return raw[len(prefix) :] if raw.startswith(prefix) else None


def feed_cursor(position: int) -> str:
    """The cursor after ``position`` (the same the database writes into each event)."""
    return f"{CURSOR_PREFIX}{position:x}"


def feed_position(cursor: str | None) -> int:
    """The position a feed cursor stands at (0, the start, without one)."""
    if cursor is None:
        return 0
    raw = cursor.removeprefix(CURSOR_PREFIX)
    if raw == cursor or not _HEX.match(raw):
        raise bad_request("bad_cursor", "the cursor is not one this feed gave")
    return int(raw, 16)


def page_cursor(last_id: str) -> str:
    return _encode(f"{_PAGE}{last_id}")


def page_after(cursor: str | None) -> str | None:
    """The id a snapshot page starts after (``None``: the first page)."""
    if cursor is None:
        return None
    raw = _decode(cursor, _PAGE)
    if raw is None or not _ID.match(raw):
        raise bad_request("bad_cursor", "the cursor is not one this snapshot gave")
    return raw
