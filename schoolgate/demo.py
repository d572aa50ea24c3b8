"""``make demo``: the whole job on the embedded default, end to end, on loopback.

Starts the three simulators (ES2, АСИОУ, О7) for one generated school, writes a demo
configuration, syncs the school from all three systems into a new SQLite store, enters a few marks
in the local journal, pushes them, and prints what happened: runs, records, conflicts, holds.
Then a few records change on the ES2 simulator (a mark's value, an absence's code, a mark added,
one deleted: :func:`fixtures.generator.mutations.mutate`) and the school is reconciled with ES2;
the reconciliation is written in all four formats under ``<dir>/reports/`` and the paths printed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from core.entities import PULL_ORDER, Entity
from fixtures.generator import generate_school
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.model import Lesson, Mark, Pupil
from schoolgate import runner
from schoolgate.config import GatewayConfig, load_config
from store import OutboxFilter, Paging, Store
from sync.runs import RunReport

SECRETS = {
    "SG_DEMO_ES2_ID": "schoolgate",
    "SG_DEMO_ES2_SECRET": "secret",
    "SG_DEMO_ASIOU_LOGIN": "gateway",
    "SG_DEMO_ASIOU_PASSWORD": "secret",
    "SG_DEMO_O7_LOGIN": "o7user",
    "SG_DEMO_O7_PASSWORD": "o7pass",
}

CONFIG = """\
# Demo configuration written by `schoolgate demo`. Credentials are environment references.
[store]
url = "sqlite:///{db}"

[log]
format = "console"

# the web console lists the backups of this folder (`schoolgate backup` writes there)
[backup]
dir = "{backups}"

# every system pulled on weekdays at 07:00 school time (`schoolgate run`; the console's
# overview shows the next run)
[schedule.defaults."*"]
pull = "0 7 * * 1-5"

[[schools]]
id = "{school}"
name = "МБОУ «Средняя школа № 7» (демо)"
timezone = "Europe/Moscow"

[schools.systems.es2]
base_url = "{es2}"
remote_school = "{es2_school}"
credentials = {{ client_id = {{ env = "SG_DEMO_ES2_ID" }}, client_secret = {{ env = "SG_DEMO_ES2_SECRET" }} }}
options = {{ year_start = "2025-09-01", year_end = "2026-05-31", today = "2025-10-24" }}
entities = {{ marks = {{ direction = "both", conflict = "newer-wins" }}, attendance = {{ direction = "both" }} }}

[schools.systems.asiou]
base_url = "{asiou}"
remote_school = "{asiou_school}"
credentials = {{ login = {{ env = "SG_DEMO_ASIOU_LOGIN" }}, password = {{ env = "SG_DEMO_ASIOU_PASSWORD" }} }}
entities = {{ marks = {{ direction = "both", conflict = "manual" }} }}

