"""``schoolgate control`` against a real store: the report in each format, the ``[control]``
table's thresholds, and the errors a person can make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from typer.testing import CliRunner

from core.errors import ConfigError
from schoolgate.cli import app
from schoolgate.config import parse_config
from store import Store
from tests.reports import control_world as cw

runner = CliRunner()


def _cli(*args: str) -> Any:
    return runner.invoke(app, ["--log-level", "error", *args])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gw.toml"
    cfg = {
        "store": {"url": f"sqlite:///{tmp_path}/gw.db"},
        "control": {"min_marks_per_quarter": {"1": 3, "2": 5, "3": 7}, "count_bad": 2},
        "schools": [{"id": cw.SCHOOL, "name": "МБОУ СОШ № 7", "timezone": cw.TZ_NAME}],
    }
    path.write_bytes(tomli_w.dumps(cfg).encode())
    assert _cli("init", "--config", str(path)).exit_code == 0
    store = Store.open(cfg["store"]["url"])  # type: ignore[index]
    cw.build(store)
    store.close()
    return path


@pytest.mark.parametrize("fmt", ["html", "xlsx", "json", "csv"])
def test_control_writes_the_report(config: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    got = _cli("control", "--config", str(config), "--period", "I четверть",
               "--format", fmt, "--out", str(out))  # fmt: skip
    assert got.exit_code == 0, got.output
    assert "замечаний 10" in got.output and str(out) in got.output
    assert out.stat().st_size > 1000


def test_control_json_uses_the_configured_thresholds(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    got = _cli("control", "-c", str(config), "--period", "I четверть", "--format", "json",
               "--out", str(out))  # fmt: skip
    assert got.exit_code == 0, got.output
    data = json.loads(out.read_text("utf-8"))
    assert data["settings"]["count_bad"] == 2
    course = next(c for c in data["courses"] if (c["class"], c["subject"]) == ("5А", "Математика"))
    assert course["paint"]["changed_mark"] == "bad"  # two changes, count_bad 2
    assert data["school"]["name"] == "МБОУ СОШ № 7"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "IX четверть"], "no period 'IX четверть'"),
        (["--month", "2025-13"], "--month must be YYYY-MM"),
        (["--period", "I четверть", "--month", "2025-09"], "not both"),
        (["--format", "pdf"], "--format must be one of"),
        (["--school", "nope"], "no school 'nope'"),
    ],
)
def test_control_errors(config: Path, tmp_path: Path, args: list[str], message: str) -> None:
    got = _cli("control", "-c", str(config), "--out", str(tmp_path / "x"), *args)
    assert got.exit_code == 2, got.output
    assert message in " ".join(got.output.split())


def test_control_table_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"control\.accumulation_ok"):
        parse_config({"control": {"accumulation_ok": 1.5}})
    with pytest.raises(ConfigError, match=r"control\.colour"):
        parse_config({"control": {"colour": "red"}})
    cfg = parse_config({"control": {"min_marks_per_quarter": {"2": 4, "1": 2}}})
    assert cfg.control.quarter_norm(1) == 2 and cfg.control.quarter_norm(5) == 4
