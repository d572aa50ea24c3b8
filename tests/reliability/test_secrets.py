"""Secrets and personal data: the demo and the fault suite run with known secret strings and a
school's known ФИО, birth dates and СНИЛС; then every place that must hold only ids is searched:

- every log line (JSON, debug level: HTTP requests, pages, decisions), of the demo's process and
  of the fault suite;
- run records, outbox errors, the conflict queue's reasons and refused values;
- the text of every failed run and of the error a wrong password gives;
- reconciliation reports in every format (they name pupils for the deputy director — by design —
  but never a birth date, a СНИЛС or a secret);
- API answers to a token without the ``personal`` scope (no birth date or СНИЛС), and API
  refusals (nothing of what was sent).
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from api import ApiSettings, SchoolSetup, create_app, issue
from core.entities import Entity
from fixtures.generator import Dirt, generate_school
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.model import Pupil, Teacher
from reports.reconcile.output import FORMATS, write_reconciliation
from reports.text import zone
from schoolgate.logs import configure_logging
from store import Store
from sync import jobs
from tests.reliability.worlds import SYSTEMS, faults_off, pull_until_done, served
from tests.sync.crash_helpers import ROOT, _schoolgate
from tests.sync.worlds import CREDENTIALS, SECRETS

#: a password per system no code or text could hold by chance
KNOWN = {
    "es2": "Zq7-es2-Секрет-41f0c2",
    "asiou": "Zq7-asiou-Пароль-9e77a1",
    "o7": "Zq7-o7-Пароль-5b3d88",
}
SECRET_VARS = {"es2": "client_secret", "asiou": "password", "o7": "password"}


def people(store: Store, school_id: str) -> dict[str, set[str]]:
    """What may not leak, by kind: full names (surname and first name), birth dates (as ISO and
    as DD.MM.YYYY), СНИЛС (bare and formatted)."""
    out: dict[str, set[str]] = {"fio": set(), "birth": set(), "snils": set()}
    with store.read() as tx:
        for p in tx.records.iter(Entity.PUPILS, school_id):
            assert isinstance(p, Pupil)
            out["fio"].add(f"{p.last_name} {p.first_name}")
            out["birth"] |= {p.birth_date.isoformat(), p.birth_date.strftime("%d.%m.%Y")}
            if p.snils:
                s = p.snils
                out["snils"] |= {s, f"{s[:3]}-{s[3:6]}-{s[6:9]} {s[9:]}"}
        for t in tx.records.iter(Entity.TEACHERS, school_id):
            assert isinstance(t, Teacher)
            out["fio"].add(f"{t.last_name} {t.first_name}")
    assert out["fio"] and out["birth"]  # О7 carries no СНИЛС
    return out


def leaks(texts: Iterable[tuple[str, str]], needles: Iterable[str]) -> list[str]:
    found = []
    words = [n for n in needles if n]
    for where, text in texts:
        for n in words:
            if n in text:
                found.append(f"{where}: …{n[:3]}…")
    return found


def store_texts(store: Store) -> Iterator[tuple[str, str]]:
    """Run records, outbox rows, and the reasons and refused values of the conflict queue."""
    meta = MetaData()
    with store.read() as tx:
        meta.reflect(bind=tx.conn, only=["sync_runs", "outbox", "conflicts"])
        for name in ("sync_runs", "outbox"):
            for row in tx.conn.execute(select(meta.tables[name])):
                yield name, json.dumps(dict(row._mapping), default=str, ensure_ascii=False)
        c = meta.tables["conflicts"]
        for row in tx.conn.execute(select(c.c.kind, c.c.status, c.c.detail, c.c.incoming)):
            m = dict(row._mapping)
            if m["status"] == "rejected" or m["kind"] == "invalid_field":
                yield "conflicts", json.dumps(m, default=str, ensure_ascii=False)
            else:
                yield "conflicts", str(m["detail"] or "")


# -- the demo, as `make demo` runs it ------------------------------------------------------------
def test_the_demo_logs_and_records_no_secret_and_no_personal_data(tmp_path: Path) -> None:
    where = tmp_path / "demo"
    cmd = [*_schoolgate(), "--log-format", "json", "--log-level", "debug", "demo"]
    done = subprocess.run(
        [*cmd, "--dir", str(where), "--size", "tiny"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    logs = [ln for ln in done.stderr.splitlines() if ln.startswith("{")]
    assert len(logs) > 50  # debug logs were written
    secrets = ["o7pass", *(base64.b64encode(s.encode()).decode() for s in ("gateway:secret",))]
    secret_values = re.compile(r'": "(secret|o7pass|o7user)"')
    with Store.open(f"sqlite:///{where / 'demo.db'}") as store:
        school_id = next(iter(_schools(store)))
        pii = people(store, school_id)
        assert pii["snils"]
        texts = [("log", ln) for ln in logs] + list(store_texts(store))
        assert not [t for _, t in texts if secret_values.search(t)]
        assert leaks(texts, secrets) == []
        assert leaks(texts, pii["fio"] | pii["birth"] | pii["snils"]) == []
        # the console summary for the operator: no birth date, no СНИЛС
        assert leaks([("stdout", done.stdout)], pii["birth"] | pii["snils"] | set(secrets)) == []


def _schools(store: Store) -> set[str]:
    with store.read() as tx:
        return {r.school_id for r in tx.runs.find(limit=100)}


# -- the fault suite with known secrets -----------------------------------------------------------
@pytest.fixture
def known_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    for system, secret in KNOWN.items():
        monkeypatch.setenv(CREDENTIALS[system][SECRET_VARS[system]], secret)


@pytest.fixture(scope="module")
def dirty_school() -> SchoolData:
    return generate_school(9, "tiny", dirt=Dirt.realistic())


def test_the_fault_suite_leaks_no_secret_and_no_personal_data(
    dirty_school: SchoolData, tmp_path: Path, known_secrets: None
) -> None:
    stream = io.StringIO()
    configure_logging("json", "debug", stream=stream)
    texts: list[tuple[str, str]] = []
    pii: dict[str, set[str]] = {"fio": set(), "birth": set(), "snils": set()}
    try:
        for system in SYSTEMS:
            db = tmp_path / f"{system}.db"
            with served(
                system, dirty_school, f"sqlite:///{db}", rate=0.2, seed=1, secret=KNOWN[system]
            ) as s:
                reports = pull_until_done(s.world, system)
                texts += [(f"{system} run", r.error or "") for r in reports]
                texts += [(f"{system} run", json.dumps(r.counts.as_dict())) for r in reports]
                faults_off(s)
                texts += _reports(s.world, system, tmp_path / system)
                texts += list(store_texts(s.world.store))
                texts += _wrong_password(s.world, system)
                for kind, values in people(s.world.store, dirty_school.school.id).items():
                    pii[kind] |= values
                if system == "es2":
                    texts += _api_answers(s.world.store, dirty_school.school.id)
    finally:
        configure_logging("json", "warning")
    assert pii["snils"]
    log_lines = stream.getvalue().splitlines()
    assert len(log_lines) > 100
    texts += [("log", ln) for ln in log_lines]
    everywhere = set(KNOWN.values())
    assert leaks(texts, everywhere) == []
    assert leaks([t for t in texts if not t[0].startswith("report")], pii["fio"]) == []
    assert leaks(texts, pii["birth"] | pii["snils"]) == []


def _reports(world: Any, system: str, where: Path) -> list[tuple[str, str]]:
    from reports.reconcile import Request, reconcile

    where.mkdir()
    job = jobs.open_job(world.store, world.school_config.setup(system))
    try:
        rid = reconcile(world.store, job, Request()).id
    finally:
        job.close()
    out = []
    for fmt in FORMATS:
        path = write_reconciliation(
            world.store, rid, fmt, where / f"r.{fmt}", tz=zone("Europe/Moscow"), school_name="Ш"
        )
        data = path.read_bytes()
        if fmt == "xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(path)
            text = "\n".join(
                str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value
            )
        else:
            text = data.decode("utf-8-sig")
        out.append((f"report {system} {fmt}", text))
    return out


def _wrong_password(world: Any, system: str) -> list[tuple[str, str]]:
    """A pull with a wrong password: its error names the system, never the password."""
    import os

    var = CREDENTIALS[system][SECRET_VARS[system]]
    right = os.environ[var]
    os.environ[var] = right + "-wrong"
    try:
        job = jobs.open_job(world.store, world.school_config.setup(system))
        try:
            from sync.pull import PullOptions

            report = jobs.pull(world.store, world.config.sync, job, PullOptions(full=True))
        finally:
            job.close()
    finally:
        os.environ[var] = right
    assert report.status == "failed", report.status
    return [(f"{system} auth error", report.error or "")]


def _api_answers(store: Store, school_id: str) -> list[tuple[str, str]]:
    settings = ApiSettings(schools={school_id: SchoolSetup(push_targets={})})
    _, secret = issue(store, name="portal", schools=[school_id], scopes=["feed", "snapshot"])
    _, writer = issue(store, name="journal-app", schools=[school_id], scopes=["journal"])
    out = []
    with serve_in_thread(create_app(store, settings)) as url, httpx.Client(base_url=url) as c:
        auth = {"Authorization": f"Bearer {secret}"}
        for kind in ("pupils", "classes", "lessons", "marks", "attendance", "final_marks"):
            r = c.get(f"/snapshot/v1/{school_id}/{kind}", params={"limit": 5000}, headers=auth)
            out.append((f"api {kind}", r.text))
        out.append(("api feed", c.get("/feed/v1/changes", headers=auth).text))
        with store.read() as tx:
            pupil = next(iter(tx.records.iter(Entity.PUPILS, school_id)))
        assert isinstance(pupil, Pupil)
        # a refused write must not echo what was sent (a name where a mark should be)
        bad = {"items": [{"pupil_id": pupil.id, "value": f"{pupil.last_name} {pupil.first_name}"}]}
        r = c.post(
            f"/journal/v1/{school_id}/marks",
            json=bad,
            headers={"Authorization": f"Bearer {writer}", "Idempotency-Key": "k1"},
        )
        assert r.status_code in (404, 422), r.text
        out.append(("api refusal", r.text))
    return out
