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

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import httpx

from connectors.asiou._classify import classify
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
from connectors.transport import MB, Action, Exchange, Limits, Opened, RetryPolicy, error_for, where
from core.entities import Entity
from core.errors import ConfigError, ContractViolation

SYSTEM = "asiou"
PREFIX = "/asiou/exchange"
#: a full-year package of a large school is about 110 MB: room for several times that
MAX_PACKAGE_MB = 1024.0
#: a receipt names rejected records only: a few hundred KB at most
MAX_RECEIPT_MB = 16.0
#: seconds a request may wait on АСИОУ, a whole package streamed included (the consumer's time
#: between chunks is not counted)
DEADLINE = 1800.0
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
        retry_budget: float = 300.0,
        sleep: Callable[[float], None] | None = None,
        names: WireNames = CONTRACT_NAMES,
        limits: Limits | None = None,
        max_receipt_mb: float = MAX_RECEIPT_MB,
    ) -> None:
        self._base = base_url.rstrip("/") + PREFIX
        self._school = school
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=timeout)
        self._auth = httpx.BasicAuth(login, password)
        self._chunk_size = chunk_size
        self._names = names
        self._exchange = Exchange(
            self._client,
            system=SYSTEM,
            limits=limits or Limits(DEADLINE, int(MAX_PACKAGE_MB * MB)),
        )
        self._max_receipt = int(max_receipt_mb * MB)
        policy = RetryPolicy(
            attempts=retries + 1, budget=retry_budget, backoff_initial=retry_base, backoff_max=60.0
        )
        self._policy = policy if sleep is None else dataclasses.replace(policy, sleep=sleep)

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
            retry_budget=settings.retry_budget,
            # the package's names live in the mapping profile a deployment may override
            names=WireNames.from_profile(settings.profile),
            limits=Limits.from_settings(settings, deadline=DEADLINE, max_body_mb=MAX_PACKAGE_MB),
            max_receipt_mb=_positive(opts, "max_receipt_mb", MAX_RECEIPT_MB),
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

    def _open(self, method: str, path: str, **kwargs: Any) -> Opened:
        """Send a request and return its answer, body unread, or raise its classified error."""

        def attempt() -> Opened:
            request = self._client.build_request(method, self._base + path, **kwargs)
            opened = self._exchange.open(request, auth=self._auth)
            decision = classify(opened.response)
            if decision.action is not Action.OK:
                opened.close()
                raise error_for(decision, SYSTEM)
            return opened

        return self._policy.call(attempt, system=SYSTEM, target=where(method, self._base + path))

    def _receipt(self, method: str, path: str, **kwargs: Any) -> Receipt:
        with self._open(method, path, **kwargs) as opened:
            body = opened.read(self._max_receipt)
            return parse_receipt(body, opened.response.charset_encoding or ENCODING)

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
        with self._open("GET", "/export", params=params) as opened:
            ctype = opened.response.headers.get("content-type", "xml")
            if "xml" not in ctype:
                raise ContractViolation(f"export answered {ctype!r}, not XML", system=SYSTEM)
            yield from iter_pages(
                opened.chunks(),
                state=state,
                only=entity,
                chunk_size=self._chunk_size,
                names=self._names,
            )

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


def _positive(options: Mapping[str, Any], key: str, default: float) -> float:
    raw = options.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError("must be a number", key=f"options.{key}") from None
    if not 0 < value < float("inf"):
        raise ConfigError("must be a positive number", key=f"options.{key}")
    return value
