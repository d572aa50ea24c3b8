"""Faults: each simulator with every contract fault on at 20 % (ES2: 429, 5xx, resets, soft
failures, expired tokens, a revision moving, a repeated item; АСИОУ: unavailable, cut packages,
duplicates, BOMs, cp1251 names; О7: 500 pages, 503, slow answers), the school pulled again after
each failed run (a bounded number of runs), several rounds — then a reconciliation with the
faults switched off shows zero differences. Printed per system: requests, failed answers,
faults the simulator fired, runs, and the time against the same rounds without faults."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.generator import generate_school
from fixtures.school import SchoolData
from tests.reliability.worlds import (
    SYSTEMS,
    Served,
    Timed,
    differences,
    faults_off,
    pull_until_done,
    served,
)

RATE = 0.2
RUN_BOUND = 25


@dataclass
class Figures:
    requests: int = 0
    failed: int = 0
    fired: int = 0
    runs: int = 0
    failed_runs: int = 0
    seconds: float = 0.0


def _fired(s: Served) -> int:
    faults: Any = getattr(s.sim, "faults", None)
    if faults is None:  # О7: its faults are the 5xx answers counted at the wire
        return s.counted.failed
    return sum((getattr(faults, "fired", None) or getattr(faults, "seen", {})).values())


def _sync(
    system: str, school: SchoolData, tmp: Path, rate: float, seed: int, rounds: int
) -> tuple[Figures, dict[str, Any]]:
    figures = Figures()
    timed = Timed()
    with served(system, school, f"sqlite:///{tmp}/{system}-{rate}.db", rate=rate, seed=seed) as s:
        for _ in range(rounds):  # the first round is a full read, the next ones incremental
            with timed.measure():
                reports = pull_until_done(s.world, system, RUN_BOUND)
            figures.runs += len(reports)
            figures.failed_runs += sum(r.status == "failed" for r in reports)
            # every failed run says what stopped it, naming no credentials
            assert all(r.error for r in reports if r.status == "failed")
        figures.requests = s.counted.total
        figures.failed = s.counted.failed
        figures.fired = _fired(s)
        figures.seconds = timed.seconds
        faults_off(s)
        summary = differences(s.world, system)
    return figures, summary


def _suite(schools: Iterable[SchoolData], tmp: Path, rounds: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for n, school in enumerate(schools):
        for system in SYSTEMS:
            where = tmp / f"s{n}"
            where.mkdir(exist_ok=True)
            clean, clean_summary = _sync(system, school, where, 0.0, n, rounds)
            faulty, summary = _sync(system, school, where, RATE, n, rounds)
            assert clean_summary["differences"] == 0, (system, clean_summary["sections"])
            assert summary["differences"] == 0, (n, system, summary["sections"])
            assert summary["not_read"] == []
            row = out.setdefault(system, {"clean": Figures(), "faulty": Figures()})
            for key, fig in (("clean", clean), ("faulty", faulty)):
                total: Figures = row[key]
                for name in Figures.__dataclass_fields__:
                    setattr(total, name, getattr(total, name) + getattr(fig, name))
    return out


def _print(title: str, out: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(
        f"{'system':6} {'requests':>9} {'clean':>6} {'failed':>7} {'retried':>8} {'fired':>6} "
        f"{'runs':>5} {'failed runs':>11} {'time s':>7} {'clean s':>8}"
    )
    for system, row in out.items():
        f, c = row["faulty"], row["clean"]
        print(
            f"{system:6} {f.requests:9d} {c.requests:6d} {f.failed:7d} "
            f"{f.requests - c.requests:8d} {f.fired:6d} {f.runs:5d} {f.failed_runs:11d} "
            f"{f.seconds:7.2f} {c.seconds:8.2f}"
        )


def test_one_school_under_every_contract_fault_ends_with_no_difference(
    tiny_school: SchoolData, tmp_path: Path, secrets: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _suite([tiny_school], tmp_path, rounds=2)
    with capsys.disabled():
        _print("faults at 20 %, one school, 2 rounds", out)
    assert sum(row["faulty"].fired for row in out.values()) > 10  # the faults did fire
    assert out["es2"]["faulty"].requests > out["es2"]["clean"].requests  # and were retried


@pytest.mark.soak
@pytest.mark.timeout(2400)  # ~12 min on a loaded 2-core machine
def test_soak_three_schools_under_every_contract_fault_end_with_no_difference(
    tmp_path: Path, secrets: None, capsys: pytest.CaptureFixture[str]
) -> None:
    schools = [generate_school(seed, "tiny") for seed in (3, 4, 5)]
    out = _suite(schools, tmp_path, rounds=4)
    with capsys.disabled():
        _print("faults at 20 %, three schools, 4 rounds", out)
    for system, row in out.items():
        assert row["faulty"].fired > 0, system
