"""One message run by the executor and the scheduler's passes, on a real store: tickets, the
lock, retries with backoff, blackouts, a clean stop, no pile-up, outbox polling, the reaper."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from ops.schedule import Blackout, JobSchedule, ScheduleSettings
from ops.scheduler import Scheduler
from ops.worker import Executor, Interrupted
from store import JobKey, Store
from sync.runs import RunReport

KEY = JobKey("sch1", "es2", "pull")
PUSH = JobKey("sch1", "es2", "push")
SETTINGS = ScheduleSettings(retries=2, retry_base_seconds=60, lock_ttl_seconds=30)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    s.upgrade()
    try:
        yield s
    finally:
        s.close()


@dataclass
class Jobs:
    """The job function the executor is given: it records each call and ends as told."""

    status: str = "success"
    pages: int = 1
    calls: list[JobKey] = field(default_factory=list)
    on_page: Callable[[], None] | None = None

    def __call__(self, key: JobKey, check: Callable[[], None]) -> RunReport:
        self.calls.append(key)
        report = RunReport(key.school_id, key.system, key.direction)
        try:
            for _ in range(self.pages):
                if self.on_page:
                    self.on_page()
                check()
        except Interrupted as exc:
            report.status, report.error = "failed", f"Interrupted: {exc}"
            return report
        report.status = self.status
        report.error = "ES2 answered 503" if self.status == "failed" else None
        return report


@dataclass
class Sent:
    messages: list[tuple[JobKey, str, dt.datetime | None]] = field(default_factory=list)

    def __call__(self, key: JobKey, ticket: str, at: dt.datetime | None) -> None:
        self.messages.append((key, ticket, at))


def make(store: Store, jobs: Jobs, blackout: Blackout | None = None) -> tuple[Executor, Sent]:
    sent = Sent()
    sched = JobSchedule("0 7 * * *", dt.UTC, blackout=blackout)
    ex = Executor(store, jobs, sent, SETTINGS, lambda k: sched, holder="test")
    return ex, sent


def enqueue(store: Store, key: JobKey = KEY) -> str:
    with store.begin() as tx:
        ticket = tx.jobs.enqueue(key, reason="schedule")
    assert ticket is not None
    return ticket


def row(store: Store, key: JobKey = KEY) -> object:
    with store.read() as tx:
        return tx.jobs.job(key)


def test_a_job_runs_once_and_leaves_the_queue(store: Store) -> None:
    jobs = Jobs()
    ex, sent = make(store, jobs)
    ticket = enqueue(store)
    assert ex(KEY, ticket).result == "done"
    assert ex(KEY, ticket).result == "stale"  # the same message again: nothing
    assert jobs.calls == [KEY] and sent.messages == []
    assert row(store) is None
    with store.read() as tx:
        assert tx.jobs.lock("sch1", "es2") is None  # released


def test_a_job_whose_lock_is_taken_waits(store: Store) -> None:
    jobs = Jobs()
    ex, sent = make(store, jobs)
    ticket = enqueue(store)
    with store.begin() as tx:
        assert tx.jobs.acquire(
            "sch1", "es2", holder="other", direction="push", ttl=dt.timedelta(minutes=1)
        )
    out = ex(KEY, ticket)
    assert out.result == "busy" and jobs.calls == []
    [(key, again, at)] = sent.messages
    assert key == KEY and again == ticket and at is not None
    job = row(store)
    assert getattr(job, "state", None) == "waiting"


def test_a_failed_job_is_retried_with_backoff_then_given_up(store: Store) -> None:
    jobs = Jobs(status="failed")
    ex, sent = make(store, jobs)
    ticket = enqueue(store)
    before = dt.datetime.now(dt.UTC)
    assert ex(KEY, ticket).result == "retry"
    [(_, second, at)] = sent.messages
    assert at is not None and dt.timedelta(seconds=59) < at - before < dt.timedelta(seconds=62)
    assert ex(KEY, ticket).result == "stale"  # the first message is spent
    assert ex(KEY, second).result == "retry"
    _, third, at2 = sent.messages[-1]
    assert at2 is not None and at2 - before > dt.timedelta(seconds=119)  # doubled
    assert ex(KEY, third).result == "gave-up"  # retries = 2
    assert row(store) is None and len(jobs.calls) == 3


def test_a_job_in_its_systems_blackout_waits_for_the_window_to_end(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    start = (now - dt.timedelta(minutes=2)).strftime("%H:%M")
    end = (now + dt.timedelta(minutes=3)).strftime("%H:%M")
    jobs = Jobs()
    ex, sent = make(store, jobs, Blackout(start=start, end=end))
    ticket = enqueue(store)
    assert ex(KEY, ticket).result == "deferred"
    assert jobs.calls == []
    [(_, _later, at)] = sent.messages
    assert at is not None and at.strftime("%H:%M") == end and at > now
    job = row(store)
    assert getattr(job, "attempts", None) == 0  # waiting is not a failure


def test_a_stopping_worker_checkpoints_the_pull_and_queues_it_again(store: Store) -> None:
    stopping = threading.Event()
    jobs = Jobs(pages=5, on_page=lambda: stopping.set() if len(jobs.calls) else None)
    ex, sent = make(store, jobs)
    ex.stopping = stopping
    ticket = enqueue(store)
    assert ex(KEY, ticket).result == "interrupted"
    [(_, again, _at)] = sent.messages
    job = row(store)
    assert getattr(job, "ticket", None) == again and getattr(job, "attempts", None) == 0
    with store.read() as tx:
        assert tx.jobs.lock("sch1", "es2") is None


def test_a_stopping_worker_finishes_a_push(store: Store) -> None:
    stopping = threading.Event()
    stopping.set()
    jobs = Jobs(pages=3)
    ex, _sent = make(store, jobs)
    ex.stopping = stopping
    assert ex(PUSH, enqueue(store, PUSH)).result == "done"


# -- the scheduler ------------------------------------------------------------------------------
def scheduler(
    store: Store, holder: str = "s1", cron: str = "* * * * * *"
) -> tuple[Scheduler, Sent]:
    sent = Sent()
    schedules = {KEY: JobSchedule(cron, dt.UTC), PUSH: JobSchedule(None, dt.UTC)}
    return Scheduler(store, sent, SETTINGS, schedules, holder=holder), sent


def test_a_tick_queues_what_is_due_and_never_piles_up(store: Store) -> None:
    sch, sent = scheduler(store)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    assert sch.tick(now) == [KEY]
    assert sch.tick(now + dt.timedelta(seconds=2)) == []  # still waiting: not queued again
    assert [m[0] for m in sent.messages] == [KEY]


def test_one_scheduler_leads(store: Store) -> None:
    a, _ = scheduler(store, "a")
    b, _ = scheduler(store, "b")
    now = dt.datetime.now(dt.UTC)
    assert a.lead(now) and not b.lead(now)


def test_pushes_due_in_the_outbox_queue_the_schools_push(store: Store) -> None:
    sch, _sent = scheduler(store)
    now = dt.datetime.now(dt.UTC)
    assert sch.poll_outbox(now) == []
    with store.begin() as tx:
        tx.outbox.enqueue("sch1", "es2", "marks", "m1", "upsert", "k1", {"value": "5"})
    assert sch.poll_outbox(now + dt.timedelta(seconds=1)) == [PUSH]
    assert sch.poll_outbox(now + dt.timedelta(seconds=2)) == []  # queued already


def test_the_reaper_sends_again_a_job_whose_worker_died(store: Store) -> None:
    sch, sent = scheduler(store)
    ticket = enqueue(store)
    t0 = dt.datetime.now(dt.UTC)
    with store.begin() as tx:  # a worker took it and was killed: its lock stops being renewed
        tx.jobs.start(KEY, ticket, t0)
        tx.jobs.acquire("sch1", "es2", holder="dead", direction="pull",
                        ttl=dt.timedelta(seconds=30), now=t0)  # fmt: skip
    assert sch.reap(t0 + dt.timedelta(seconds=10)) == []  # its lock is still good
    assert sch.reap(t0 + dt.timedelta(seconds=31)) == [KEY]
    [(key, new, _)] = sent.messages
    assert key == KEY and new != ticket
    jobs = Jobs()
    ex, _ = make(store, jobs)
    assert ex(KEY, ticket).result == "stale" and ex(KEY, new).result == "done"
