"""Every school's systems are checked at start, before any work (issue: a later system's
impossible direction used to fail only after earlier systems had synced)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w
from typer.testing import CliRunner

from schoolgate.cli import app
from schoolgate.config import parse_config
from store import Paging, Store
from tests.sync.worlds import SECRETS, system_table

runner = CliRunner()


def _config(tmp_path: Path) -> dict[str, object]:
    good = system_table("es2", "http://127.0.0.1:9", "42", {"marks": {"direction": "both"}})
    bad = system_table("o7", "http://127.0.0.1:9", "g", {"pupils": {"direction": "push"}})
    return {
        "store": {"url": f"sqlite:///{tmp_path}/p.db"},
        "schools": [
            {"id": "first", "name": "Первая", "systems": {"es2": good}},
            {"id": "second", "name": "Вторая", "systems": {"o7": bad}},
        ],
    }


def test_a_later_schools_impossible_direction_stops_the_sync_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    path = tmp_path / "gw.toml"
    path.write_bytes(tomli_w.dumps(_config(tmp_path)).encode())
    assert runner.invoke(app, ["init", "--config", str(path)]).exit_code == 0
    result = runner.invoke(app, ["--log-level", "error", "sync", "--config", str(path)])
    assert result.exit_code == 2
    assert "schools[second].systems.o7.entities" in result.output
    assert "takes no writes of pupils" in result.output
    with Store.open(f"sqlite:///{tmp_path}/p.db") as store, store.read() as tx:
        assert tx.queries.runs(paging=Paging(10)).items == []  # the first school was not synced


def test_a_missing_secret_of_any_school_is_found_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schoolgate.runner import checked_setups

    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("SG_T_O7_PASSWORD")
    cfg = _config(tmp_path)
    cfg["schools"][1]["systems"]["o7"]["entities"] = {}  # type: ignore[index]
    with pytest.raises(Exception, match="SG_T_O7_PASSWORD is not set"):
        checked_setups(parse_config(cfg))


def test_the_log_table_takes_effect_and_the_command_line_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fixtures.generator import generate_school
    from tests.sync.worlds import es2_server

    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    school = generate_school(5, "tiny")
    with es2_server(school) as (sim, url):
        cfg = {
            "store": {"url": f"sqlite:///{tmp_path}/l.db"},
            "log": {"format": "json", "level": "error"},
            "schools": [
                {
                    "id": school.school.id,
                    "name": "Школа",
                    "systems": {"es2": system_table("es2", url, str(sim.school_id), {})},
                }
            ],
        }
        path = tmp_path / "gw.toml"
        path.write_bytes(tomli_w.dumps(cfg).encode())
        assert runner.invoke(app, ["init", "--config", str(path)]).exit_code == 0
        quiet = runner.invoke(app, ["sync", "--config", str(path), "--direction", "pull"])
        assert quiet.exit_code == 0 and "pull finished" not in quiet.output
        loud = runner.invoke(
            app, ["--log-level", "info", "sync", "--config", str(path), "--direction", "pull"]
        )
        assert loud.exit_code == 0 and '"event": "pull finished"' in loud.output
