"""Console users: made, listed, disabled and given new passwords by an administrator (``schoolgate
users`` or the console's users page). A new or reset password is returned once and kept only as
its argon2 hash; every change is in the console's audit."""

from __future__ import annotations

from collections.abc import Sequence

from console import passwords
from console.roles import Role
from core.errors import GatewayError
from store import Store
from store.console import User


def create_user(
    store: Store,
    *,
    login: str,
    name: str,
    role: str,
    schools: Sequence[str] = (),
    password: str | None = None,
    by: str = "cli",
) -> tuple[User, str]:
    """A new user and their password (``password`` or a generated one)."""
    login = login.strip()
    if not login or len(login) > 100 or any(ch.isspace() for ch in login):
        raise GatewayError("a login is 1–100 characters without spaces")
    try:
        role_ = Role(role)
    except ValueError:
        raise GatewayError(f"unknown role {role!r}: use admin, deputy or director") from None
    schools = [s.strip() for s in schools if s.strip()]
    if role_ is not Role.ADMIN and not schools:
        raise GatewayError("a deputy director or director needs their schools (--schools A,B)")
    secret = password or passwords.generate()
    try:
        hashed = passwords.hash_password(secret)
    except ValueError as exc:
        raise GatewayError(str(exc)) from None
    with store.begin() as tx:
        user = tx.console.create_user(
            login=login,
            name=name.strip() or login,
            role=role_.value,
            schools=[] if role_ is Role.ADMIN else schools,
            password_hash=hashed,
        )
        tx.console.audit(login=by, action="user_create", target=login, detail=role_.value)
    return user, secret


def list_users(store: Store) -> list[User]:
    with store.read() as tx:
        return tx.console.users()


def disable_user(store: Store, login: str, *, by: str = "cli", enable: bool = False) -> User:
    with store.begin() as tx:
        user = tx.console.set_disabled(login, not enable)
        tx.console.audit(login=by, action="user_enable" if enable else "user_disable", target=login)
    return user


def reset_password(
    store: Store, login: str, *, password: str | None = None, by: str = "cli"
) -> tuple[User, str]:
    """A new password (given or generated); the user's sessions end."""
    secret = password or passwords.generate()
    try:
        hashed = passwords.hash_password(secret)
    except ValueError as exc:
        raise GatewayError(str(exc)) from None
    with store.begin() as tx:
        user = tx.console.set_password(login, hashed)
        tx.console.audit(login=by, action="user_reset_password", target=login)
    return user, secret
