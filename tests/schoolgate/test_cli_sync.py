"""The operator's commands end to end: sync from the ES2 simulator, runs, conflicts, outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w
from typer.testing import CliRunner

from core.entities import Entity
from fixtures.es2 import Simulator
from fixtures.generator import generate_school
from fixtures.serve import serve_in_thread
from mapping.model import Mark
from mapping.values import MarkValue
from schoolgate.cli import app
from schoolgate.config import load_config
from store import Store
from sync.journal import Journal
from tests.sync.worlds import SECRETS, system_table

runner = CliRunner()


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    school = generate_school(5, "tiny")
    sim = Simulator(school)
    with serve_in_thread(sim.app) as url:
        cfg = {
            "store": {"url": f"sqlite:///{tmp_path}/cli.db"},
            "schools": [
                {
                    "id": school.school.id,
                    "name": "Школа",
                    "systems": {
                        "es2": system_table(
                            "es2",
                            url,
                            str(sim.school_id),
                            {"marks": {"direction": "both", "conflict": "manual"}},
                        )
                    },
                }
            ],
        }
        path = tmp_path / "gw.toml"
        path.write_bytes(tomli_w.dumps(cfg).encode())
        yield path, sim, school


def run(*args: str) -> Any:
    result = runner.invoke(app, ["--log-level", "error", *args], catch_exceptions=False)
    return result


def test_sync_runs_conflicts_and_outbox(setup: Any) -> None:
    path, sim, school = setup
    assert run("init", "--config", str(path)).exit_code == 0

    dry = run("sync", "--config", str(path), "--dry-run", "--direction", "pull")
    assert dry.exit_code == 0, dry.output
    assert "dry" in dry.output
    store = Store.open(load_config(path).store.url)
    with store.read() as tx:
        assert tx.records.count(Entity.MARKS) == 0 and tx.runs.find() == []

    done = run("sync", "--config", str(path))
    assert done.exit_code == 0, done.output
    assert "success" in done.output
    with store.read() as tx:
        assert tx.records.count(Entity.MARKS) == len(school.marks)
    runs = run("runs", "--config", str(path))
    assert (
        runs.exit_code == 0
        and "es2" in runs.output
        and "pull" in runs.output
        and "push" in runs.output
    )

    # the same mark changed here and in ES2: a manual conflict, shown and resolved by the operator
    mark = next(m for m in school.marks if str(m.value) == "5")
    ext = int(mark.ext_ids["es2"])
    with store.read() as tx:
        gid = tx.identity.lookup(school.school.id, "es2", Entity.MARKS, [str(ext)])[str(ext)]
        local = tx.records.get(Entity.MARKS, [gid])[gid]
    assert isinstance(local, Mark)
    Journal(store, (sc := load_config(path).schools[0]).id, sc.push_targets()).write(
        [local.model_copy(update={"value": MarkValue.parse("4")})], actor="teacher"
    )
    item = dict(sim.state.col("marks").items[ext])
    sim.state.upsert("marks", {**item, "value": "3"})
    pulled = run("sync", "--config", str(path), "--direction", "pull")
    assert pulled.exit_code == 0, pulled.output
    listed = run("conflicts", "list", "--config", str(path))
    assert "both_changed" in listed.output
    with store.read() as tx:
        [conflict] = tx.conflicts.find(status="open")
    shown = run("conflicts", "show", str(conflict.id), "--config", str(path))
    assert shown.exit_code == 0 and "incoming" in shown.output and "value" in shown.output
    bad = run("conflicts", "resolve", str(conflict.id), "--take", "sideways", "--config", str(path))
    assert bad.exit_code != 0
    ok = run("conflicts", "resolve", str(conflict.id), "--take", "remote", "--config", str(path))
    assert ok.exit_code == 0, ok.output
    with store.read() as tx:
        assert str(tx.records.get(Entity.MARKS, [gid])[gid].value) == "3"  # type: ignore[attr-defined]
        assert tx.conflicts.find(status="open") == []

    outbox = run("outbox", "--config", str(path), "--status", "all")
    assert outbox.exit_code == 0 and "es2" in outbox.output
    for args in (("holds", "list"), ("identities", "list"), ("status",)):
        assert run(*args, "--config", str(path)).exit_code == 0


def test_a_broken_configuration_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[store]\nurl = "mysql://x"\n', encoding="utf-8")
    result = runner.invoke(app, ["sync", "--config", str(path)])
    assert result.exit_code == 2
    assert "store.url" in result.output


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = run("demo", "--dir", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output[-2000:]
    store = Store.open(f"sqlite:///{tmp_path}/demo/demo.db")
    with store.read() as tx:
        runs = tx.runs.find(limit=100)
        assert {r.system for r in runs} == {"es2", "asiou", "o7"}
        assert all(r.status == "success" for r in runs), [(r.system, r.status) for r in runs]
        assert tx.records.count(Entity.MARKS) > 0
        pushed = [
            o
            for o in tx.outbox.find(status=None, limit=10**6)
            if o.record_id.startswith("demo-mark")
        ]
        late = [c for c in tx.conflicts.find(status="noted", limit=10**6) if c.kind == "late_mark"]
    # only written work has a deadline: no oral answer or homework is noted as late
    written = {"Контрольная работа", "Самостоятельная работа", "Диктант", "Лабораторная работа",
               "Практическая работа"}  # fmt: skip
    assert late and {str(c.incoming["work_type"]) for c in late if c.incoming} <= written
    # three marks entered, each accepted by each of the three systems (АСИОУ by its receipt)
    assert sorted((o.record_id, o.system, o.status) for o in pushed) == [
        (f"demo-mark-{n}", system, "accepted")
        for n in (1, 2, 3)
        for system in ("asiou", "es2", "o7")
    ]