[schools.systems.o7]
base_url = "{o7}"
remote_school = "{o7_school}"
credentials = {{ login = {{ env = "SG_DEMO_O7_LOGIN" }}, password = {{ env = "SG_DEMO_O7_PASSWORD" }} }}
options = {{ year_start = "2025-09-01", year_end = "2026-05-31" }}
entities = {{ marks = {{ direction = "both", conflict = "manual" }} }}
"""


@contextlib.contextmanager
def simulators(school: SchoolData) -> Iterator[dict[str, Any]]:
    from fixtures.asiou import Simulator as AsiouSim
    from fixtures.es2 import Simulator as ES2Sim
    from fixtures.o7 import O7Sim, build_data, create_app, school_guid

    es2 = ES2Sim(school)
    asiou = AsiouSim(school, delay=0.3)
    o7 = O7Sim(build_data(school))
    with (
        serve_in_thread(es2.app) as es2_url,
        serve_in_thread(asiou.app) as asiou_url,
        serve_in_thread(create_app(o7)) as o7_url,
    ):
        yield {
            "es2": es2_url,
            "es2_school": str(es2.school_id),
            "asiou": asiou_url,
            "asiou_school": asiou.state.code,
            "o7": o7_url,
            "o7_school": school_guid(school.school.id),
            "sims": (es2, asiou, o7),
        }


def local_marks(store: Store, school_id: str, n: int = 3) -> list[Mark]:
    """A few new marks a teacher enters today, for pupils and lessons of grades 2–11."""
    with store.read() as tx:
        pupils = {
            p.id: p for p in tx.records.iter(Entity.PUPILS, school_id) if isinstance(p, Pupil)
        }
        classes = {c.id: c for c in tx.records.iter(Entity.CLASSES, school_id)}
        lessons = [
            lesson
            for lesson in tx.records.iter(Entity.LESSONS, school_id)
            if isinstance(lesson, Lesson)
            and lesson.subgroup_id is None
            and getattr(classes.get(lesson.class_id), "parallel", 1) > 1
        ]
        marked = {
            (m.pupil_id, m.lesson_id)
            for m in tx.records.iter(Entity.MARKS, school_id)
            if isinstance(m, Mark)
        }
    lessons.sort(key=lambda les: (les.date, les.number), reverse=True)
    out: list[Mark] = []
    for lesson in lessons:
        for pupil in pupils.values():
            if (
                pupil.class_id == lesson.class_id
                and pupil.status == "active"
                and (pupil.id, lesson.id) not in marked
            ):
                out.append(
                    Mark(
                        id=f"demo-mark-{len(out) + 1}",
                        school_id=school_id,
                        pupil_id=pupil.id,
                        lesson_id=lesson.id,
                        value=("5", "4", "4/5")[len(out) % 3],
                        work_type="Ответ на уроке",
                        created_at=dt.datetime.combine(lesson.date, dt.time(9), tzinfo=dt.UTC),
                    )
                )
                break
        if len(out) >= n:
            break
    return out


def run(
    directory: Path, *, size: str = "tiny", seed: int = 7, console: Console | None = None
) -> int:
    from schoolgate.cli._common import console as shared_console

    console = console or shared_console
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    console.rule("[bold]schoolgate demo")
    t0 = time.monotonic()
    school = generate_school(seed, size)
    console.print(
        f"generated school {school.school.id}: {len(school.pupils)} pupils, "
        f"{len(school.classes)} classes, {school.count():,} records ({time.monotonic() - t0:.1f} s)"
    )
    os.environ.update(SECRETS)
    reports: list[RunReport] = []
    with simulators(school) as sims:
        cfg_path = directory / "schoolgate.toml"
        cfg_path.write_text(
            CONFIG.format(
                db=(directory / "demo.db").as_posix(),
                backups=(directory / "backups").as_posix(),
                school=school.school.id,
                **sims,
            ),
            encoding="utf-8",
        )
        console.print(f"simulators: ES2 {sims['es2']}, АСИОУ {sims['asiou']}, О7 {sims['o7']}")
        console.print(f"configuration: {cfg_path}")
        config = load_config(cfg_path)
        store = runner.open_store(config)
        before, after = store.upgrade()
        console.print(f"store: {store.display_url} (revision {before} → {after})")
        sc = config.schools[0]
        for system in ("es2", "asiou", "o7"):
            reports.append(runner.pull(store, config, sc.setup(system)))
        drift(console, school, sims["sims"][0])
        marks = local_marks(store, sc.id)
        written = runner.journal(store, config, sc.id).write(marks, actor="demo-teacher")
        console.print(
            f"local journal: {len(written.accepted)} of {len(marks)} marks entered, "
            f"{written.queued} pushes queued"
            + "".join(f"; refused {r.record_id}: {r.reason}" for r in written.refused)
        )
        for system in ("es2", "asiou", "o7"):
            reports.append(runner.push(store, sc.setup(system)))
        time.sleep(0.5)  # АСИОУ answers its receipts later
        reports.append(runner.push(store, sc.setup("asiou")))
        summary(console, store, sc.id, reports, [m.id for m in marks])
        written_reports = reconciliation(console, store, config, directory)
        backup(console, config)
    console.print(
        f"[green]demo finished in {time.monotonic() - t0:.1f} s[/]; store: {directory / 'demo.db'}"
    )
    console.print("reports:")
    for path in written_reports:
        console.print(f"  {path}", highlight=False)
    return 1 if any(r.status == "failed" for r in reports) else 0


#: records changed on the ES2 simulator before the demo's reconciliation
DRIFT = 6


def drift(console: Console, school: SchoolData, es2: Any) -> None:
    """A few records change on the ES2 simulator after the school was synced from it (before
    the demo's own pushes, so that the simulator's new ids do not meet the pushed marks')."""
    from fixtures.generator.mutations import mutate

    changed, changes = mutate(school, 11, changes=DRIFT)
    es2.clock.advance(hours=1)
    es2.sync_to(changed)
    console.print(
        f"changed on the ES2 simulator after the sync: {len(changes)} records ("
        + ", ".join(f"{c.entity.value} {c.op}" for c in changes.changes)
        + ")",
        highlight=False,
    )


def reconciliation(
    console: Console,
    store: Store,
    config: GatewayConfig,
    directory: Path,
) -> list[Path]:
    """Reconcile the school with ES2 and write the report in every format, and the printed
    journal of one class; returns the files."""
    from reports.reconcile import Request, reconcile
    from reports.reconcile.output import FORMATS, write_reconciliation
    from reports.reconcile.view import ReconciliationView
    from reports.text import zone
    from sync import jobs

    sc = config.schools[0]
    console.rule("[bold]reconciliation with ES2")
    job = jobs.open_job(store, sc.setup("es2"))
    try:
        outcome = reconcile(store, job, Request())
    finally:
        job.close()
    tz = zone(sc.timezone)
    out = directory / "reports"
    paths = [
        write_reconciliation(
            store, outcome.id, fmt, out / f"reconciliation-es2.{fmt}", tz=tz, school_name=sc.name
        )
        for fmt in FORMATS
    ]
    with store.read() as tx:
        rec = tx.queries.reconciliation(outcome.id)
        assert rec is not None
        view = ReconciliationView(tx, rec, tz=tz, school_name=sc.name)
        for line in view.lines():
            console.print(line, highlight=False)
        roster = tx.queries.roster(sc.id)
    # the printed journal of the first class that takes marks, for its first period
    classes = sorted((c for c in roster.classes.values() if c.parallel > 1),
                     key=lambda c: (c.parallel, c.name))  # fmt: skip
    if classes:
        periods = sorted((p for p in roster.periods.values() if classes[0].parallel in p.parallels),
                         key=lambda p: p.start)  # fmt: skip
        if periods:
            from reports.journal_print import write_journal

            page = out / f"journal-{classes[0].name}.html"
            write_journal(store, sc.id, classes[0].name, periods[0].name, "html", page, tz=tz,
                          school_name=sc.name)  # fmt: skip
            paths.append(page)
            # the deputy director's journal control for the same period
            from reports.control import write_control
            from schoolgate.runner import deadlines_of

            for fmt in ("html", "xlsx"):
                control = out / f"control.{fmt}"
                write_control(store, sc.id, fmt, control, period=periods[0].name,
                              settings=config.control, deadlines=deadlines_of(config, sc.id),
                              tz=tz, school_name=sc.name)  # fmt: skip
                paths.append(control)
    return paths


def backup(console: Console, config: GatewayConfig) -> Path | None:
    """A backup of the demo store into ``[backup] dir`` (the console's «Резервные копии»)."""
    from ops.backup import make_backup

    if config.backup.dir is None:
        return None
    made = make_backup(config.store.url, config.backup.dir)
    console.print(f"backup: {made}", highlight=False)
    return made


def summary(
    console: Console,
    store: Store,
    school_id: str,
    reports: list[RunReport],
    entered: list[str],
) -> None:
    from schoolgate.cli.sync_cmd import print_reports

    print_reports(reports)
    with store.read() as tx:
        table = Table("entity", "records in the store", title="journal store")
        for entity in PULL_ORDER:
            table.add_row(entity.value, f"{tx.records.count(entity, school_id=school_id):,}")
        console.print(table)
        findings = tx.queries.conflict_totals(school_id, by=("status", "kind"))
        queues = tx.queries.queue_totals(school_id)
        outbox = tx.queries.outbox_totals(school_id, by=("system", "status"))
        mine_items = tx.queries.outbox(
            OutboxFilter(school_id=school_id, record_ids=entered), Paging(1000)
        ).items
    ctable = Table("status", "kind", "count", title="conflict queue")
    for (status, kind), n in sorted(findings.items()):
        ctable.add_row(status, kind, str(n))
    console.print(ctable)
    console.print(
        f"holds: {sum(queues['holds'].values())}; "
        f"identity reviews: {sum(queues['reviews'].values())}"
    )
    otable = Table(
        "system", "status", "pushes", title="outbox (duplicate: the system already held it)"
    )
    for (system, status), n in sorted(outbox.items()):
        otable.add_row(system, status, str(n))
    console.print(otable)
    mine = Table(
        "mark", "system", "status", "remote id", "error", title="the marks entered in the demo"
    )
    for o in sorted(mine_items, key=lambda o: (o.record_id, o.system)):
        mine.add_row(o.record_id, o.system, o.status, o.remote_id or "", o.error or "")
    console.print(mine)


def serve_console(directory: Path, *, port: int = 8080, console: Console | None = None) -> None:
    """Leave the web console running on the demo store, with a demo administrator and deputy
    director whose passwords are printed (new ones each time)."""
    import uvicorn

    from console import users
    from schoolgate.cli._common import console as shared_console
    from schoolgate.cli.serve_cmd import api_settings, build_app

    console = console or shared_console
    os.environ.update(SECRETS)
    config = load_config(directory / "schoolgate.toml")
    store = runner.open_store(config)
    school = config.schools[0].id
    made = []
    for login, role, name in (
        ("demo-admin", "admin", "Администратор (демо)"),
        ("demo-deputy", "deputy", "Заместитель директора (демо)"),
    ):
        with store.read() as tx:
            exists = tx.console.user(login) is not None
        if exists:
            _, secret = users.reset_password(store, login, by="demo")
        else:
            _, secret = users.create_user(
                store, login=login, name=name, role=role, schools=[school], by="demo"
            )
        made.append((login, secret))
    console.rule("[bold]web console")
    console.print(f"open http://127.0.0.1:{port}/console/ and sign in:")
    for login, secret in made:
        console.print(f"  {login}  password: {secret}", highlight=False)
    console.print("Ctrl-C stops it.")
    app = build_app(config, store, api_settings(config), secure=True)
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        store.close()
