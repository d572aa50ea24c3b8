"""The manifest of a backup: ``manifest.json`` beside the copied files.

It names the kind of store, the schema revision, when the copy was made, the rows of every table
in the copy and the SHA-256 of each file. The manifest carries a checksum of its own content, so
an edited or damaged manifest is refused as surely as a damaged file::

    {"format": 1, "store_kind": "sqlite", "revision": "0006", "created_at": "…",
     "tables": {"records_marks": 1234, …}, "files": [{"name": "store.sqlite3", "sha256": "…",
     "size": 123456}], "schema": null, "source": "sqlite:///…", "manifest_sha256": "…"}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ops.backup.errors import BackupError

FORMAT = 1
MANIFEST = "manifest.json"
StoreKind = Literal["sqlite", "postgresql"]
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str
    sha256: str
    size: int

    @classmethod
    def of(cls, path: Path) -> FileEntry:
        return cls(path.name, sha256_file(path), path.stat().st_size)


@dataclass(frozen=True, slots=True)
class Manifest:
    store_kind: StoreKind
    revision: str | None
    created_at: dt.datetime
    tables: dict[str, int]
    files: tuple[FileEntry, ...]
    #: the PostgreSQL schema the copy was taken from
    schema: str | None = None
    #: the store's URL, password masked
    source: str = ""
    format: int = field(default=FORMAT)

    def body(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "store_kind": self.store_kind,
            "revision": self.revision,
            "created_at": self.created_at.isoformat(),
            "tables": dict(sorted(self.tables.items())),
            "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in self.files],
            "schema": self.schema,
            "source": self.source,
        }

    def to_json(self) -> str:
        body = self.body()
        return json.dumps({**body, "manifest_sha256": _digest(body)}, ensure_ascii=False, indent=2)

    def write(self, directory: Path) -> Path:
        path = directory / MANIFEST
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_manifest(directory: Path) -> Manifest:
    """The manifest of the backup in ``directory``; a :class:`BackupError` when it is missing,
    unreadable, incomplete or does not match its own checksum."""
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"в {directory} нет {MANIFEST}: это не резервная копия schoolgate"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BackupError(f"{MANIFEST} в {directory} не читается ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise BackupError(f"{MANIFEST} в {directory} повреждён: не объект JSON")
    claimed = data.pop("manifest_sha256", None)
    if claimed != _digest(data):
        raise BackupError(
            f"{MANIFEST} в {directory} повреждён или изменён: его контрольная сумма не совпадает"
        )
    try:
        if data["format"] != FORMAT:
            raise BackupError(f"формат копии {data['format']} не поддерживается (нужен {FORMAT})")
        kind = data["store_kind"]
        if kind not in ("sqlite", "postgresql"):
            raise ValueError(kind)
        return Manifest(
            store_kind=kind,
            revision=data["revision"],
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            tables={str(k): int(v) for k, v in data["tables"].items()},
            files=tuple(
                FileEntry(str(f["name"]), str(f["sha256"]), int(f["size"])) for f in data["files"]
            ),
            schema=data.get("schema"),
            source=str(data.get("source", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BackupError(f"{MANIFEST} в {directory} неполон или повреждён") from None


def file_problems(directory: Path, manifest: Manifest) -> list[str]:
    """What is wrong with the files the manifest names (nothing: an empty list)."""
    problems: list[str] = []
    for entry in manifest.files:
        path = directory / entry.name
        if entry.name != Path(entry.name).name or not path.is_file():
            problems.append(f"нет файла {entry.name}")
            continue
        size = path.stat().st_size
        if size != entry.size:
            problems.append(f"{entry.name}: размер {size} байт, в манифесте {entry.size}")
        elif sha256_file(path) != entry.sha256:
            problems.append(f"{entry.name}: контрольная сумма SHA-256 не совпадает")
    if not manifest.files:
        problems.append("манифест не называет ни одного файла")
    return problems
