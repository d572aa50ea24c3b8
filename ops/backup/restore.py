"""Restoring a backup into an empty store: the manifest and every file's checksum are verified
first, the copy is loaded, then the rows of every table are counted against the manifest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import StoreError
from ops.backup import pgtools
from ops.backup.errors import BackupError
from ops.backup.manifest import Manifest, file_problems, read_manifest
from store import Store
from store.backup import restore_sqlite, row_counts, table_names


@dataclass(frozen=True, slots=True)
class Restored:
    manifest: Manifest
    target: str
    counts: dict[str, int]


def verify(backup_dir: Path) -> Manifest:
    """The backup's manifest once it and every file it names check out."""
    backup_dir = Path(backup_dir)
    if not backup_dir.is_dir():
        raise BackupError(f"нет папки {backup_dir}")
    manifest = read_manifest(backup_dir)
    problems = file_problems(backup_dir, manifest)
    if problems:
        raise BackupError(
            f"копия {backup_dir.name} повреждена, восстановление отменено: " + "; ".join(problems)
        )
    return manifest


def restore(backup_dir: Path, store_url: str, *, password: str | None = None) -> Restored:
    """Load the backup in ``backup_dir`` into the empty store at ``store_url``."""
    backup_dir = Path(backup_dir)
    manifest = verify(backup_dir)
    try:
        with Store.open(store_url, password=password) as store:
            where = store.display_url
            kind = "sqlite" if store.dialect == "sqlite" else "postgresql"
            if kind != manifest.store_kind:
                raise BackupError(
                    f"копия сделана из хранилища {manifest.store_kind}, а {where} — {kind}: "
                    "восстанавливайте в хранилище того же вида"
                )
            present = table_names(store)
            if present:
                raise BackupError(
                    f"хранилище {where} не пустое (таблиц: {len(present)}): восстановление "
                    "делается только в пустое хранилище, чтобы ничего не перезаписать — укажите "
                    "новый файл SQLite или пустую базу/схему PostgreSQL (без `schoolgate init`)"
                )
            file = backup_dir / manifest.files[0].name
            if kind == "sqlite":
                restore_sqlite(file, store)
            else:
                pgtools.restore(store, file, manifest.schema or "public")
            counts = row_counts(store)
            revision = store.revision()
    except StoreError as exc:
        raise BackupError(f"восстановление не удалось: {exc}") from exc
    wrong = sorted(
        f"{t}: {counts.get(t, 0)} вместо {n}"
        for t, n in manifest.tables.items()
        if counts.get(t, 0) != n
    ) + sorted(f"{t}: лишняя таблица" for t in counts if t not in manifest.tables)
    if wrong:
        raise BackupError(
            "после восстановления строки таблиц не совпадают с манифестом: " + "; ".join(wrong)
        )
    if revision != manifest.revision:
        raise BackupError(
            f"после восстановления ревизия схемы {revision}, в манифесте {manifest.revision}"
        )
    return Restored(manifest, where, counts)
