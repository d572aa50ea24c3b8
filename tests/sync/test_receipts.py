"""Reading receipts: one that cannot be read is set apart, the others still answer; a fault of
the system itself stops the poll."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from connectors.base import PushResult
from core.errors import AuthError, ContractViolation, RemoteRejected, TransientError
from sync.receipts import read_receipts

#: ticket → receipt, as АСИОУ groups its answers (one receipt per package)
RECEIPTS = {f"t{n}": f"r{n // 4}" for n in range(16)}


def poller(bad: dict[str, Exception]) -> tuple[list[list[str]], object]:
    calls: list[list[str]] = []

    def poll(tickets: Sequence[str]) -> list[PushResult]:
        calls.append(list(tickets))
        for t in tickets:
            if RECEIPTS[t] in bad:
                raise bad[RECEIPTS[t]]
        return [PushResult(f"key-{t}", "created", ticket=t) for t in tickets]

    return calls, poll


@pytest.mark.parametrize(
    "fault",
    [
        RemoteRejected("request refused (HTTP 404)", system="asiou", status=404),
        ContractViolation("the receipt is not XML", system="asiou"),
        ValueError("garbage"),
    ],
)
def test_an_unreadable_receipt_fails_its_own_tickets_only(fault: Exception) -> None:
    calls, poll = poller({"r1": fault})
    read = read_receipts(poll, list(RECEIPTS))  # type: ignore[arg-type]
    lost = {t for t, r in RECEIPTS.items() if r == "r1"}
    assert set(read.unreadable) == lost
    assert all(type(fault).__name__ in why or str(fault) in why for why in read.unreadable.values())
    assert {r.ticket for r in read.results} == set(RECEIPTS) - lost
    assert len(calls) < 4 * len(RECEIPTS)  # halving, not one call per ticket and receipt


@pytest.mark.parametrize(
    "fault",
    [TransientError("service unavailable", system="asiou"), AuthError("refused", system="asiou")],
)
def test_a_fault_of_the_system_stops_the_poll(fault: Exception) -> None:
    calls, poll = poller({"r2": fault})
    with pytest.raises(type(fault)):
        read_receipts(poll, list(RECEIPTS))  # type: ignore[arg-type]
    assert len(calls) == 1
