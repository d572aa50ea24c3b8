"""``schoolgate connectors list``: the system plugins installed."""

from __future__ import annotations

import typer
from rich.table import Table

from plugins import GROUP, available
from schoolgate.cli._common import console


def register(app: typer.Typer) -> None:
    group = typer.Typer(help=f"System plugins (entry-point group {GROUP}).")
    app.add_typer(group, name="connectors")

    @group.command("list")
    def list_() -> None:
        """Show installed system plugins, what they pull and push."""
        table = Table("name", "provided by", "pull", "push")
        for name, ep in sorted(available().items()):
            try:
                caps = ep.load().connector.declared_capabilities()
                pull = ", ".join(f"{e}({m})" for e, m in caps.pull.items())
                push = ", ".join(sorted(caps.push))
            except Exception as exc:  # a broken third-party plugin must not hide the others
                pull, push = f"[red]cannot load: {type(exc).__name__}[/]", ""
            table.add_row(name, ep.value, pull, push)
        console.print(table)
