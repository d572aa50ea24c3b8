"""``Retry-After``: delta seconds or an HTTP date, in seconds from now, bounded."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
from collections.abc import Callable

#: no server is waited for longer than a day, whatever it asks (the retry policy caps far lower)
MAX_RETRY_AFTER = 86_400.0
_SECONDS = re.compile(r"\d{1,12}(?:\.\d{1,6})?")


def parse_retry_after(
    value: str | None, *, now: Callable[[], float] = time.time, cap: float = MAX_RETRY_AFTER
) -> float | None:
    """Seconds to wait by a ``Retry-After`` value, within ``0..cap``; ``None`` when it is absent
    or unreadable. An HTTP date in the past is ``0``; a date without a zone is taken as GMT."""
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return min(float(text), cap)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max(0.0, when.timestamp() - now()), cap)
