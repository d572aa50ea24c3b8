"""``schoolgate init`` and ``schoolgate status`` through typer's runner, on both engines."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from core.entities import Entity
from schoolgate.cli import app
from store import Store
from store.migrate import head_revision
from tests.store.conftest import mark

runner = CliRunner()


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "schoolgate.toml"
    path.write_text(
        f"""
[store]
url = "{url}"

[[schools]]
id = "sch42"
name = "МБОУ СОШ № 42"

[schools.systems.es2]
base_url = "http://127.0.0.1:8701"
remote_school = "42"
""",
        encoding="utf-8",
    )
    return path


def test_init_creates_then_is_a_no_op(db_url: str, tmp_path: Path) -> None:
    cfg = _config(tmp_path, db_url)
    first = runner.invoke(app, ["init", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    assert "created store" in first.output and str(head_revision()) in first.output
    second = runner.invoke(app, ["init", "--config", str(cfg)])
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output


def test_status_shows_store_counts_schools_and_runs(db_url: str, tmp_path: Path) -> None:
    cfg = _config(tmp_path, db_url)
    store = Store.open(db_url)
    store.upgrade()
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(i) for i in range(3)], source="es2")
        run = tx.runs.start("sch42", "es2", "pull")
        tx.runs.finish(run, "success", {})
    store.close()
    result = runner.invoke(app, ["status", "--config", str(cfg)], terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.output
    assert str(head_revision()) in out
    assert "marks" in out and " 3 " in out
    assert "sch42" in out and "es2 (42)" in out
    assert "success" in out and "pull" in out


def test_status_of_an_uninitialised_store_says_so(tmp_path: Path) -> None:
    cfg = _config(tmp_path, f"sqlite:///{tmp_path}/empty.db")
    result = runner.invoke(app, ["status", "--config", str(cfg)])
    assert result.exit_code == 1
    assert "not initialised" in result.output


def test_status_masks_the_password(tmp_path: Path) -> None:
    cfg = _config(tmp_path, "postgresql+psycopg://gw:s3cret@127.0.0.1:1/none?connect_timeout=1")
    result = runner.invoke(app, ["status", "--config", str(cfg)])
    assert result.exit_code == 2
    assert "s3cret" not in result.output
