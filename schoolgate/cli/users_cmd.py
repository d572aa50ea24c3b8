"""``schoolgate users create|list|disable|enable|reset-password``: the web console's users."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from console import users as user_ops
from schoolgate.cli._common import (
    ConfigOpt,
    config_or_default,
    console,
    open_store,
    reported_errors,
)


def register(app: typer.Typer) -> None:
    users = typer.Typer(
        help="Users of the web console: administrators, deputy directors, directors."
    )
    app.add_typer(users, name="users")

    @users.command("create")
    def create(
        login: str,
        role: Annotated[str, typer.Option(help="admin, deputy or director")],
        name: Annotated[str, typer.Option(help="full name shown in the console")] = "",
        schools: Annotated[
            str, typer.Option(help="school ids, comma-separated (not for admin)")
        ] = "",
        config: ConfigOpt = None,
    ) -> None:
        """Create a user; the generated password is printed once (only its hash is kept)."""
        with reported_errors():
            store = open_store(config_or_default(config))
            with store:
                user, secret = user_ops.create_user(
                    store, login=login, name=name, role=role, schools=schools.split(",")
                )
        console.print(
            f"user {user.login} ({user.role}) created; password: {secret}", highlight=False
        )

    @users.command("list")
    def list_(config: ConfigOpt = None) -> None:
        with reported_errors():
            store = open_store(config_or_default(config))
            with store:
                found = user_ops.list_users(store)
        table = Table("login", "name", "role", "schools", "state")
        for u in found:
            table.add_row(
                u.login, u.name, u.role, ",".join(u.schools) or "all",
                f"disabled {u.disabled_at:%d.%m.%Y}" if u.disabled_at else "active",
            )  # fmt: skip
        console.print(table)

    @users.command("disable")
    def disable(login: str, config: ConfigOpt = None) -> None:
        """Disable a user: their sessions end and they cannot sign in."""
        with reported_errors():
            store = open_store(config_or_default(config))
            with store:
                user_ops.disable_user(store, login)
        console.print(f"user {login} disabled")

    @users.command("enable")
    def enable(login: str, config: ConfigOpt = None) -> None:
        with reported_errors():
            store = open_store(config_or_default(config))
            with store:
                user_ops.disable_user(store, login, enable=True)
        console.print(f"user {login} enabled")

    @users.command("reset-password")
    def reset(login: str, config: ConfigOpt = None) -> None:
        """A new generated password, printed once; the user's sessions end."""
        with reported_errors():
            store = open_store(config_or_default(config))
            with store:
                _, secret = user_ops.reset_password(store, login)
        console.print(f"new password for {login}: {secret}", highlight=False)
