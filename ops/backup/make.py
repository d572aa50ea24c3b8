"""Making a backup while syncs run, listing the backups of a folder, and applying retention.

A backup is a folder ``schoolgate-YYYYMMDD-HHMMSS`` (UTC) in the output folder holding the copy
(``store.sqlite3`` or ``store.pgdump``) and ``manifest.json``. It is written under a hidden
``.…partial`` name and renamed when complete, so a copy cut short never looks like a backup.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import StoreError
from ops.backup import pgtools
from ops.backup.errors import BackupError
from ops.backup.manifest import MANIFEST, FileEntry, Manifest, StoreKind, read_manifest
from ops.backup.retention import Backup, Retention, choose
from store import Store, missing_database
from store.backup import copy_sqlite, pg_snapshot, sqlite_file_summary

PREFIX = "schoolgate-"
SQLITE_FILE = "store.sqlite3"
PG_FILE = "store.pgdump"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_backup(
    store_url: str,
    out_dir: Path,
    *,
    password: str | None = None,
    now: Callable[[], dt.datetime] = _utcnow,
) -> Path:
    """Copy the store at ``store_url`` into a new backup folder under ``out_dir``; its path.

    The copy is consistent while other processes write: SQLite's online backup API, or
    ``pg_dump`` sharing an exported snapshot in which the manifest's row counts are read.
    """
    out_dir = Path(out_dir)
    missing = missing_database(store_url)
    if missing is not None:
        raise BackupError(f"нет хранилища {missing}: копировать нечего")
    out_dir.mkdir(parents=True, exist_ok=True)
    created = now().astimezone(dt.UTC)
    final = _free_name(out_dir, f"{PREFIX}{created:%Y%m%d-%H%M%S}")
    partial = out_dir / f".{final.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        with Store.open(store_url, password=password) as store:
            # nothing here takes the write lock (a SQLite unit of work would wait for the
            # running sync's transaction): the revision is read from the copy itself
            kind: StoreKind
            schema: str | None = None
            if store.dialect == "sqlite":
                kind, target = "sqlite", partial / SQLITE_FILE
                copy_sqlite(store, target)
                revision, counts = sqlite_file_summary(target)
            else:
                kind, target = "postgresql", partial / PG_FILE
                with pg_snapshot(store) as snap:
                    pgtools.dump(store, snap, target)
                revision, counts, schema = snap.revision, snap.counts, snap.schema
            source = store.display_url
        if revision is None:
            raise BackupError(
                f"хранилище {source} не создано: копировать нечего (сначала `schoolgate init`)"
            )
        manifest = Manifest(
            store_kind=kind,
            revision=revision,
            created_at=created,
            tables=counts,
            files=(FileEntry.of(target),),
            schema=schema,
            source=source,
        )
        _fsync(manifest.write(partial))
        _fsync(target)
        partial.rename(final)
    except StoreError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupError(f"копия не сделана: {exc}") from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def _free_name(out_dir: Path, stem: str) -> Path:
    path, n = out_dir / stem, 1
    while path.exists():
        n += 1
        path = out_dir / f"{stem}-{n}"
    return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Listed:
    path: Path
    manifest: Manifest | None
    #: why the manifest could not be read (``manifest`` is ``None`` then)
    problem: str | None = None


def list_backups(out_dir: Path) -> list[Listed]:
    """The backup folders in ``out_dir`` (complete ones: a ``manifest.json``), oldest first."""
    found: list[Listed] = []
    if not out_dir.is_dir():
        return found
    for path in sorted(out_dir.iterdir()):
        if not path.is_dir() or not path.name.startswith(PREFIX):
            continue
        if not (path / MANIFEST).exists():
            continue
        try:
            found.append(Listed(path, read_manifest(path)))
        except BackupError as exc:
            found.append(Listed(path, None, str(exc)))
    return found


def prune(
    out_dir: Path,
    *,
    keep_weekly: int,
    today: dt.date | None = None,
    tz: dt.tzinfo | None = None,
) -> Retention:
    """Apply :func:`~ops.backup.retention.choose` to the backups in ``out_dir``: delete what it
    drops. A folder whose manifest cannot be read is never deleted (a person looks at it)."""
    listed = [b for b in list_backups(out_dir) if b.manifest is not None]
    local = tz or dt.datetime.now().astimezone().tzinfo
    backups = [
        Backup(b.path.name, b.manifest.created_at.astimezone(local))
        for b in listed
        if b.manifest is not None
    ]
    day = today or dt.datetime.now(local).date()
    decision = choose(backups, keep_weekly=keep_weekly, today=day)
    for name in decision.drop:
        shutil.rmtree(out_dir / name)
    return decision
