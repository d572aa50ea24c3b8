"""The configured gateway as jobs: which jobs there are, when they run (the ``[schedule]`` table
read with the schools' zones and jitter), the queue settings, and what ``status`` gathers per
school × system."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from typer.testing import CliRunner

from core.errors import ConfigError
from ops.status import gather
from schoolgate import service
from schoolgate.cli import app
from schoolgate.config import parse_config
from store import JobKey, Store


def cfg(schedule: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    system = {"base_url": "http://127.0.0.1:1", "remote_school": "42"}
    return {
        "schools": [
            {
                "id": "a",
                "name": "A",
                "timezone": "Asia/Novokuznetsk",
                "systems": {
                    "es2": system
                    | {
                        "entities": {
                            "marks": {"direction": "both"},
                            "lessons": {"direction": "off"},
                        }
                    },
                    "o7": system | {"entities": {e: {"direction": "off"} for e in ENTITIES}},
                    "asiou": system | {"schedule": "0 9 * * *"},
                },
            },
            {"id": "b", "name": "B", "systems": {"es2": system}},
        ],
        "schedule": schedule or {},
        **extra,
    }


ENTITIES = ["periods", "subjects", "teachers", "classes", "pupils", "subgroups", "lessons",
            "marks", "final_marks", "attendance", "enrolments"]  # fmt: skip


def test_jobs_follow_the_directions_configured() -> None:
    config = parse_config(cfg())
    assert service.job_keys(config) == [
        JobKey("a", "es2", "pull"),
        JobKey("a", "es2", "push"),
        JobKey("a", "asiou", "pull"),
        JobKey("b", "es2", "pull"),
    ]  # О7 with every entity off has no job


def test_schedules_read_in_the_schools_zone_with_its_jitter() -> None:
    config = parse_config(cfg({"jitter_minutes": 30, "defaults": {"*": {"pull": "0 7 * * *"}}}))
    s = service.schedule_of(config, JobKey("a", "es2", "pull"))
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    first = s.next_run(now)
    assert first is not None
    local = first.astimezone(s.tz)
    assert local.hour == 7 and dt.timedelta(minutes=local.minute) < dt.timedelta(minutes=30)
    assert service.schedule_of(config, JobKey("a", "asiou", "pull")).cron == "0 9 * * *"
    assert service.schedule_of(config, JobKey("a", "es2", "push")).cron is None
    other = service.schedule_of(config, JobKey("b", "es2", "pull")).next_run(now)
    assert other is not None and other != first  # another school, another zone and offset


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"schedule": {"schools": {"zz": {}}}}, "schedule"),
        ({"schedule": {"schools": {"b": {"o7": {"pull": "0 7 * * *"}}}}}, "schedule"),
        ({"queue": {"url": "http://127.0.0.1:6379"}}, "queue.url"),
        ({"schedule": {"defaults": {"es2": {"pull": "nonsense"}}}}, "schedule.defaults.es2.pull"),
    ],
)
def test_configuration_mistakes_name_their_key(data: dict[str, Any], key: str) -> None:
    base = cfg()
    base.pop("schedule")
    with pytest.raises(ConfigError) as err:
        parse_config(base | data)
    # a field names its key; a cross-check of schools names it in its message
    assert (err.value.key or "").startswith(key) or key in str(err.value)


def test_worker_without_a_redis_queue_is_an_error(tmp_path: Any) -> None:
    path = tmp_path / "schoolgate.toml"
    db = tmp_path / "s.db"
    path.write_text(
        f'[store]\nurl = "sqlite:///{db}"\n[[schools]]\nid = "a"\nname = "A"\n'
        '[schools.systems.es2]\nbase_url = "http://127.0.0.1:1"\nremote_school = "42"\n',
        encoding="utf-8",
    )
    with Store.open(f"sqlite:///{db}") as s:
        s.upgrade()
    result = CliRunner().invoke(app, ["worker", "--config", str(path)])
    assert result.exit_code == 2
    assert "queue.url" in result.output


def test_status_gathers_per_school_and_system(sqlite_url: str) -> None:
    config = parse_config(cfg({"defaults": {"es2": {"pull": "0 7 * * *"}}}))
    store = Store.open(sqlite_url)
    store.upgrade()
    with store.begin() as tx:
        run = tx.runs.start("a", "es2", "pull")
        tx.runs.finish(run, "partial", {"marks": {"created": 5, "rejected": 1}})
        tx.outbox.enqueue("a", "es2", "marks", "m1", "upsert", "k1", {})
        tx.outbox.enqueue("a", "es2", "marks", "m2", "upsert", "k2", {})
        [item] = tx.outbox.claim("a", "es2", limit=1)
        tx.holds.add("b", "es2", "mass deactivation", {})
        tx.jobs.enqueue(JobKey("a", "es2", "push"), reason="outbox")
        tx.jobs.acquire("a", "es2", holder="vm:1:x", direction="push",
                        ttl=dt.timedelta(minutes=1))  # fmt: skip
    with store.read() as tx:
        rows = {(r.school_id, r.system): r for r in gather(tx, service.schedules(config), NOW)}
    a = rows[("a", "es2")]
    assert a.last["pull"].status == "partial"
    assert a.last["pull"].counts == {"created": 5, "rejected": 1}
    assert a.next["pull"] is not None and a.next["push"] is None
    assert a.pushes_pending == 2 and a.pushes_failed == 0  # one pending, one sending
    assert [q.direction for q in a.queued] == ["push"] and a.running_direction == "push"
    assert rows[("b", "es2")].holds == 1
    assert rows[("a", "asiou")].last == {}
    assert item.status == "sending"
    payload = a.as_json()
    assert payload["last"]["pull"]["status"] == "partial"
    assert isinstance(payload["next"]["pull"], str)
    store.close()


NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
