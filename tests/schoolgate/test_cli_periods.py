"""``schoolgate periods list|close|reopen`` against a real store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w
from typer.testing import CliRunner

from core.entities import Entity
from mapping.model import Period
from schoolgate.cli import app
from store import Store
from tests.sync.journal_school import SCHOOL, seed, stored

runner = CliRunner()


def _cli(*args: str) -> Any:
    return runner.invoke(app, ["--log-level", "error", *args])


def test_periods_are_listed_closed_and_reopened_by_a_named_person(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    cfg = {
        "store": {"url": f"sqlite:///{tmp_path}/gw.db"},
        "schools": [{"id": SCHOOL, "name": "Школа"}],
    }
    path.write_bytes(tomli_w.dumps(cfg).encode())
    assert _cli("init", "--config", str(path)).exit_code == 0
    store = Store.open(cfg["store"]["url"])  # type: ignore[index]
    seed(store)

    listed = _cli("periods", "list", "--config", str(path))
    assert listed.exit_code == 0, listed.output
    assert "Q1" in listed.output and "Q2" in listed.output and "closed" not in listed.output

    nameless = _cli("periods", "close", "Q1", "--config", str(path))
    assert nameless.exit_code != 0 and "--by" in nameless.output
    closed = _cli("periods", "close", "Q1", "--by", "завуч Петрова", "--config", str(path))
    assert closed.exit_code == 0, closed.output
    assert "Q1" in closed.output and "завуч Петрова" in closed.output
    period = stored(store, Entity.PERIODS, "Q1")
    assert isinstance(period, Period) and period.closed

    listed = _cli("periods", "list", "--config", str(path), "--school", SCHOOL)
    line = next(ln for ln in listed.output.splitlines() if "Q1" in ln)
    assert "closed" in line and "завуч Петрова" in line

    again = _cli("periods", "close", "Q1", "--by", "завуч", "--config", str(path))
    assert again.exit_code == 2 and "already closed" in again.output
    unknown = _cli("periods", "reopen", "Q9", "--by", "завуч", "--config", str(path))
    assert unknown.exit_code == 2 and "no period Q9" in unknown.output

    reopened = _cli("periods", "reopen", "Q1", "--by", "директор", "--config", str(path))
    assert reopened.exit_code == 0, reopened.output
    period = stored(store, Entity.PERIODS, "Q1")
    assert isinstance(period, Period) and not period.closed
    store.close()
