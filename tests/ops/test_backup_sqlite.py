"""Backups of a SQLite store taken while a writer keeps committing: each copy is the store as
of one commit (whole transactions only), restores to exactly that, and a copy taken when the
writer has stopped restores to a store equal to the original, table by table, row by row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.school import SchoolData
from ops.backup import MANIFEST, BackupError, make_backup, read_manifest, restore
from tests.ops.conftest import Writer, all_rows, synced_world


@pytest.fixture
def seeded(tmp_path: Path, tiny_school: SchoolData, secrets: None) -> str:
    url = f"sqlite:///{tmp_path}/live.db"
    synced_world(url, tiny_school).store.close()
    return url


def test_backups_during_writes_are_whole_commits_and_restore_exactly(
    seeded: str, tmp_path: Path, tiny_school: SchoolData
) -> None:
    from store import Store

    before = all_rows(seeded)
    store = Store.open(seeded)
    copies = []
    with Writer(store, tiny_school.school.id) as writer:
        for _ in range(3):
            writer.wait_for(writer.batches + 2)
            started = writer.batches
            copies.append(make_backup(seeded, tmp_path / "out"))
            writer.wait_for(writer.batches + 1)  # still writing after the copy
            assert writer.batches > started
    assert writer.error is None
    store.close()
    final = all_rows(seeded)
    touched = {t for t in final if final[t] != before[t]}
    assert {"marks", "change_log", "change_seq"} <= touched

    for n, copy in enumerate(copies):
        target = f"sqlite:///{tmp_path}/restored-{n}.db"
        restored = restore(copy, target)
        rows = all_rows(target)
        assert rows.keys() == final.keys()
        for table in final:
            if table not in touched:
                assert rows[table] == final[table], table  # untouched tables: equal
            elif table != "change_seq":  # appended to: between the start and the end
                assert set(before[table]) <= set(rows[table]) <= set(final[table]), table
        written = restored.counts["marks"] - len(before["marks"])
        assert written > 0 and written % Writer.BATCH == 0  # whole transactions only
        assert restored.counts == read_manifest(copy).tables

    # the writer has stopped: a copy now is the original, every row of every table
    quiet = make_backup(seeded, tmp_path / "out")
    restore(quiet, f"sqlite:///{tmp_path}/quiet.db")
    assert all_rows(f"sqlite:///{tmp_path}/quiet.db") == final


def test_the_manifest_names_kind_revision_rows_and_checksums(seeded: str, tmp_path: Path) -> None:
    import hashlib

    copy = make_backup(seeded, tmp_path / "out")
    data = json.loads((copy / MANIFEST).read_text("utf-8"))
    assert data["store_kind"] == "sqlite"
    assert data["revision"] == all_rows(seeded)["alembic_version"][0].strip("(',)")
    assert data["tables"] == {t: len(rows) for t, rows in all_rows(seeded).items()}
    (entry,) = data["files"]
    body = (copy / entry["name"]).read_bytes()
    assert entry["sha256"] == hashlib.sha256(body).hexdigest() and entry["size"] == len(body)
    assert not any(p.name.endswith(".partial") for p in (tmp_path / "out").iterdir())


def test_a_damaged_file_is_refused_before_anything_is_written(seeded: str, tmp_path: Path) -> None:
    copy = make_backup(seeded, tmp_path / "out")
    data = copy / "store.sqlite3"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    target = tmp_path / "t.db"
    with pytest.raises(BackupError, match=r"повреждена.*контрольная сумма"):
        restore(copy, f"sqlite:///{target}")
    assert not target.exists()


def test_an_edited_or_broken_manifest_is_refused(seeded: str, tmp_path: Path) -> None:
    copy = make_backup(seeded, tmp_path / "out")
    path = copy / MANIFEST
    original = path.read_text("utf-8")
    edited = json.loads(original)
    edited["tables"]["marks"] += 1  # a count changed by hand
    path.write_text(json.dumps(edited), "utf-8")
    with pytest.raises(BackupError, match="контрольная сумма не совпадает"):
        restore(copy, f"sqlite:///{tmp_path}/a.db")
    path.write_text(original[: len(original) // 2], "utf-8")  # cut short
    with pytest.raises(BackupError, match="не читается"):
        restore(copy, f"sqlite:///{tmp_path}/b.db")
    path.unlink()
    with pytest.raises(BackupError, match=r"нет manifest\.json"):
        restore(copy, f"sqlite:///{tmp_path}/c.db")
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "b.db").exists()


def test_a_store_that_is_not_empty_is_refused_and_left_as_it_was(
    seeded: str, tmp_path: Path
) -> None:
    from store import Store

    copy = make_backup(seeded, tmp_path / "out")
    target = f"sqlite:///{tmp_path}/initialised.db"
    with Store.open(target) as s:
        s.upgrade()  # `schoolgate init` alone makes it not empty
    before = all_rows(target)
    with pytest.raises(BackupError, match="не пустое"):
        restore(copy, target)
    assert all_rows(target) == before
    with pytest.raises(BackupError, match="не пустое"):
        restore(copy, seeded)  # the live store itself


def test_a_store_never_initialised_has_nothing_to_copy(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="нет хранилища"):
        make_backup(f"sqlite:///{tmp_path}/none.db", tmp_path / "out")
    assert not (tmp_path / "none.db").exists()  # not created by asking
    (tmp_path / "empty.db").touch()  # a database with no schema
    with pytest.raises(BackupError, match="не создано"):
        make_backup(f"sqlite:///{tmp_path}/empty.db", tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
