"""The PostgreSQL client programs a backup runs: ``pg_dump`` (custom format, the store's schema,
the snapshot :func:`store.backup.pg_snapshot` holds open) and, to restore, ``pg_restore -f -``
piped through :class:`~ops.backup.remap.SchemaRemap` into ``psql`` in one transaction.

The programs are looked up on ``PATH``, then in ``/usr/lib/postgresql/<version>/bin`` (newest
first). The connection — password included — reaches them through ``PG*`` environment
variables, never on a command line.
"""

from __future__ import annotations

import contextlib
import glob
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ops.backup.errors import BackupError
from ops.backup.remap import SchemaRemap, quote_ident
from store import Store
from store.backup import PgSnapshot, current_schema, subprocess_env

SEARCH = "/usr/lib/postgresql/*/bin"


def _version(path: str) -> tuple[int, ...]:
    found = re.search(r"/postgresql/([\d.]+)/", path)
    return tuple(int(p) for p in found.group(1).split(".")) if found else ()


def find_tool(name: str, *, search: str = SEARCH) -> Path:
    """The program ``name`` (``pg_dump``, ``pg_restore``, ``psql``)."""
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    candidates = sorted(glob.glob(f"{search}/{name}"), key=_version, reverse=True)
    if candidates:
        return Path(candidates[0])
    raise BackupError(
        f"не найдена программа {name}: установите клиент PostgreSQL (пакет postgresql-client) "
        f"или добавьте её каталог в PATH (искали в PATH и {search})"
    )


def _tail(text: str, lines: int = 3) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return " / ".join(kept) or "без сообщения"


def dump(store: Store, snapshot: PgSnapshot, dest: Path) -> None:
    """``pg_dump`` of the store's schema as of ``snapshot`` into ``dest`` (custom format)."""
    cmd = [
        str(find_tool("pg_dump")),
        "--format=custom",
        f"--schema={quote_ident(snapshot.schema)}",
        f"--snapshot={snapshot.snapshot}",
        "--no-owner",
        "--no-privileges",
        f"--file={dest}",
    ]
    done = subprocess.run(
        cmd, check=False, env=subprocess_env(store), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump завершился с кодом {done.returncode}: {_tail(done.stderr)}")


def restore(store: Store, source: Path, source_schema: str) -> None:
    """Load the dump ``source`` (taken from ``source_schema``) into the store's own schema, all
    or nothing (``psql --single-transaction``, stopping at the first error)."""
    target = current_schema(store)
    if target is None:
        raise BackupError(
            f"в {store.display_url} нет схемы, в которую восстанавливать: создайте её "
            "(CREATE SCHEMA …) или исправьте search_path"
        )
    env = subprocess_env(store)
    remap = SchemaRemap(source_schema, target)
    with tempfile.TemporaryFile() as reader_err, tempfile.TemporaryFile() as writer_err:
        reader = subprocess.Popen(
            [str(find_tool("pg_restore")), "--no-owner", "--no-privileges", "-f", "-", str(source)],
            stdout=subprocess.PIPE,
            stderr=reader_err,
            env=env,
        )
        writer = subprocess.Popen(
            [
                str(find_tool("psql")),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-f",
                "-",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=writer_err,
            env=env,
        )
        assert reader.stdout is not None and writer.stdin is not None
        try:
            for raw in reader.stdout:
                line = remap(raw.decode("utf-8", "surrogateescape"))
                if line is not None:
                    writer.stdin.write(line.encode("utf-8", "surrogateescape"))
        except BrokenPipeError:
            pass  # psql stopped at an error: its exit code and message say which
        except BaseException:
            writer.kill()  # interrupted: psql must not commit what it got so far
            reader.kill()
            writer.wait()
            reader.wait()
            raise
        finally:
            reader.stdout.close()
        read_rc = reader.wait()
        if read_rc != 0:
            writer.kill()  # before its input ends: psql must not commit half a script
            writer.wait()
            reader_err.seek(0)
            text = reader_err.read().decode("utf-8", "replace")
            raise BackupError(f"pg_restore завершился с кодом {read_rc}: {_tail(text)}")
        with contextlib.suppress(BrokenPipeError):
            writer.stdin.close()
        write_rc = writer.wait()
        if write_rc != 0:
            writer_err.seek(0)
            text = writer_err.read().decode("utf-8", "replace")
            raise BackupError(
                f"psql не смог загрузить копию (код {write_rc}, ничего не записано): {_tail(text)}"
            )
