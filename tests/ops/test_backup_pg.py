"""Backups of a PostgreSQL store: ``pg_dump`` of the store's schema in the snapshot the manifest
counts were read in, taken while a writer commits, restored into another fresh schema — equal to
the original row by row once the writer has stopped; a damaged dump or a non-empty target is
refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.school import SchoolData
from ops.backup import BackupError, make_backup, read_manifest, restore
from store import Store
from tests.ops.conftest import Writer, all_rows, synced_world

pytestmark = pytest.mark.postgres


def test_round_trip_into_another_schema_equals_the_original(
    pg_url: str, pg_url_2: str, tmp_path: Path, tiny_school: SchoolData, secrets: None
) -> None:
    synced_world(pg_url, tiny_school).store.close()
    before = all_rows(pg_url)
    store = Store.open(pg_url)
    with Writer(store, tiny_school.school.id) as writer:
        writer.wait_for(2)
        started = writer.batches
        live = make_backup(pg_url, tmp_path / "out")
        writer.wait_for(writer.batches + 1)
        assert writer.batches > started
    store.close()
    final = all_rows(pg_url)
    manifest = read_manifest(live)
    assert manifest.store_kind == "postgresql" and manifest.schema is not None
    assert (live / "store.pgdump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    written = manifest.tables["marks"] - len(before["marks"])
    assert written > 0 and written % Writer.BATCH == 0  # the snapshot holds whole commits
    assert manifest.tables["marks"] < len(final["marks"])

    quiet = make_backup(pg_url, tmp_path / "out")
    restored = restore(quiet, pg_url_2)
    assert restored.counts == read_manifest(quiet).tables
    assert all_rows(pg_url_2) == final
    with Store.open(pg_url_2) as copy:
        assert copy.revision() == copy.head()
        with copy.begin() as tx:  # the restored store takes writes: sequences came along
            tx.runs.start(tiny_school.school.id, "es2", "pull")


def test_the_copy_taken_during_writes_restores_to_its_manifest(
    pg_url: str, pg_url_2: str, tmp_path: Path, tiny_school: SchoolData, secrets: None
) -> None:
    synced_world(pg_url, tiny_school).store.close()
    store = Store.open(pg_url)
    with Writer(store, tiny_school.school.id) as writer:
        writer.wait_for(2)
        live = make_backup(pg_url, tmp_path / "out")
        writer.wait_for(writer.batches + 2)
    store.close()
    restored = restore(live, pg_url_2)  # verifies every table's rows against the manifest
    final = all_rows(pg_url)
    rows = all_rows(pg_url_2)
    for table in ("marks", "change_log", "identity_map"):
        assert set(rows[table]) <= set(final[table]), table
    assert restored.counts["marks"] < len(final["marks"])


def test_a_damaged_dump_and_a_non_empty_target_are_refused(
    pg_url: str, pg_url_2: str, tmp_path: Path, tiny_school: SchoolData, secrets: None
) -> None:
    synced_world(pg_url, tiny_school).store.close()
    copy = make_backup(pg_url, tmp_path / "out")
    with pytest.raises(BackupError, match="не пустое"):
        restore(copy, pg_url)
    dump = copy / "store.pgdump"
    good = dump.read_bytes()
    dump.write_bytes(good[:-100])
    with pytest.raises(BackupError, match="размер"):
        restore(copy, pg_url_2)
    assert all_rows(pg_url_2) == {}  # nothing was loaded
    dump.write_bytes(good)
    sqlite_copy_target = f"sqlite:///{tmp_path}/x.db"
    with pytest.raises(BackupError, match="того же вида"):
        restore(copy, sqlite_copy_target)
