"""Backups of the store: a consistent copy while syncs run, a checksum manifest, a restore into
an empty store that verifies both, and retention (keep N weekly copies and every year-end).

``make_backup(store_url, out_dir) -> Path`` is what a schedule entry calls."""

from ops.backup.errors import BackupError
from ops.backup.make import Listed, list_backups, make_backup, prune
from ops.backup.manifest import MANIFEST, FileEntry, Manifest, read_manifest
from ops.backup.restore import Restored, restore, verify
from ops.backup.retention import Backup, Retention, choose, school_year

__all__ = [
    "MANIFEST",
    "Backup",
    "BackupError",
    "FileEntry",
    "Listed",
    "Manifest",
    "Restored",
    "Retention",
    "choose",
    "list_backups",
    "make_backup",
    "prune",
    "read_manifest",
    "restore",
    "school_year",
    "verify",
]
