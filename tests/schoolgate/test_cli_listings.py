"""A CLI a new user understands (issue 12, part F): commands that meet no store or no
configuration say what to do; ``runs`` shows every count, pushes in their own words; what needs
attention shows by default, with totals; a refusal shows its field, rule and value; failed
pushes are sent again on request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from typer.testing import CliRunner

from core.entities import Entity
from fixtures.es2 import Simulator
from fixtures.generator import generate_school
from fixtures.serve import serve_in_thread
from schoolgate.cli import app
from store import NewFinding, OutboxResult, Store
from tests.sync.crash_helpers import write_local_marks
from tests.sync.worlds import SECRETS, World, make_config, system_table

runner = CliRunner()
WIDE = 250


def run(*args: str) -> Any:
    return runner.invoke(
        app, ["--log-level", "error", *args], catch_exceptions=False, terminal_width=WIDE
    )


def _config(tmp_path: Path, db: Path, *, schools: bool = True) -> Path:
    doc: dict[str, Any] = {"store": {"url": f"sqlite:///{db}"}}
    if schools:
        doc["schools"] = [
            {
                "id": "sch1",
                "name": "Школа",
                "systems": {
                    "es2": {"base_url": "http://127.0.0.1:9", "remote_school": "1"},
                },
            }
        ]
    path = tmp_path / "gw.toml"
    path.write_bytes(tomli_w.dumps(doc).encode())
    return path


def _store(tmp_path: Path) -> tuple[Path, Store]:
    db = tmp_path / "gw.db"
    cfg = _config(tmp_path, db)
    store = Store.open(f"sqlite:///{db}")
    store.upgrade()
    return cfg, store


# -- 19: before init, without a configuration, and status ------------------------------------
@pytest.mark.parametrize("command", [("sync",), ("runs",), ("conflicts", "list"), ("outbox",)])
def test_a_command_before_init_says_to_run_init_and_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    db = tmp_path / "never.db"
    cfg = _config(tmp_path, db)
    result = run(*command, "--config", str(cfg))
    assert result.exit_code == 2, result.output
    assert "schoolgate init" in result.output and "Traceback" not in result.output
    assert not db.exists()


def test_an_empty_database_is_not_initialised(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    result = run("sync", "--config", str(_config(tmp_path, db)))
    assert result.exit_code == 2
    assert "not initialised: run `schoolgate init`" in result.output
    assert "no such table" not in result.output


def test_sync_without_a_configuration_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("sync")
    assert result.exit_code == 2
    assert "no configuration" in result.output and "--config" in result.output
    assert list(tmp_path.iterdir()) == []  # no default database made on the way
    empty = _config(tmp_path, tmp_path / "x.db", schools=False)
    result = run("sync", "--config", str(empty))
    assert result.exit_code == 2 and "names no school" in result.output


def test_status_never_creates_the_database(tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    result = run("status", "--config", str(_config(tmp_path, db)))
    assert result.exit_code == 1
    assert "not initialised" in result.output and "schoolgate init" in result.output
    assert not db.exists()


# -- 20: every count, pushes in their own columns --------------------------------------------
def test_runs_shows_every_count_and_push_outcomes_in_their_own_columns(tmp_path: Path) -> None:
    cfg, store = _store(tmp_path)
    pull_counts = {
        e.value: {"created": 100 + n, "unchanged": 200 + n, "waiting": 3, "duplicates": 7}
        for n, e in enumerate(Entity)
    }
    with store.begin() as tx:
        pulled = tx.runs.start("sch1", "es2", "pull")
        tx.runs.finish(pulled, "partial", pull_counts)
        pushed = tx.runs.start("sch1", "asiou", "push")
        tx.runs.finish(
            pushed,
            "success",
            {"marks": {"sent": 4, "created": 4}, "attendance": {"sent": 2, "awaiting": 2}},
        )
    store.close()

    listed = run("runs", "--config", str(cfg))
    assert listed.exit_code == 0, listed.output
    out = listed.output
    n = len(list(Entity))
    created = sum(100 + i for i in range(n))
    unchanged = sum(200 + i for i in range(n))
    assert f"{created:,}" in out and f"{unchanged:,}" in out  # totals of every entity
    assert "duplicates" in out and str(7 * n) in out and str(3 * n) in out
    push_table = out[out.index("push") :]
    header = next(line for line in push_table.splitlines() if "sent" in line)
    assert "awaiting" in header and "failed" in header and "duplicate" in header

    one = run("runs", str(pushed), "--config", str(cfg))
    assert one.exit_code == 0, one.output
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
        for line in one.output.splitlines()
        if line.startswith("│")
    }
    header = next(line for line in one.output.splitlines() if line.startswith("┃"))
    names = [c.strip() for c in header.split("┃")[2:-1]]
    marks = dict(zip(names, rows["marks"], strict=True))
    assert marks["created"] == "4" and marks["updated"] == "0" and marks["sent"] == "4"
    assert dict(zip(names, rows["attendance"], strict=True))["awaiting"] == "2"


# -- 21: what needs attention by default -----------------------------------------------------
def test_conflicts_list_shows_open_waiting_and_recent_refusals_with_totals(
    tmp_path: Path,
) -> None:
    cfg, store = _store(tmp_path)
    rows = (
        [NewFinding("sch1", "es2", "marks", f"open-{n}", "both_changed", "open") for n in range(2)]
        + [
            NewFinding("sch1", "es2", "marks", f"wait-{n}", "waiting_reference", "waiting")
            for n in range(3)
        ]
        + [
            NewFinding("sch1", "es2", "marks", f"bad-{n}", "invalid_record", "rejected")
            for n in range(30)
        ]
        + [NewFinding("sch1", "es2", "marks", f"late-{n}", "late_mark", "noted") for n in range(4)]
    )
    with store.begin() as tx:
        tx.conflicts.add_findings(rows)
    store.close()
    result = run("conflicts", "list", "--config", str(cfg), "--limit", "10")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "open-0" in out and "open-1" in out
    assert "wait-0" in out and "wait-2" in out
    assert "bad-29" in out and "bad-20" in out and "bad-19" not in out  # the latest refusals
    assert "and 20 more" in out
    assert "late-0" not in out  # recorded findings are not what needs attention
    assert "open 2" in out and "waiting 3" in out and "rejected 30" in out and "noted 4" in out

    noted = run("conflicts", "list", "--config", str(cfg), "--status", "noted")
    assert "late-0" in noted.output and "open-0" not in noted.output


def test_outbox_shows_waiting_failed_and_rejected_with_counts(tmp_path: Path) -> None:
    cfg, store = _store(tmp_path)
    with store.begin() as tx:
        ids = [
            tx.outbox.enqueue("sch1", "es2", "marks", f"mark-{n}", "upsert", f"k{n}", {})[0]
            for n in range(5)
        ]
        tx.outbox.claim("sch1", "es2", limit=4)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=4)
        tx.outbox.record(
            [
                OutboxResult(ids[0], "accepted", remote_id="r0"),
                OutboxResult(ids[1], "failed", error="no answer", next_attempt_at=later),
                OutboxResult(ids[2], "rejected", error="closed period"),
                OutboxResult(ids[3], "sent", ticket="t3"),
            ]
        )
    store.close()
    result = run("outbox", "--config", str(cfg))
    assert result.exit_code == 0, result.output
    out = result.output
    for shown in ("mark-1", "mark-2", "mark-3", "mark-4", "no answer", "closed period"):
        assert shown in out, shown
    assert "mark-0" not in out  # accepted: nothing to do
    counts = out[out.index("outbox by status") :]
    for status in ("pending", "failed", "rejected", "sent", "accepted"):
        line = next(x for x in counts.splitlines() if f" {status} " in x)
        assert " 1 " in line, line


# -- 21: a refusal shows its field, rule and value; 10: outbox retry -------------------------
@pytest.fixture
def es2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Any, World]]:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    school = generate_school(5, "tiny")
    sim = Simulator(school)
    with serve_in_thread(sim.app) as url:
        entities = {"marks": {"direction": "both"}}
        table = system_table("es2", url, str(sim.school_id), entities)
        cfg = {
            "store": {"url": f"sqlite:///{tmp_path}/cli.db"},
            "schools": [{"id": school.school.id, "name": "Школа", "systems": {"es2": table}}],
        }
        path = tmp_path / "gw.toml"
        path.write_bytes(tomli_w.dumps(cfg).encode())
        config = make_config(cfg["store"]["url"], school, {"es2": table})
        assert run("init", "--config", str(path)).exit_code == 0
        store = Store.open(config.store.url)
        try:
            yield path, sim, World(school, store, config)
        finally:
            store.close()


def test_conflicts_show_of_a_refusal_shows_field_rule_and_value(es2: Any) -> None:
    path, sim, world = es2
    mark = world.school.marks[0]
    item = dict(sim.state.col("marks").items[int(mark.ext_ids["es2"])])
    sim.state.upsert("marks", {**item, "value": "7"})
    done = run("sync", "--config", str(path), "--direction", "pull")
    assert done.exit_code == 0, done.output
    with world.store.read() as tx:
        [refusal] = [c for c in tx.conflicts.find(status="rejected") if c.kind == "invalid_record"]
    assert refusal.record_id == f"es2:{mark.ext_ids['es2']}"
    shown = run("conflicts", "show", str(refusal.id), "--config", str(path))
    assert shown.exit_code == 0, shown.output
    assert "field: value" in shown.output
    assert "rule: is not an ES2 mark value" in shown.output
    assert "refused value: '7'" in shown.output


def test_outbox_retry_sends_failed_pushes_now(es2: Any) -> None:
    path, sim, world = es2
    assert run("sync", "--config", str(path), "--direction", "pull").exit_code == 0
    [mark], _ = write_local_marks(world, 1, 0)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    with world.store.begin() as tx:  # a push whose outcome was unknown, due in three hours
        [item] = tx.outbox.claim(world.school_config.id, "es2")
        tx.outbox.record([OutboxResult(item.id, "failed", error="timeout", next_attempt_at=later)])
    waiting = run("sync", "--config", str(path), "--direction", "push")
    assert waiting.exit_code == 0
    with world.store.read() as tx:
        assert [o.status for o in tx.outbox.find(status=None)] == ["failed"]

    none = run("outbox", "retry", "--config", str(path))
    assert none.exit_code == 2 and "--failed" in none.output
    retried = run("outbox", "retry", "--failed", "--config", str(path))
    assert retried.exit_code == 0, retried.output
    assert "1 push(es) to es2" in retried.output and "push" in retried.output
    with world.store.read() as tx:
        [done] = tx.outbox.find(status=None)
        linked = tx.identity.ext_of("es2", Entity.MARKS, [mark.id])
    assert done.status == "accepted" and done.attempts == 2
    assert int(linked[mark.id]) in sim.state.col("marks").items
    again = run("outbox", "retry", "--failed", "--config", str(path))
    assert again.exit_code == 1 and "no such failed push" in again.output
