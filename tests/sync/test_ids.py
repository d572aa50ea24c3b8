"""Gateway ids are version-7 UUIDs, unique, and sort in the order they were minted."""

from __future__ import annotations

import threading
import uuid

from sync.ids import new_gid, new_gids


def test_ids_are_uuid7_hex() -> None:
    gid = new_gid()
    assert len(gid) == 32
    parsed = uuid.UUID(hex=gid)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_ids_sort_in_minting_order_and_never_repeat() -> None:
    ids = [new_gid() for _ in range(50_000)]  # many fall in the same millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_from_many_threads_are_distinct() -> None:
    out: list[list[str]] = [[] for _ in range(4)]

    def mint(bucket: list[str]) -> None:
        bucket.extend(new_gid() for _ in range(5_000))

    threads = [threading.Thread(target=mint, args=(b,)) for b in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [g for b in out for g in b]
    assert len(set(every)) == len(every)
    for bucket in out:
        assert bucket == sorted(bucket)


def test_a_batch_follows_what_came_before_and_precedes_what_comes_after() -> None:
    before = new_gid()
    batch = new_gids(10_000)
    after = new_gid()
    assert [before, *batch, after] == sorted([before, *batch, after])
    assert len(set(batch)) == len(batch)
    assert all(uuid.UUID(hex=g).version == 7 for g in batch[:100])
    assert new_gids(0) == []
