"""``schoolgate backup`` / ``restore`` from the command line: a copy with its manifest, retention
applied to the folder (the newest weekly copies and every ended school year's last copy stay),
a restore into an empty store, and a clear refusal of a store that is not empty."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import tomli_w
from typer.testing import CliRunner

from ops.backup import list_backups, make_backup, school_year
from schoolgate.cli import app
from tests.ops.conftest import all_rows

runner = CliRunner()


def _config(tmp_path: Path) -> tuple[Path, str]:
    url = f"sqlite:///{tmp_path}/live.db"
    path = tmp_path / "gw.toml"
    path.write_bytes(tomli_w.dumps({"store": {"url": url}}).encode())
    assert runner.invoke(app, ["init", "--config", str(path)]).exit_code == 0
    return path, url


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_backup_with_retention_then_restore(tmp_path: Path) -> None:
    config, url = _config(tmp_path)
    out = tmp_path / "backups"
    today = dt.datetime.now(dt.UTC).date()
    start = school_year(today)  # the school year now: 01.09.start … 31.08.(start + 1)
    make_backup(url, out, now=lambda: _at(start, 8, 20, 12))  # deleted
    make_backup(url, out, now=lambda: _at(start, 8, 30, 12))  # last of the ended year: kept
    result = runner.invoke(
        app, ["backup", "--config", str(config), "--out", str(out), "--keep-weekly", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "копия сохранена:" in result.output and "sqlite" in result.output
    left = {b.manifest.created_at.date() for b in list_backups(out) if b.manifest is not None}
    assert left == {dt.date(start, 8, 30), today}
    assert f"архив {start - 1}/{start} учебного года" in result.output
    assert f"удалена schoolgate-{start}0820-120000" in result.output

    newest = max(list_backups(out), key=lambda b: b.path.name).path
    target = f"sqlite:///{tmp_path}/restored.db"
    done = runner.invoke(app, ["restore", "--from", str(newest), "--store", target])
    assert done.exit_code == 0, done.output
    assert "совпадает с манифестом" in done.output
    assert all_rows(target) == all_rows(url)

    again = runner.invoke(app, ["restore", "--from", str(newest), "--store", target])
    assert again.exit_code == 2
    assert "не пустое" in again.output


def test_backup_goes_to_the_configured_folder_without_out(tmp_path: Path) -> None:
    """``[backup] dir`` is where ``schoolgate backup`` writes without ``--out`` (and what the
    console lists); neither given: a clear refusal."""
    config, _url = _config(tmp_path)
    refused = runner.invoke(app, ["backup", "--config", str(config)])
    assert refused.exit_code != 0 and "[backup] dir" in refused.output
    data = tomli_w.dumps(
        {"store": {"url": _url}, "backup": {"dir": str(tmp_path / "configured")}}
    ).encode()
    config.write_bytes(data)
    result = runner.invoke(app, ["backup", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert [b.manifest is not None for b in list_backups(tmp_path / "configured")] == [True]
