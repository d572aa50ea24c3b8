"""Full-year О7 pull of the large school through 31-day windows, to canonical records.

The simulator runs in its own process on 127.0.0.1 with no faults. Each measurement runs in a
fresh child process so that its peak RSS is its own:

* ``connector``: every entity through ``O7Connector`` (session, windows per class) and
  ``mapping.o7`` (names resolved through an index built from the pull's own teachers, subjects
  and subgroups) → canonical records, counted then discarded;
* ``raw``: the same RPC calls (login, classes, subperiods, per class pupils and period marks,
  per class and window lessons, marks, absences) with plain httpx and ``json`` only — the limit.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from contextlib import AbstractContextManager
from typing import Any

import httpx

from bench import Row, peak_rss_mb
from bench._server import in_child, served

SEED = 1
SIZE = "large"
LOGIN = {"login_login": "o7user", "login_password": "o7pass"}
SERVER = (
    "import sys; from fixtures.o7 import build_app; from fixtures.serve import serve_forever; "
    "serve_forever(build_app(seed=int(sys.argv[1]), size=sys.argv[2], fault_rate=0.0), "
    "port=int(sys.argv[3]))"
)


def simulator(size: str) -> AbstractContextManager[str]:
    return served(
        SERVER,
        str(SEED),
        size,
        ready=lambda url: httpx.post(f"{url}/auth/login", data=LOGIN, timeout=2),
    )


def _school() -> str:
    from fixtures.o7 import school_guid

    return school_guid("sch1")


def _year(http: httpx.Client, school: str) -> tuple[dt.date, dt.date]:
    subperiods = http.post("/api/SchoolService/GetSubperiods", json={"school_id": school}).json()
    days = [
        dt.datetime.strptime(p[k], "%d.%m.%Y").date()
        for p in subperiods["subperiods"]
        for k in ("date_from", "date_to")
    ]
    return min(days), max(days)


def measure_connector(url: str) -> dict[str, Any]:
    from pydantic import SecretStr

    from connectors.o7 import O7Connector, O7Session
    from core.entities import Entity
    from mapping.model import Subgroup
    from mapping.o7 import NameIndex, O7Context, map_records
    from mapping.profile import load_profile

    profile = load_profile("o7")
    client = httpx.Client(base_url=url, timeout=httpx.Timeout(60.0, connect=10.0))
    session = O7Session(
        client, login=LOGIN["login_login"], password=SecretStr(LOGIN["login_password"])
    )
    session.login()
    start, end = _year(client, _school())
    conn = O7Connector(session, school_id=_school(), year_start=start, year_end=end)
    count = errors = 0
    t0 = time.perf_counter()
    ctx = O7Context(profile, "sch1", f"{start.year}/{end.year}")
    derived: dict[Entity, list[Any]] = {}
    for entity in (Entity.TEACHERS, Entity.SUBJECTS):
        for page in conn.pull(entity, None):
            good, bad = map_records(entity, page.records, ctx)
            derived[entity] = good
            count, errors = count + len(good), errors + len(bad)
    ctx = O7Context(
        profile,
        "sch1",
        ctx.year,
        NameIndex.from_roster(teachers=derived[Entity.TEACHERS], subjects=derived[Entity.SUBJECTS]),
    )
    for page in conn.pull(Entity.SUBGROUPS, None):
        good, bad = map_records(Entity.SUBGROUPS, page.records, ctx)
        count, errors = count + len(good), errors + len(bad)
        ctx = O7Context(
            profile,
            "sch1",
            ctx.year,
            NameIndex.from_roster(
                teachers=derived[Entity.TEACHERS],
                subjects=derived[Entity.SUBJECTS],
                subgroups=[g for g in good if isinstance(g, Subgroup)],
            ),
        )
    for entity in (
        Entity.PERIODS,
        Entity.CLASSES,
        Entity.PUPILS,
        Entity.LESSONS,
        Entity.MARKS,
        Entity.FINAL_MARKS,
        Entity.ATTENDANCE,
    ):
        for page in conn.pull(entity, None):
            good, bad = map_records(entity, page.records, ctx)
            count, errors = count + len(good), errors + len(bad)
    seconds = time.perf_counter() - t0
    conn.close()
    client.close()
    return {
        "records": count,
        "errors": errors,
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
        "logins": session.login_requests,
    }


def measure_raw(url: str) -> dict[str, Any]:
    from connectors.o7 import year_windows

    count = 0
    school = _school()
    with httpx.Client(base_url=url, timeout=httpx.Timeout(60.0, connect=10.0)) as http:
        http.post("/auth/login", data=LOGIN)
        start, end = _year(http, school)
        t0 = time.perf_counter()

        def call(method: str, body: dict[str, Any], key: str) -> list[Any]:
            items: list[Any] = json.loads(http.post(f"/api/{method}", json=body).content)[key]
            return items

        count += len(call("SchoolService/GetSubperiods", {"school_id": school}, "subperiods"))
        classes = call("SchoolService/GetClasses", {"school_id": school}, "classes")
        count += len(classes)
        windows = year_windows(start, end)
        for c in classes:
            cid = {"class_id": c["class_id"]}
            count += len(call("PupilService/GetPupils", cid, "pupils"))
            count += len(call("MarkService/GetTotalMarks", cid, "period_marks"))
            for w in windows:
                body = {**cid, **w.wire()}
                count += len(call("ScheduleService/GetLessons", body, "lessons"))
                count += len(call("MarkService/GetMarks", body, "marks"))
                count += len(call("AttendanceService/GetAbsences", body, "absences"))
    return {
        "records": count,
        "errors": 0,
        "seconds": time.perf_counter() - t0,
        "peak_mb": peak_rss_mb(),
    }


def _child(kind: str, url: str) -> dict[str, Any]:
    return in_child("bench.o7_pull", kind, url)


def run() -> list[Row]:
    with simulator(SIZE) as url:
        raw = _child("raw", url)
        conn = _child("connector", url)
    rate = conn["records"] / conn["seconds"]
    raw_rate = raw["records"] / raw["seconds"]
    return [
        Row(
            entry="o7_pull",
            metric=f"full-year pull {SIZE} through 31-day windows: records/s",
            value=rate,
            unit="rec/s",
            limit=raw_rate,
            limit_label="same RPC calls, httpx + json",
            note=f"{conn['records']:,} canonical records (+ derived names), {conn['errors']} "
            f"mapping errors, {conn['seconds']:.1f} s, {conn['logins']} login(s); raw "
            f"{raw['records']:,} items in {raw['seconds']:.1f} s",
            ok=conn["errors"] == 0 and conn["logins"] == 1,
        ),
        Row(
            entry="o7_pull",
            metric=f"peak RSS {SIZE}",
            value=conn["peak_mb"],
            unit="MB",
            limit=raw["peak_mb"],
            limit_label="raw reader",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("raw", "connector"):
        fn = measure_raw if sys.argv[1] == "raw" else measure_connector
        print(json.dumps(fn(sys.argv[2])))
    else:
        for row in run():
            print(json.dumps(row.to_json(), ensure_ascii=False))
