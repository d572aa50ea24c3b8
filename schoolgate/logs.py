"""structlog set-up: JSON for machines, console for people; personal data and secrets dropped.

The redaction processor is the last line of defence: code logs ids, never names, but a key that
looks like personal data or a secret is replaced whatever its value.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO, cast

import structlog

#: keys whose values are never logged
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
REDACTED = "[redacted]"


def redact_sensitive(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: replace values of sensitive keys."""
    for key in list(event):
        if key.lower() in SENSITIVE_KEYS:
            event[key] = REDACTED
    return event


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written (tests and runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(
    fmt: Literal["json", "console"] = "json", level: str = "info", stream: Any = None
) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_sensitive,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream or cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
