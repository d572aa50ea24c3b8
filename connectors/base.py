"""The connector plugin contract.

A connector speaks one external system's wire and nothing else: it never imports the store.
It yields *wire records* — plain dicts exactly as the system sent them (JSON items, XML attribute
maps, RPC items) — page by page, each page with the small state that resumes the pull after it.
The system's mapping profile (``mapping/profiles``) turns wire records into canonical records.

State is an explicit, JSON-serialisable dict passed in and returned (dlt/Airbyte style); the sync
engine commits the state of a page in the same transaction as that page's records.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import httpx
from pydantic import SecretStr

from core.entities import Entity
from core.errors import ConfigError

WireRecord = dict[str, Any]
State = dict[str, Any]


class Direction(enum.StrEnum):
    PULL = "pull"
    PUSH = "push"


class ReadMode(enum.StrEnum):
    """How a system lets us read an entity incrementally."""

    FULL = "full"  # only whole snapshots: diff locally
    INCREMENTAL = "incremental"  # a change feed (changed_since / since) with tombstones
    WINDOWED = "windowed"  # date windows only: re-read recent windows and diff locally


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a connector can do, declared up front so a misconfiguration fails at start."""

    system: str
    pull: Mapping[Entity, ReadMode]
    push: frozenset[Entity] = frozenset()
    push_batch_size: int = 100
    #: longest date window a windowed read may ask for, in days
    max_window_days: int | None = None
    #: pushes are answered later (receipts); results come back through ``poll``
    async_push: bool = False
    #: one read returns every entity at once (a whole export package): ``pull(None, state)``
    #: yields pages of mixed entities, in :data:`core.entities.PULL_ORDER`
    bundled: bool = False


@dataclass(frozen=True, slots=True)
class Scope:
    """What a snapshot covers: every record of the entity, or those of a date window (lesson
    dates, both included), or those of one class (by its id in the system) in a window."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    #: the class's id in the system
    class_id: str | None = None

    @property
    def key(self) -> str:
        """A stable name of the scope, for grouping the pages of one snapshot."""
        return f"{self.class_id or '*'}|{self.date_from or ''}..{self.date_to or ''}"


#: a whole entity: every record the system holds of it
WHOLE = Scope()


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a pull.

    ``records`` are wire records (deletions included, as the wire marks them). ``state`` is what
    to save once this page is applied. ``snapshot`` says the records are a complete picture of
    ``scope`` (a full read, or a completely read date window): what the store holds in that scope
    and the page lacks no longer exists at the source. Only the last page of a snapshot has
    ``complete=True``; a snapshot whose last page never arrives must delete nothing.
    """

    entity: Entity
    records: list[WireRecord]
    state: State
    snapshot: bool = False
    complete: bool = False
    scope: Scope = WHOLE
    #: the pages up to the next ``complete`` page form one unit that is applied whole or not at
    #: all (a package whose integrity is known only at its end); ``state`` is then only valid
    #: with the complete page
    atomic: bool = False


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """What a connector is given to reach one school in one system. The application builds it
    from its configuration (secrets already read); a connector sees nothing else of it."""

    #: the system's key in the configuration (``es2``, ``asiou``, ``o7`` or a plugin's own)
    system: str
    base_url: str
    #: the school's id or code in that system
    remote_school: str
    credentials: Mapping[str, SecretStr] = field(default_factory=dict)
    #: seconds for one read, connect or write (httpx's timeouts)
    timeout: float = 30.0
    #: attempts after the first for a request that failed transiently
    retries: int = 5
    #: seconds retrying one request may take in all (waits and later attempts)
    retry_budget: float = 300.0
    #: seconds one request may spend waiting on the server, its whole answer included;
    #: ``None``: the connector's default
    request_deadline: float | None = None
    #: the largest answer body accepted, in MB; ``None``: the connector's default
    max_body_mb: float | None = None
    #: per-connector options (see the system's docs)
    options: Mapping[str, Any] = field(default_factory=dict)
    #: the settings tables of the system's mapping profile (a connector that must know wire
    #: names a deployment may rename, such as АСИОУ's package elements, reads them here)
    profile: Mapping[str, Any] = field(default_factory=dict)

    def secret(self, name: str) -> str:
        """The value of credential ``name``; a :class:`ConfigError` when it is not configured."""
        found = self.credentials.get(name)
        if found is None:
            raise ConfigError(
                f"{self.system} needs the credential {name!r}",
                key=f"systems.{self.system}.credentials.{name}",
            )
        return found.get_secret_value()


PushOp = Literal["upsert", "delete"]


@dataclass(frozen=True, slots=True)
class PushItem:
    """One record to send. ``key`` is the idempotency key of this version of the record
    (ES2 ``client_key``, О7 ``ext_id``): a resend carries the same key. ``record_key`` names the
    record itself across its versions, for a system that replaces what was sent before under the
    same key (АСИОУ ``ВнешнийИд``)."""

    key: str
    entity: Entity
    op: PushOp
    payload: WireRecord
    remote_id: str | None = None
    record_key: str | None = None


PushStatus = Literal["created", "updated", "duplicate", "deleted", "rejected", "pending"]


@dataclass(frozen=True, slots=True)
class PushResult:
    """The outcome of one pushed item. ``pending`` carries a ``ticket`` to ``poll`` later."""

    key: str
    status: PushStatus
    remote_id: str | None = None
    error: str | None = None
    ticket: str | None = None


@runtime_checkable
class Connector(Protocol):
    """What every connector plugin implements. A connector class also offers
    ``from_settings(settings, *, client=None)`` (see :class:`ConnectorFactory`)."""

    system: str

    def check(self) -> None:
        """Authenticate and probe the system; raise :class:`~core.errors.AuthError` etc."""

    def capabilities(self) -> Capabilities: ...

    def pull(self, entity: Entity | None, state: State | None) -> Iterator[Page]:
        """Pages of ``entity`` from ``state`` (``None``: a full read).

        ``entity`` is ``None`` only for bundled connectors: every entity in one read.
        """
        ...

    def push(self, entity: Entity, items: Sequence[PushItem]) -> list[PushResult]:
        """Send one batch (≤ ``push_batch_size``); one result per item, in order."""
        ...

    def poll(self, tickets: Sequence[str]) -> list[PushResult]:
        """Results of earlier ``pending`` pushes that are now known (asynchronous systems)."""
        ...

    def close(self) -> None: ...


class ConnectorFactory(Protocol):
    """A connector class: builds a connector from its settings; ``client`` is injected by tests
    (an ``httpx.Client`` over a mock transport or a simulator)."""

    def from_settings(
        self, settings: ConnectorSettings, *, client: httpx.Client | None = None
    ) -> Connector: ...

    def declared_capabilities(self) -> Capabilities: ...
