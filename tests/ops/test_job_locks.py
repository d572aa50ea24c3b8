"""The job lock and the job rows in the store, on SQLite and PostgreSQL: one atomic acquire that
only one of many racing workers wins, expiry a killed holder cannot outlive, no pile-up, tickets."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from store import JobKey, Store

TTL = dt.timedelta(seconds=30)
T0 = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
KEY = JobKey("sch1", "es2", "pull")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    s = Store.open(url)
    s.upgrade()
    try:
        yield s
    finally:
        s.close()


def acquire(store: Store, holder: str, now: dt.datetime = T0, system: str = "es2") -> bool:
    with store.begin() as tx:
        return tx.jobs.acquire("sch1", system, holder=holder, direction="pull", ttl=TTL, now=now)


def test_one_of_many_racing_workers_gets_the_lock(store: Store) -> None:
    barrier = threading.Barrier(8)
    won: list[str] = []

    def race(i: int) -> None:
        barrier.wait()
        if acquire(store, f"w{i}", dt.datetime.now(dt.UTC)):
            won.append(f"w{i}")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(won) == 1
    with store.read() as tx:
        lock = tx.jobs.lock("sch1", "es2")
    assert lock is not None and lock.holder == won[0]


def test_a_lapsed_lock_is_taken_over_and_its_old_holder_loses_it(store: Store) -> None:
    assert acquire(store, "a")
    assert not acquire(store, "b", T0 + TTL - dt.timedelta(seconds=1))  # still a's
    assert acquire(store, "a", T0 + dt.timedelta(seconds=5))  # the holder may take it again
    with store.begin() as tx:  # a's heartbeat keeps it
        assert tx.jobs.renew("sch1", "es2", holder="a", ttl=TTL, now=T0 + dt.timedelta(seconds=20))
    assert not acquire(store, "b", T0 + TTL + dt.timedelta(seconds=1))
    # a stops beating (killed): once its time is out, b takes over
    assert acquire(store, "b", T0 + dt.timedelta(seconds=51))
    with store.begin() as tx:
        assert not tx.jobs.renew("sch1", "es2", holder="a", ttl=TTL)
        assert not tx.jobs.release("sch1", "es2", holder="a")
        assert tx.jobs.release("sch1", "es2", holder="b")
    assert acquire(store, "c", T0)


def test_locks_are_per_school_and_system(store: Store) -> None:
    assert acquire(store, "a", system="es2")
    assert acquire(store, "b", system="o7")


def test_expired_locks_are_found_and_dropped_unless_taken_over(store: Store) -> None:
    acquire(store, "a")
    later = T0 + TTL + dt.timedelta(seconds=1)
    with store.begin() as tx:
        [lapsed] = tx.jobs.expired(later)
        assert lapsed.holder == "a"
    acquire(store, "b", later)  # someone takes it over meanwhile
    with store.begin() as tx:
        assert not tx.jobs.drop_expired(lapsed)
        assert tx.jobs.lock("sch1", "es2") is not None


def test_a_job_is_not_queued_twice(store: Store) -> None:
    with store.begin() as tx:
        ticket = tx.jobs.enqueue(KEY, reason="schedule", now=T0)
        assert ticket is not None
        assert tx.jobs.enqueue(KEY, reason="schedule", now=T0) is None
        assert tx.jobs.enqueue(JobKey("sch1", "es2", "push"), reason="outbox") is not None
        assert tx.jobs.start(KEY, "another ticket") is None
        job = tx.jobs.start(KEY, ticket)
        assert job is not None and job.state == "running"
        assert tx.jobs.start(KEY, ticket) is None  # a duplicate message while it runs
        assert tx.jobs.enqueue(KEY, reason="schedule") is None  # running: still no pile-up
        assert tx.jobs.finish(KEY, ticket)
        assert tx.jobs.enqueue(KEY, reason="schedule") is not None


def test_retry_and_requeue_hand_out_tickets(store: Store) -> None:
    with store.begin() as tx:
        first = tx.jobs.enqueue(KEY, reason="schedule", now=T0)
        assert first is not None and tx.jobs.start(KEY, first)
        second = tx.jobs.retry(KEY, first, not_before=T0 + TTL, error="boom")
        assert second is not None and second != first
        job = tx.jobs.job(KEY)
        assert job is not None and job.attempts == 1 and job.state == "waiting"
        assert job.last_error == "boom" and job.not_before == T0 + TTL
        assert tx.jobs.start(KEY, first) is None  # the old message is stale
        assert tx.jobs.start(KEY, second) is not None


def test_orphans_are_running_jobs_without_a_lock_and_waiting_jobs_left_too_long(
    store: Store,
) -> None:
    run_key, wait_key = KEY, JobKey("sch2", "es2", "pull")
    with store.begin() as tx:
        t1 = tx.jobs.enqueue(run_key, reason="schedule", now=T0)
        assert t1 is not None
        tx.jobs.start(run_key, t1, now=T0)
        tx.jobs.enqueue(wait_key, reason="schedule", now=T0)
        tx.jobs.acquire("sch1", "es2", holder="a", direction="pull", ttl=TTL, now=T0)
    later = T0 + dt.timedelta(minutes=5)
    with store.begin() as tx:  # the running job's worker holds its lock: not an orphan
        found = tx.jobs.orphans(running_before=later, waiting_before=T0)
        assert found == []
        tx.jobs.release("sch1", "es2", holder="a")  # (its lock lapsed and was dropped)
        found = tx.jobs.orphans(running_before=later, waiting_before=later)
        assert sorted(j.key for j in found) == [run_key, wait_key]
        by_key = {j.key: j for j in found}
        new = tx.jobs.requeue(by_key[run_key], reason="recovered")
        assert new is not None and new != t1  # a dead worker's message is gone: new ticket
        same = tx.jobs.requeue(by_key[wait_key], reason="recovered")
        assert same == by_key[wait_key].ticket  # a waiting one keeps its place
