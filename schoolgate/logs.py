"""structlog set-up: JSON for machines, console for people; personal data and secrets dropped.

The redaction processor is the last line of defence: code logs ids, never names, but a key that
looks like personal data or a secret is replaced whatever its value — at any depth of nested
dicts and lists — and every text (an error copied from a remote system, a traceback) passes
through :func:`core.redact.redact_text`.

A burst of the same event (the same level, message and fields, but for the record it names) is
shown a few times, then held back and ended by one line «N more like this» (:class:`Bursts`).

``--log-level debug`` adds what a person needs to follow a run without a debugger, never
personal data: every HTTP request (method, URL without credentials or secret parameters, status;
from ``httpx``), every page read, the decisions taken per page, the push batches and receipts.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, Literal, TextIO, cast

import httpx
import structlog
from structlog.typing import Processor

from core.redact import REDACTED, SENSITIVE_KEYS, redact_text

__all__ = ["REDACTED", "SENSITIVE_KEYS", "Bursts", "configure_logging", "get_logger"]

#: query parameters that never reach a log line, beside :data:`SENSITIVE_KEYS`
SECRET_PARAMS = frozenset({"login", "key", "api_key", "apikey", "sid", "session", "code"})


def _redacted(key: object, value: Any, depth: int = 0) -> Any:
    if isinstance(key, str) and key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if depth > 8:
        return value
    if isinstance(value, Mapping):
        return {k: _redacted(k, v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redacted(None, v, depth + 1) for v in value]
    return value


def redact_sensitive(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: replace values of sensitive keys (nested ones too) and the personal
    data free text carries."""
    for key in list(event):
        event[key] = _redacted(key, event[key])
    return event


class Bursts:
    """structlog processor: the same warning again and again — a page of refusals for one reason,
    say — is shown ``show`` times, then held back; the next different event (or :meth:`flush`)
    first writes one line «N more like this» naming it.

    Two events are the same when their level, message and fields are, apart from the fields
    that name the record (:attr:`VARYING`). ``tail`` are the processors after this one (the
    summary line goes through them to the same output)."""

    VARYING = frozenset(
        {"record", "record_id", "id", "ext", "external_id", "gid", "key", "ticket", "item"}
    )
    #: the levels whose bursts are summed up (debug lines are each wanted)
    LEVELS = frozenset({"warning", "warn", "error", "critical", "exception"})

    def __init__(self, tail: Sequence[Processor] = (), show: int = 3) -> None:
        self.tail = list(tail)
        self.show = show
        self._lock = threading.Lock()
        self._last: tuple[Any, ...] | None = None
        self._seen = 0
        self._held = 0
        self._sample: dict[str, Any] = {}
        self._method = "info"
        self._logger: Any = None

    def __call__(
        self, logger: Any, method_name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if method_name not in self.LEVELS:
            return event
        signature = (
            method_name,
            tuple(sorted((k, repr(v)) for k, v in event.items() if k not in self.VARYING)),
        )
        with self._lock:
            if signature == self._last:
                self._seen += 1
                if self._seen > self.show:
                    self._held += 1
                    raise structlog.DropEvent
                return event
            self._end(logger)
            self._last = signature
            self._seen = 1
            self._sample = {k: v for k, v in event.items() if k not in self.VARYING}
            self._method = method_name
            self._logger = logger
        return event

    def flush(self) -> None:
        """End the current burst now (the end of a run, of the process)."""
        with self._lock:
            self._end(self._logger)
            self._last = None
            self._seen = 0

    def _end(self, logger: Any) -> None:
        held, self._held = self._held, 0
        if not held or logger is None:
            return
        summary: Any = {
            **self._sample,
            "event": f"{held} more like this",
            "like": self._sample.get("event"),
        }
        for processor in self.tail:
            summary = processor(logger, self._method, summary)
        getattr(logger, self._method, logger.msg)(summary)


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written (tests and runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def safe_url(url: object) -> str:
    """A URL fit for a log line: no user or password, no secret query parameters."""
    try:
        parsed = httpx.URL(str(url))
    except Exception:
        return redact_text(str(url))
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    secret = SENSITIVE_KEYS | SECRET_PARAMS
    params = [(k, REDACTED if k.lower() in secret else v) for k, v in parsed.params.multi_items()]
    if params:
        parsed = parsed.copy_with(params=params)
    return redact_text(str(parsed))


class _HttpRequests(logging.Handler):
    """``httpx``'s line per request, as a structlog ``request`` event at debug level."""

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) == 5 and record.msg.startswith("HTTP Request"):
            method, url, _version, status, reason = args
            structlog.get_logger("http").debug(
                "request", method=method, url=safe_url(url), status=status, reason=reason
            )
        else:
            structlog.get_logger("http").debug("http", detail=redact_text(record.getMessage()))


_HANDLER = _HttpRequests()
_flush_at_exit = threading.Event()
#: the burst processor of the current configuration (see :func:`flush_bursts`)
_current: list[Bursts] = []


def flush_bursts() -> None:
    """Write the «N more like this» of a burst still held back."""
    for bursts in _current:
        bursts.flush()


def configure_logging(
    fmt: Literal["json", "console"] = "json", level: str = "info", stream: Any = None
) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    tail: list[Processor] = [
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_sensitive,
        renderer,
    ]
    flush_bursts()
    bursts = Bursts(tail)
    _current[:] = [bursts]
    if not _flush_at_exit.is_set():
        atexit.register(flush_bursts)
        _flush_at_exit.set()
    numeric = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            bursts,
            *tail,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=stream or cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=False,
    )
    http = logging.getLogger("httpx")
    http.removeHandler(_HANDLER)
    if numeric == logging.DEBUG:
        http.addHandler(_HANDLER)
        http.setLevel(logging.INFO)
        http.propagate = False
    else:
        http.setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
