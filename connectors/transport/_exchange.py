"""The HTTP seam every connector sends through: an injected :class:`httpx.Client`, a deadline for
the whole request and answer, and a cap on the answer's body, checked while it streams.

httpx's timeouts bound each read, not an answer: a server that drips a byte every few seconds
never trips them. So each request gets a :class:`Deadline`, counting the time spent waiting on the
server — connecting, sending, reading the status line, headers and every chunk of the body, but
not the time a consumer spends between chunks of a streamed package. It is enforced twice:

* every chunk of the body is followed by a check;
* every read on a connection this seam opened is capped at what is left of the deadline (the
  ``trace`` extension hands over each new connection's network stream), so a server dripping its
  status line or headers is cut off too.

Errors come out translated once, as the gateway's errors naming the request (never credentials).
"""

from __future__ import annotations

import contextvars
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from connectors.base import ConnectorSettings
from connectors.transport._actions import error_for
from connectors.transport._classify import classify_exception
from connectors.transport._faults import BodyTooLarge, BrokeOff, DeadlineExceeded
from connectors.transport._urls import where
from core.errors import ConnectorError

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may cost: ``deadline`` seconds of waiting on the server, and a body of
    at most ``max_body`` bytes."""

    deadline: float = 120.0
    max_body: int = 32 * MB

    @classmethod
    def from_settings(
        cls, settings: ConnectorSettings, *, deadline: float, max_body_mb: float
    ) -> Limits:
        """The settings' ``request_deadline`` and ``max_body_mb``, else the connector's own
        defaults ``deadline`` and ``max_body_mb``."""
        return cls(
            deadline=settings.request_deadline or deadline,
            max_body=int((settings.max_body_mb or max_body_mb) * MB),
        )


_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "schoolgate_request_deadline", default=None
)


class Deadline:
    """Seconds one request may spend waiting on the server, counted only while it waits."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._spent = 0.0
        self._since: float | None = None

    def left(self) -> float:
        running = self._clock() - self._since if self._since is not None else 0.0
        return self.seconds - self._spent - running

    def check(self) -> None:
        if self.left() <= 0:
            raise DeadlineExceeded(self.seconds)

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Count the time inside as waiting; reads on bounded connections see this deadline."""
        token = _CURRENT.set(self)
        self._since = self._clock()
        try:
            yield
        finally:
            self._spent += self._clock() - self._since
            self._since = None
            _CURRENT.reset(token)


def _bounded_read(read: Callable[[int, float | None], bytes]) -> Callable[..., bytes]:
    def bounded(max_bytes: int, timeout: float | None = None) -> bytes:
        deadline = _CURRENT.get()
        if deadline is not None:
            left = deadline.left()
            if left <= 0:
                raise httpcore.ReadTimeout("the request deadline has passed")
            timeout = left if timeout is None else min(timeout, left)
        return read(max_bytes, timeout)

    return bounded


def _trace(event: str, info: Mapping[str, Any]) -> None:
    """httpcore's ``trace`` extension: bound the reads of every connection as it is opened."""
    if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
        return
    stream = info.get("return_value")
    if stream is None or getattr(stream, "_schoolgate_bounded", False):
        return
    # httpcore gives no other hook into a connection's reads (status line and headers included)
    stream.read = _bounded_read(stream.read)
    stream._schoolgate_bounded = True


def _capped(timeouts: Any, seconds: float) -> dict[str, float]:
    """Each of httpx's per-operation timeouts, never longer than ``seconds``."""
    out: dict[str, float] = {}
    for name in ("connect", "read", "write", "pool"):
        value = timeouts.get(name) if isinstance(timeouts, Mapping) else None
        out[name] = seconds if value is None else min(float(value), seconds)
    return out


class Exchange:
    """One system's requests through ``client``, within ``limits``; failures raised as the
    gateway's errors for ``system``."""

    def __init__(self, client: httpx.Client, *, system: str, limits: Limits | None = None) -> None:
        self.client = client
        self.system = system
        self.limits = limits or Limits()

    def open(self, request: httpx.Request, *, auth: httpx.Auth | None = None) -> Opened:
        """Send ``request``; the answer with its status and headers, its body still to read.
        Redirects are never followed (none of the contracts has one where data is due)."""
        deadline = Deadline(self.limits.deadline)
        request.extensions["timeout"] = _capped(request.extensions.get("timeout"), deadline.seconds)
        request.extensions["trace"] = _trace
        options: dict[str, Any] = {"stream": True, "follow_redirects": False}
        if auth is not None:
            options["auth"] = auth
        try:
            with deadline.waiting():
                response = self.client.send(request, **options)
        except httpx.HTTPError as exc:
            fault: BaseException = (
                DeadlineExceeded(deadline.seconds) if deadline.left() <= 0 else exc
            )
            raise self.error(fault, request) from exc
        return Opened(self, request, response, deadline)

    def fetch(
        self, request: httpx.Request, *, auth: httpx.Auth | None = None, max_body: int | None = None
    ) -> httpx.Response:
        """Send ``request`` and read its whole answer (at most ``max_body`` bytes, by default
        the limit): a read :class:`httpx.Response`."""
        opened = self.open(request, auth=auth)
        with opened:
            return opened.settled(opened.read(max_body))

    def error(self, fault: BaseException, request: httpx.Request) -> ConnectorError:
        """``fault`` met while exchanging ``request``, as the gateway's error naming it."""
        decision = classify_exception(fault)
        if decision.where is None:
            decision = dataclasses.replace(decision, where=where(request.method, request.url))
        return error_for(decision, self.system)


class Opened:
    """An answer whose body is still to read: in chunks (:meth:`chunks`) or whole (:meth:`read`),
    within the body limit and the request deadline."""

    def __init__(
        self,
        exchange: Exchange,
        request: httpx.Request,
        response: httpx.Response,
        deadline: Deadline,
    ) -> None:
        self.exchange = exchange
        self.request = request
        self.response = response
        self.deadline = deadline

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.response.close()

    def chunks(self, max_body: int | None = None) -> Iterator[bytes]:
        """The body's (decoded) bytes as they arrive; the answer is closed at the end or on an
        error, which comes as the gateway's error naming the request."""
        limit = self.exchange.limits.max_body if max_body is None else max_body
        try:
            declared = int(self.response.headers.get("Content-Length", "-1"))
        except ValueError:
            declared = -1
        try:
            if declared > limit:
                raise BodyTooLarge(limit)
            size = 0
            stream = self.response.iter_bytes()
            while True:
                with self.deadline.waiting():
                    try:
                        chunk = next(stream, None)
                    except httpx.HTTPError as exc:
                        self.deadline.check()
                        raise BrokeOff(exc) from exc
                if chunk is None:
                    return
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit)
                self.deadline.check()
                yield chunk
        except (BodyTooLarge, BrokeOff, DeadlineExceeded) as fault:
            raise self.exchange.error(fault, self.request) from fault
        finally:
            self.close()

    def read(self, max_body: int | None = None) -> bytes:
        """The whole body (see :meth:`chunks`)."""
        return b"".join(self.chunks(max_body))

    def settled(self, body: bytes) -> httpx.Response:
        """The answer as a read :class:`httpx.Response` holding ``body`` (already decoded, so
        without its ``Content-Encoding``)."""
        skip = {b"content-encoding", b"content-length", b"transfer-encoding"}
        headers = [(k, v) for k, v in self.response.headers.raw if k.lower() not in skip]
        return httpx.Response(
            self.response.status_code,
            headers=headers,
            content=body,
            request=self.request,
            extensions={k: v for k, v in self.response.extensions.items() if k != "network_stream"},
        )
