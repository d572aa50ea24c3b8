"""``schoolgate backup`` (a consistent copy of the store with a checksum manifest, and
retention) and ``schoolgate restore`` (into an empty store, verified before and after)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.errors import ConfigError
from ops.backup import make_backup, prune, read_manifest, restore
from schoolgate.cli._common import ConfigOpt, config_or_default, console, reported_errors


def _size(path: Path) -> str:
    total = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return f"{total / (1024 * 1024):.1f} МБ".replace(".", ",")


def _rows(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def register(app: typer.Typer) -> None:
    @app.command("backup")
    def backup(
        config: ConfigOpt = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="folder that holds the backups (default: [backup] dir)"),
        ] = None,
        keep_weekly: Annotated[
            int | None,
            typer.Option(
                "--keep-weekly",
                min=1,
                help="then keep the newest copy of each of the last N weeks and of every "
                "ended school year; delete the other copies in --out",
            ),
        ] = None,
    ) -> None:
        """Copy the configured store while syncs run (SQLite online backup, pg_dump for
        PostgreSQL) into a new folder under --out, with a checksum manifest."""
        with reported_errors():
            cfg = config_or_default(config)
            out = out or cfg.backup.dir
            if out is None:
                raise ConfigError(
                    "name the backups' folder: --out DIR or [backup] dir", key="backup.dir"
                )
            made = make_backup(cfg.store.url, out, password=cfg.store.secret())
            manifest = read_manifest(made)
            console.print(
                f"копия сохранена: {made} ({manifest.store_kind}, ревизия схемы "
                f"{manifest.revision}, строк {_rows(manifest.total_rows)}, {_size(made)})",
                highlight=False,
                markup=False,
            )
            if keep_weekly is not None:
                kept = prune(out, keep_weekly=keep_weekly)
                for name, why in sorted(kept.keep.items()):
                    console.print(
                        f"  оставлена {name}: {'; '.join(why)}", highlight=False, markup=False
                    )
                for name in kept.drop:
                    console.print(f"  удалена {name}", highlight=False, markup=False)

    @app.command("restore")
    def restore_cmd(
        source: Annotated[Path, typer.Option("--from", help="a backup folder (manifest.json)")],
        store: Annotated[
            str | None,
            typer.Option("--store", help="the EMPTY store to restore into; default: [store].url"),
        ] = None,
        config: ConfigOpt = None,
    ) -> None:
        """Restore a backup into an empty store: the manifest and the files' checksums are
        verified first, every table's rows are counted against the manifest after."""
        with reported_errors():
            cfg = config_or_default(config)
            url = store or cfg.store.url
            password = cfg.store.secret() if store is None else None
            done = restore(source, url, password=password)
            m = done.manifest
            console.print(
                f"восстановлено в {done.target}: копия от {m.created_at:%d.%m.%Y %H:%M} UTC, "
                f"ревизия схемы {m.revision}, строк {_rows(sum(done.counts.values()))} в "
                f"{len(done.counts)} таблицах — совпадает с манифестом",
                highlight=False,
                markup=False,
            )
