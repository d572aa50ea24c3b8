"""A system that lives entirely in a package of its own: registered through entry-point
metadata, it syncs a tiny school end to end over HTTP on loopback — nothing of the gateway is
edited, and no module of it is put inside the gateway's packages."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import plugins
from core.entities import Entity
from fixtures.serve import serve_in_thread
from schoolgate import runner
from schoolgate.config import parse_config
from store import Store

HERE = Path(__file__).parent

SCHOOL: dict[str, Any] = {
    "subjects": [{"id": "S1", "name": "Математика"}],
    "teachers": [{"id": "T1", "last": "Петрова", "first": "Анна"}],
    "classes": [{"id": "C5", "name": "5А", "grade": 5}],
    "pupils": [
        {
            "id": f"P{n}",
            "last": "Иванов",
            "first": f"Ученик{n}",
            "born": f"2014-05-0{n}",
            "class": "C5",
        }
        for n in range(1, 4)
    ],
    "lessons": [
        {
            "id": "L1",
            "class": "C5",
            "subject": "S1",
            "teacher": "T1",
            "date": "2025-10-06",
            "number": 1,
        }
    ],
    "marks": [
        {"id": f"M{n}", "pupil": f"P{n}", "lesson": "L1", "value": v}
        for n, v in ((1, "5"), (2, "4"), (3, "4/5"))
    ],
}


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[None]:
    """The plugin installed as a distribution of its own: a package and its metadata on the
    import path, as pip would leave them."""
    site = tmp_path / "site"
    shutil.copytree(HERE / "acme_journal", site / "acme_journal")
    meta = site / "acme_journal-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-journal\nVersion: 1.0\n")
    (meta / "entry_points.txt").write_text(
        "[schoolgate.systems]\nacme = acme_journal:PLUGIN\n", encoding="utf-8"
    )
    sys.path.insert(0, str(site))
    try:
        yield
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("acme_journal", None)


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    ok = scope["path"] == "/school/777"
    body = json.dumps(SCHOOL if ok else {"error": "no such school"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200 if ok else 404,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def test_a_third_party_system_syncs_a_school_end_to_end(installed: None, tmp_path: Path) -> None:
    assert "acme" in plugins.available()
    assert plugins.load("acme").title == "«АКМЕ-Журнал»"
    assert not any(p.name.startswith("acme") for p in (HERE.parents[1] / "plugins").iterdir())
    with serve_in_thread(_app) as url:
        config = parse_config(
            {
                "store": {"url": f"sqlite:///{tmp_path}/s.db"},
                "schools": [
                    {
                        "id": "sch1",
                        "name": "Школа",
                        "systems": {
                            "journal": {
                                "connector": "acme",
                                "base_url": url,
                                "remote_school": "777",
                                "entities": {
                                    e.value: {"direction": "pull"}
                                    for e in (
                                        Entity.SUBJECTS,
                                        Entity.TEACHERS,
                                        Entity.CLASSES,
                                        Entity.PUPILS,
                                        Entity.LESSONS,
                                        Entity.MARKS,
                                    )
                                },
                            }
                        },
                    }
                ],
            }
        )
        with Store.open(config.store.url) as store:
            store.upgrade()
            report = runner.pull(store, config, config.school("sch1").setup("journal"))
            assert report.status == "success", report.error
            with store.read() as tx:
                counts = {
                    e: tx.records.count(e, school_id="sch1") for e in (Entity.PUPILS, Entity.MARKS)
                }
                marks = sorted(str(m.value) for m in tx.records.iter(Entity.MARKS, "sch1"))
                ext = tx.identity.lookup("sch1", "journal", Entity.PUPILS, ["P1", "P2", "P3"])
    assert counts == {Entity.PUPILS: 3, Entity.MARKS: 3}
    assert marks == ["4", "4/5", "5"]
    assert sorted(ext) == ["P1", "P2", "P3"]


def test_an_unknown_plugin_names_the_installed_ones() -> None:
    with pytest.raises(Exception, match="installed: asiou, es2, o7"):
        plugins.load("acme-not-installed")
