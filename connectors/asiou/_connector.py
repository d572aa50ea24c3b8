"""The АСИОУ connector: streamed export packages in, asynchronous import packages out.

* ``pull(None, state)`` streams ``GET /export`` (``since`` from the state) into lxml and yields
  atomic pages of every entity (see :mod:`._parse`); the last page is ``complete`` and carries
  ``{"since": <Сформирован>, "revision": <Ревизия>}``. ``pull(entity, state)`` filters the bundle.
* ``push(entity, items)`` posts one windows-1251 import package and answers every item
  ``pending``; ``poll(tickets)`` reads the receipts and answers each item's final outcome once
  its receipt is processed.

A ticket is ``"<receipt id>#<c|u|d>#<ВнешнийИд>#<idempotency key>"``: everything needed to answer
one item from the receipt alone (which names only the rejected records, by ``ВнешнийИд``), so the
tickets the outbox keeps are enough after a restart — the connector itself keeps nothing between
calls. ``ВнешнийИд`` names the record across its versions (see :func:`._package.external_id`); a
ticket of three parts (made before it did) has the idempotency key there.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import httpx

from connectors.asiou._http import (
    SYSTEM,
    RetryPolicy,
    classify_exception,
    classify_status,
)
from connectors.asiou._package import Receipt, build_import, external_id, parse_receipt
from connectors.asiou._parse import DEFAULT_CHUNK, iter_pages
from connectors.asiou._wire import (
    CONTRACT_NAMES,
    DELETABLE,
    ENCODING,
    PACKAGE_ENTITIES,
    PUSH_ENTITIES,
    WireNames,
)
from connectors.base import (
    Capabilities,
    ConnectorSettings,
    Page,
    PushItem,
    PushResult,
    PushStatus,
    ReadMode,
    State,
)
from core.entities import Entity
from core.errors import ConfigError, ContractViolation, TransientError

PREFIX = "/asiou/exchange"
_FLAGS: dict[str, PushStatus] = {"c": "created", "u": "updated", "d": "deleted"}


class Ticket(NamedTuple):
    receipt: str
    outcome: PushStatus  # the item's outcome if the receipt does not reject it
    external: str  # its ВнешнийИд, by which the receipt names a rejection
    key: str  # its idempotency key, by which the outbox knows it


def make_ticket(receipt: str, item: PushItem) -> str:
    flag = "d" if item.op == "delete" else ("u" if item.remote_id else "c")
    return f"{receipt}#{flag}#{external_id(item)}#{item.key}"


def split_ticket(ticket: str) -> Ticket:
    parts = ticket.split("#")
    if len(parts) == 3:  # made when ВнешнийИд was the idempotency key
        parts.append(parts[2])
    if len(parts) != 4 or not all(parts) or parts[1] not in _FLAGS:
        raise ValueError(f"not an АСИОУ ticket: {ticket!r}")
    receipt, flag, external, key = parts
    return Ticket(receipt, _FLAGS[flag], external, key)


class AsiouConnector:
    """Connector for АСИОУ exchange packages (contract: shared/specs/asiou.md)."""

    system = SYSTEM

    def __init__(
        self,
        *,
        base_url: str,
        school: str,
        login: str,
        password: str,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
        retries: int = 5,
        chunk_size: int = DEFAULT_CHUNK,
        retry_base: float = 1.0,
        sleep: Callable[[float], None] | None = None,
        names: WireNames = CONTRACT_NAMES,
    ) -> None:
        self._base = base_url.rstrip("/") + PREFIX
        self._school = school
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=timeout)
        self._auth = httpx.BasicAuth(login, password)
        self._chunk_size = chunk_size
        self._names = names
        self._policy = RetryPolicy(retries + 1, base=retry_base)
        if sleep is not None:
            self._policy.sleep = sleep

    @classmethod
    def from_settings(
        cls, settings: ConnectorSettings, *, client: httpx.Client | None = None
    ) -> AsiouConnector:
        opts = settings.options
        return cls(
            base_url=settings.base_url,
            school=settings.remote_school,
            login=settings.secret("login"),
            password=settings.secret("password"),
            client=client,
            timeout=settings.timeout,
            retries=settings.retries,
            chunk_size=int(opts.get("chunk_size", DEFAULT_CHUNK)),
            retry_base=float(opts.get("retry_base", 1.0)),
            # the package's names live in the mapping profile a deployment may override
            names=WireNames.from_profile(settings.profile),
        )

    @classmethod
    def declared_capabilities(cls) -> Capabilities:
        return Capabilities(
            system=SYSTEM,
            pull={e: ReadMode.INCREMENTAL for e in PACKAGE_ENTITIES},
            push=PUSH_ENTITIES,
            push_batch_size=500,
            async_push=True,
            bundled=True,
        )

    def capabilities(self) -> Capabilities:
        return self.declared_capabilities()

    # -- transport -------------------------------------------------------------------------

    def _open(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request and return the streaming response, or raise its classified error."""

        def attempt() -> httpx.Response:
            request = self._client.build_request(method, self._base + path, **kwargs)
            try:
                response = self._client.send(request, auth=self._auth, stream=True)
            except httpx.HTTPError as exc:
                raise classify_exception(exc) from exc
            error = classify_status(response.status_code, response.headers)
            if error is not None:
                response.close()
                raise error
            return response

        return self._policy.call(attempt)

    def _receipt(self, method: str, path: str, **kwargs: Any) -> Receipt:
        response = self._open(method, path, **kwargs)
        try:
            return parse_receipt(response.read(), response.charset_encoding or ENCODING)
        except httpx.HTTPError as exc:
            raise classify_exception(exc) from exc
        finally:
            response.close()

    @staticmethod
    def _body(response: httpx.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes()
        except httpx.HTTPError as exc:
            raise TransientError(
                f"the package stream broke off: {type(exc).__name__}", system=SYSTEM
            ) from exc

    # -- contract --------------------------------------------------------------------------

    def check(self) -> None:
        """Authenticate with an empty delta request; only the status line is read."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._open("GET", "/export", params={"school": self._school, "since": now}).close()

    def pull(self, entity: Entity | None, state: State | None) -> Iterator[Page]:
        if entity is not None and entity not in PACKAGE_ENTITIES:
            raise ConfigError(f"АСИОУ packages carry no {entity}", key="entities")
        params = {"school": self._school}
        since = (state or {}).get("since")
        if since:
            params["since"] = str(since)
        response = self._open("GET", "/export", params=params)
        try:
            ctype = response.headers.get("content-type", "xml")
            if "xml" not in ctype:
                raise ContractViolation(f"export answered {ctype!r}, not XML", system=SYSTEM)
            yield from iter_pages(
                self._body(response),
                state=state,
                only=entity,
                chunk_size=self._chunk_size,
                names=self._names,
            )
        finally:
            response.close()

    def push(self, entity: Entity, items: Sequence[PushItem]) -> list[PushResult]:
        results: dict[str, PushResult] = {}
        send: list[PushItem] = []
        for item in items:
            if entity not in PUSH_ENTITIES:
                results[item.key] = PushResult(
                    item.key, "rejected", error=f"АСИОУ takes no {entity}"
                )
            elif item.op == "delete" and entity not in DELETABLE:
                results[item.key] = PushResult(
                    item.key, "rejected", error=f"АСИОУ cannot delete {entity}"
                )
            else:
                send.append(item)
        if send:
            body = build_import(self._school, entity, send, self._names)
            receipt = self._receipt(
                "POST",
                "/import",
                params={"school": self._school},
                content=body,
                headers={"Content-Type": "application/xml; charset=windows-1251"},
            )
            for item in send:
                results[item.key] = PushResult(
                    item.key,
                    "pending",
                    remote_id=item.remote_id,
                    ticket=make_ticket(receipt.id, item),
                )
        return [results[item.key] for item in items]

    def poll(self, tickets: Sequence[str]) -> list[PushResult]:
        by_receipt: dict[str, list[tuple[str, Ticket]]] = defaultdict(list)
        for ticket in dict.fromkeys(tickets):
            parsed = split_ticket(ticket)
            by_receipt[parsed.receipt].append((ticket, parsed))
        out: list[PushResult] = []
        for receipt_id, entries in by_receipt.items():
            receipt = self.receipt(receipt_id)
            if not receipt.done:
                continue
            errors = receipt.errors or {}
            for ticket, parsed in entries:
                if parsed.external in errors:
                    error = errors[parsed.external]
                    out.append(PushResult(parsed.key, "rejected", error=error, ticket=ticket))
                else:
                    out.append(PushResult(parsed.key, parsed.outcome, ticket=ticket))
        return out

    def receipt(self, receipt_id: str) -> Receipt:
        receipt = self._receipt("GET", f"/receipt/{receipt_id}")
        if receipt.id != receipt_id:
            raise ContractViolation("a receipt answered for another id", system=SYSTEM)
        return receipt

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def __enter__(self) -> AsiouConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
