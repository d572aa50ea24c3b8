"""What the server is told by the application: no configuration file is read here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.entities import Entity
from sync.rules import Deadlines


@dataclass(frozen=True)
class SchoolSetup:
    """A school the journal write API takes entries for: where its changes are pushed."""

    push_targets: Mapping[Entity, tuple[str, ...]] = field(default_factory=dict)
    #: the school's mark deadlines (its time zone, its systems' written work)
    deadlines: Deadlines = field(default_factory=Deadlines)


@dataclass(frozen=True)
class ApiSettings:
    #: schools whose local journal takes writes (others are read-only through the API)
    schools: Mapping[str, SchoolSetup] = field(default_factory=dict)
    #: the most events or records one page may hold
    max_page: int = 1000
    #: the longest long-poll a feed request may ask for, seconds
    max_wait: float = 30.0
    #: how often a waiting feed request looks for new changes, seconds
    poll_interval: float = 0.2
    #: change-log entries a diary (pupil) token's feed request reads to find its pupil's
    scan: int = 5000
    #: threads doing the store's work (and pooled connections in use) at once
    threads: int = 2
    #: a journal write holding its idempotency key longer than this may be taken over, seconds
    idempotency_stale_after: float = 120.0
