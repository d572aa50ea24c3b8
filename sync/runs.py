"""A run's report and its lifecycle in the store, shared by pulls and pushes.

A run starts by marking runs of the same job that a killed process left ``running`` as
``failed`` (one job runs at a time), and ends by storing its status, counts and error.

How a run ended (``status``):

- ``success`` — it did all it had to;
- ``partial`` — it finished, but some records were refused or wait (a pull), or some pushes
  were rejected or will be sent again (a push): see ``conflicts`` and ``outbox``;
- ``held`` — a person must approve it (``holds``);
- ``failed`` — it stopped before the end (a system's error, a fault, an interruption); what it
  did not do is done by the next run.

The error stored with a run passes through :func:`core.redact.redact_text`: a remote system's or
a library's message may echo a record's personal data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import structlog

from core.entities import Entity
from core.errors import GatewayError
from core.redact import redact_optional
from store import Store
from sync.counts import RunCounts
from sync.holds import HoldReason

log = structlog.get_logger("sync.runs")


@dataclass
class RunReport:
    school_id: str
    system: str
    direction: str
    run_id: int | None = None
    status: str = "success"
    counts: RunCounts = field(default_factory=RunCounts)
    error: str | None = None
    hold: HoldReason | None = None
    hold_id: int | None = None
    #: entities a failed run did not read to their end
    unread: list[str] = field(default_factory=list)
    duration: float = 0.0
    started: float = field(default_factory=time.monotonic, repr=False)


def start_run(store: Store, report: RunReport) -> None:
    """Record the run as ``running`` (after failing what a killed process left running)."""
    with store.begin() as tx:
        tx.runs.fail_interrupted(report.school_id, report.system, report.direction)
        report.run_id = tx.runs.start(report.school_id, report.system, report.direction)


def describe_error(exc: BaseException) -> str:
    """What a run records of the exception that stopped it: the gateway's own message, or the
    kind and message of any other (both redacted when stored)."""
    if isinstance(exc, GatewayError):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def finish_run(store: Store, report: RunReport) -> None:
    """Store the run's outcome (when it was recorded) and log it; the error is redacted."""
    report.duration = time.monotonic() - report.started
    report.error = redact_optional(report.error)
    log.info(
        f"{report.direction} finished",
        status=report.status,
        counts=report.counts.as_dict(),
        duration=round(report.duration, 3),
        **({"error": report.error} if report.error else {}),
    )
    if report.run_id is not None:
        with store.begin() as tx:
            tx.runs.finish(
                report.run_id, report.status, counts=report.counts.as_dict(), error=report.error
            )


def hold_run(store: Store, report: RunReport, reason: HoldReason, *, record: bool = True) -> None:
    """The run is held for a person: nothing of the held unit was applied; the hold waits in
    the store (``schoolgate holds approve|discard``)."""
    report.status = "held"
    report.hold = reason
    report.error = reason.detail
    report.counts.add(Entity.PUPILS.value, "held", reason.deactivated)
    if not record:
        return
    with store.begin() as tx:
        report.hold_id = tx.holds.add(
            report.school_id,
            report.system,
            reason.code,
            {
                "detail": reason.detail,
                "deactivated": reason.deactivated,
                "active_before": reason.active_before,
            },
            run_id=report.run_id,
        )
    log.warning(f"{report.direction} held", reason=reason.code, hold_id=report.hold_id)
