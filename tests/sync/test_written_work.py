"""Which work types are written work: the mapping profiles say, a deployment may override."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.entities import Entity
from core.errors import ConfigError
from mapping.profile import load_profile
from schoolgate import runner
from schoolgate.config import parse_config
from store import Store
from sync import jobs
from tests.sync.journal_school import MSK, mark, seed


def test_the_shipped_profiles_list_the_written_work() -> None:
    for system in ("es2", "asiou", "o7"):
        listed = load_profile(system).written_work
        assert listed is not None and "Контрольная работа" in listed and "Диктант" in listed
        assert "Ответ на уроке" not in listed and "Домашняя работа" not in listed


def test_an_override_replaces_the_list_and_a_bad_one_is_a_config_error(tmp_path: Path) -> None:
    override = tmp_path / "es2.toml"
    override.write_text('written_work = ["Устный зачёт"]\n', encoding="utf-8")
    assert load_profile("es2", override).written_work == ("Устный зачёт",)
    assert jobs.written_work([("es2", override), ("o7", None)]) is not None
    union = set(jobs.written_work([("es2", override), ("o7", None)]) or ())
    assert "Устный зачёт" in union and "Контрольная работа" in union
    override.write_text("written_work = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="written_work"):
        _ = load_profile("es2", override).written_work


def test_the_journal_of_a_configured_school_uses_its_profiles_list(
    store: Store, tmp_path: Path
) -> None:
    """A deployment that calls «Устный зачёт» written work gets its late entries noted."""
    seed(store)
    override = tmp_path / "es2.toml"
    override.write_text('written_work = ["Устный зачёт"]\n', encoding="utf-8")
    es2 = {
        "base_url": "http://127.0.0.1:9",
        "remote_school": "1",
        "profile": str(override),
        "entities": {"marks": {"direction": "both"}},
    }
    config = parse_config({"schools": [{"id": "s1", "name": "Школа", "systems": {"es2": es2}}]})
    later = dt.datetime(2025, 11, 30, 10, tzinfo=MSK)  # 20 days after the lesson
    journal = runner.journal(store, config, "s1", clock=lambda: later)
    assert journal.targets == {Entity.MARKS: ("es2",)}
    oral = mark("Mo", "P5", "L5late", work_type="Устный зачёт")
    test = mark("Mt", "P5B", "L5B", work_type="Контрольная работа")  # not in this list
    result = journal.write([oral, test], actor="учитель")
    assert result.ok and result.noted == 1
    with store.read() as tx:
        [late] = [c for c in tx.conflicts.find(status="noted") if c.kind == "late_mark"]
    assert late.record_id == "Mo" and late.system == "local"
