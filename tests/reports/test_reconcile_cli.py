"""``schoolgate reconcile`` and ``schoolgate reports list|show`` end to end: the ES2 simulator over
loopback HTTP, a store synced from it with every kind of difference seeded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tomli_w
from typer.testing import CliRunner

from fixtures.generator.mutations import mutate
from schoolgate.cli import app
from schoolgate.config import GatewayConfig
from sync import jobs
from sync.pull import PullOptions
from tests.reports.readback import READERS, _key
from tests.reports.worlds import SeededWorld
from tests.sync.worlds import World

runner = CliRunner()


def _config_file(config: GatewayConfig, where: Path) -> Path:
    path = where / "gw.toml"
    path.write_bytes(tomli_w.dumps(config.model_dump(mode="json", exclude_none=True)).encode())
    return path


def run(*args: str) -> Any:
    return runner.invoke(app, ["--log-level", "error", *args], catch_exceptions=False)


def test_reconcile_writes_the_report_and_prints_the_summary_in_russian(
    seeded: SeededWorld, tmp_path: Path
) -> None:
    cfg = str(_config_file(seeded.world.config, tmp_path))
    out = tmp_path / "r.json"
    done = run(
        "reconcile", "--config", cfg, "--system", "es2", "--format", "json", "--out", str(out)
    )
    assert done.exit_code == 0, done.output  # differences are no failure
    assert "Найдено расхождений: 7" in done.output
    assert "Это первая сверка с такими условиями" in done.output
    assert "Уже в пути (расхождение устраняется)" in done.output
    assert f"Отчёт: {out}" in " ".join(done.output.split())
    expected = {(s.section, _key(s.record_id, s.external_id)) for s in seeded.seeded}
    assert dict(READERS["json"](out)) == dict.fromkeys(expected, 1)

    listed = run("reports", "list", "--config", cfg, "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert data["total"] == 1
    (item,) = data["items"]
    assert (item["status"], item["differences"], item["since"]) == ("done", 7, None)
    assert item["sections"]["pending"] == 1

    # a pull takes the system's side; the next reconciliation of the same scope says what changed
    job = seeded.job()
    try:
        jobs.pull(seeded.store, seeded.world.config.sync, job, PullOptions())
    finally:
        job.close()
    again = run("reconcile", "--config", cfg, "--system", "es2", "--out", str(tmp_path / "r.html"))
    assert again.exit_code == 0, again.output
    assert (tmp_path / "r.html").read_text("utf-8").startswith("<!DOCTYPE html>")
    flat = " ".join(again.output.split())
    assert "С прошлой сверки (№ 1): новых расхождений — 0, устранено — 6." in flat

    show = run("reports", "show", "2", "--config", cfg)
    assert show.exit_code == 0, show.output
    flat = " ".join(show.output.split())
    assert "Устранены с прошлой сверки (№ 1):" in flat
    assert show.output.count("  − ") == 6  # one line per gone row
    assert "Новые с прошлой сверки" not in flat  # nothing new
    assert "есть только в системе (обучается)" in flat  # the extra pupil, now pulled
    table = run("reports", "list", "--config", cfg)
    assert table.exit_code == 0 and "0 / 6 (с № 1)" in table.output, table.output

    # records change on the system: the third reconciliation lists what is new since the second
    changed, _ = mutate(seeded.world.school, 5, changes=4)
    seeded.sim.clock.advance(hours=1)
    seeded.sim.sync_to(changed)
    third = run("reconcile", "--config", cfg, "--system", "es2", "--format", "json", "--out",
                str(tmp_path / "r3.json"))  # fmt: skip
    assert third.exit_code == 0, third.output
    data3 = json.loads((tmp_path / "r3.json").read_text("utf-8"))
    new_rows = [r for rows in data3["sections"].values() for r in rows if r["new"]]
    assert new_rows and data3["summary"]["since"]["new"] == len(new_rows)
    show3 = run("reports", "show", "3", "--config", cfg)
    assert "Новые с прошлой сверки (№ 2):" in " ".join(show3.output.split())
    assert show3.output.count("  + [") == min(len(new_rows), 20)

    written = run("reports", "show", "1", "--config", cfg, "--format", "csv", "--out",
                  str(tmp_path / "first.csv"))  # fmt: skip
    assert written.exit_code == 0, written.output
    assert dict(READERS["csv"](tmp_path / "first.csv")) == dict.fromkeys(expected, 1)


def test_a_school_with_no_differences_says_so_and_exits_0(
    clean: tuple[World, object], tmp_path: Path
) -> None:
    world, _ = clean
    cfg = str(_config_file(world.config, tmp_path))
    done = run("reconcile", "--config", cfg, "--system", "es2", "--format", "csv", "--out",
               str(tmp_path / "r.csv"))  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "Расхождений нет: все" in done.output
    assert "Расхождения" not in done.output.replace("Расхождений нет", "")


def test_a_read_that_fails_exits_1_and_is_listed_as_failed(
    clean: tuple[World, object], tmp_path: Path
) -> None:
    world, _ = clean
    data = world.config.model_dump(mode="json", exclude_none=True)
    system = data["schools"][0]["systems"]["es2"]
    system["base_url"] = "http://127.0.0.1:9"  # nothing listens there
    system["retries"] = 0
    path = tmp_path / "broken.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    failed = run("reconcile", "--config", str(path), "--system", "es2", "--out",
                 str(tmp_path / "r.html"))  # fmt: skip
    assert failed.exit_code == 1, failed.output
    assert "не выполнена" in failed.output
    assert not (tmp_path / "r.html").exists()
    listed = json.loads(run("reports", "list", "--config", str(path), "--json").output)
    assert [i["status"] for i in listed["items"]] == ["failed"]
    assert listed["items"][0]["error"]


def test_mistakes_are_one_line_errors(clean: tuple[World, object], tmp_path: Path) -> None:
    world, _ = clean
    cfg = str(_config_file(world.config, tmp_path))
    unknown_class = run("reconcile", "--config", cfg, "--system", "es2", "--class", "9Я")
    assert unknown_class.exit_code == 2 and "no class '9Я'" in unknown_class.output
    bad_format = run("reconcile", "--config", cfg, "--system", "es2", "--format", "pdf")
    assert bad_format.exit_code == 2 and "unknown format 'pdf'" in bad_format.output
    bad_entity = run("reconcile", "--config", cfg, "--system", "es2", "--entity", "grades")
    assert bad_entity.exit_code == 2 and "unknown entity 'grades'" in bad_entity.output
    missing = run("reports", "show", "42", "--config", cfg)
    assert missing.exit_code == 2 and "no reconciliation 42" in missing.output
    # none of them started a reconciliation
    assert json.loads(run("reports", "list", "--config", cfg, "--json").output)["total"] == 0
