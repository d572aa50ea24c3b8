"""``schoolgate tokens create|list|revoke``: access tokens of the feed API (kept as hashes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api import SCOPES, issue
from schoolgate.cli._common import config_or_default, console, err_console, reported_errors
from store import Store

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="configuration TOML")]


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Access tokens of the feed API.", no_args_is_help=True)
    app.add_typer(group, name="tokens")

    @group.command("create")
    def create(
        name: Annotated[str, typer.Option(help="who uses it, e.g. region-portal")],
        schools: Annotated[
            list[str], typer.Option(help="school ids (comma-separated or repeated)")
        ],
        scopes: Annotated[
            list[str], typer.Option(help=f"of {', '.join(SCOPES)} (comma-separated or repeated)")
        ],
        pupil: Annotated[
            str | None, typer.Option(help="a diary token: only this pupil's data (gateway id)")
        ] = None,
        rate: Annotated[float, typer.Option(help="requests per second, sustained")] = 20.0,
        burst: Annotated[int, typer.Option(help="requests at once")] = 40,
        config: ConfigOpt = None,
    ) -> None:
        """Make a token. Its secret is printed once and kept nowhere: only its hash is stored."""
        with reported_errors():
            cfg = config_or_default(config)
            with Store.open(cfg.store.url) as store:
                token, secret = issue(
                    store,
                    name=name,
                    schools=_split(schools),
                    scopes=_split(scopes),
                    pupil_id=pupil,
                    rate=rate,
                    burst=burst,
                )
        err_console.print(
            f"token {token.name} for {', '.join(token.schools)}: {', '.join(token.scopes)}"
            + (f", pupil {token.pupil_id}" if token.pupil_id else "")
            + " — keep the secret below; it is not shown again"
        )
        console.print(secret, highlight=False, soft_wrap=True)

    @group.command("list")
    def list_(config: ConfigOpt = None) -> None:
        """Tokens, what they may read or write, and whether they are revoked (never secrets)."""
        with reported_errors():
            cfg = config_or_default(config)
            with Store.open(cfg.store.url) as store, store.read() as tx:
                tokens = tx.tokens.list()
        table = Table("name", "schools", "scopes", "pupil", "rate/s", "created", "revoked")
        for t in tokens:
            table.add_row(
                t.name,
                ", ".join(t.schools),
                ", ".join(t.scopes),
                t.pupil_id or "",
                f"{t.rate:g} (burst {t.burst})",
                t.created_at.strftime("%Y-%m-%d %H:%M"),
                t.revoked_at.strftime("%Y-%m-%d %H:%M") if t.revoked_at else "",
            )
        console.print(table)

    @group.command("revoke")
    def revoke(
        name: Annotated[str, typer.Argument(help="the token's name")], config: ConfigOpt = None
    ) -> None:
        """Revoke a token: refused from its next request on."""
        with reported_errors():
            cfg = config_or_default(config)
            with Store.open(cfg.store.url) as store, store.begin() as tx:
                done = tx.tokens.revoke(name)
        if not done:
            err_console.print(f"no live token named {name!r}")
            raise typer.Exit(1)
        console.print(f"revoked {name}")
