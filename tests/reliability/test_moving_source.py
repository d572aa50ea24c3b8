"""Moving source: ES2 and АСИОУ change records between the pages of one read (ES2: an item
already read changes, content and ``updated_at``, before a later page; АСИОУ: a mark changes
right after the marks section was written). The pull that overlapped the change cannot see it;
the following sync must: after it, a reconciliation with the system shows no difference. Round
after round, with the sim's clock moving as a day passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.school import SchoolData
from tests.reliability.worlds import differences, pull, pull_until_done, served

ROUNDS = 4


def _moving(s: object, system: str, on: bool) -> None:
    sim = s.sim  # type: ignore[attr-defined]
    if system == "es2":
        sim.faults.set(moving_source=0.5 if on else 0.0)
    elif on:
        sim.faults.force("moving_source")


@pytest.mark.parametrize("system", ["es2", "asiou"])
def test_a_change_made_during_a_pull_is_brought_by_the_next_sync(
    system: str, tiny_school: SchoolData, tmp_path: Path, secrets: None
) -> None:
    options = {"page_size": 100} if system == "es2" else {}
    with served(system, tiny_school, f"sqlite:///{tmp_path}/s.db") as s:
        if options:
            s.world.config.schools[0].systems[system].options.update(options)
        assert pull(s.world, system).status == "success"
        moved_total = 0
        for _ in range(ROUNDS):
            if system == "es2":
                s.sim.clock.advance(hours=1)
            before = len(s.sim.moved)
            _moving(s, system, True)
            overlapped = pull(s.world, system)
            # a read whose revision moves too often stops, saying so; the next run goes on
            assert overlapped.status == "success" or "revision" in (overlapped.error or "")
            _moving(s, system, False)
            moved_total += len(s.sim.moved) - before
            if system == "es2":
                s.sim.clock.advance(minutes=5)
            following = pull_until_done(s.world, system, 5)
            assert following[-1].status == "success", following[-1].error
            summary = differences(s.world, system)
            assert summary["differences"] == 0, summary["sections"]
        assert moved_total >= ROUNDS  # the source did move under the reads
