"""The web console's own bookkeeping (``tx.console``): users (argon2 hashes made by the console,
never a password), sessions (the SHA-256 of the cookie's secret), the audit of sign-ins and
decisions, and the key cookies are signed with.

Listings for pages (users, the audit) are the read side's: :mod:`store.queries.console`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.errors import StoreError
from store.repo import Repo
from store.tables import table
from store.tables.console import ConsoleAuditRow, ConsoleKeyRow, ConsoleSessionRow, ConsoleUserRow
from store.types import utcnow

USERS = table(ConsoleUserRow)
SESSIONS = table(ConsoleSessionRow)
AUDIT = table(ConsoleAuditRow)
KEYS = table(ConsoleKeyRow)
ROLES = ("admin", "deputy", "director")


@dataclass(frozen=True, slots=True)
class User:
    """A console user, without the password hash."""

    id: int
    login: str
    name: str
    role: str
    schools: tuple[str, ...]
    created_at: dt.datetime
    password_changed_at: dt.datetime
    disabled_at: dt.datetime | None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, slots=True)
class Session:
    """A live session and its user."""

    id: int
    user: User
    csrf: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    login: str
    user_id: int | None
    action: str
    school_id: str | None
    target: str | None
    outcome: str
    detail: str | None
    address: str | None


USER_COLUMNS = tuple(USERS.c[f] for f in User.__dataclass_fields__)


def user_of(m: Any) -> User:
    row: Any = m._mapping if hasattr(m, "_mapping") else m
    return User(
        id=int(row["id"]),
        login=row["login"],
        name=row["name"],
        role=row["role"],
        schools=tuple(row["schools"] or ()),
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
        disabled_at=row["disabled_at"],
    )


class ConsoleRepo(Repo):
    # -- users ---------------------------------------------------------------------------------
    def create_user(
        self, *, login: str, name: str, role: str, schools: Sequence[str], password_hash: str
    ) -> User:
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        taken = self.conn.execute(select(USERS.c.id).where(USERS.c.login == login)).first()
        if taken is not None:
            raise StoreError(f"a user {login!r} exists already")
        now = utcnow()
        stmt = (
            insert(USERS)
            .values(
                login=login,
                name=name,
                role=role,
                schools=list(schools),
                password_hash=password_hash,
                created_at=now,
                password_changed_at=now,
                disabled_at=None,
            )
            .returning(*USER_COLUMNS)
        )
        return user_of(self.conn.execute(stmt).one())

    def user(self, login: str) -> tuple[User, str] | None:
        """The user signing in as ``login`` and their password hash."""
        row = self.conn.execute(
            select(*USER_COLUMNS, USERS.c.password_hash).where(USERS.c.login == login)
        ).first()
        return None if row is None else (user_of(row), str(row.password_hash))

    def user_by_id(self, user_id: int) -> User | None:
        row = self.conn.execute(select(*USER_COLUMNS).where(USERS.c.id == user_id)).first()
        return None if row is None else user_of(row)

    def users(self) -> list[User]:
        return [user_of(r) for r in self.conn.execute(select(*USER_COLUMNS).order_by(USERS.c.id))]

    def set_password(self, login: str, password_hash: str) -> User:
        """A new password hash; every session of the user ends."""
        stmt = (
            update(USERS)
            .where(USERS.c.login == login)
            .values(password_hash=password_hash, password_changed_at=utcnow())
            .returning(*USER_COLUMNS)
        )
        row = self.conn.execute(stmt).first()
        if row is None:
            raise StoreError(f"no user {login!r}")
        self.end_sessions(int(row.id))
        return user_of(row)

    def set_disabled(self, login: str, disabled: bool) -> User:
        """Disable (every session ends) or enable a user."""
        stmt = (
            update(USERS)
            .where(USERS.c.login == login)
            .values(disabled_at=utcnow() if disabled else None)
            .returning(*USER_COLUMNS)
        )
        row = self.conn.execute(stmt).first()
        if row is None:
            raise StoreError(f"no user {login!r}")
        if disabled:
            self.end_sessions(int(row.id))
        return user_of(row)

    # -- sessions ------------------------------------------------------------------------------
    def start_session(self, user_id: int, token_hash: str, csrf: str, ttl: dt.timedelta) -> int:
        now = utcnow()
        stmt = insert(SESSIONS).values(
            token_hash=token_hash,
            user_id=user_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + ttl,
            ended_at=None,
        )
        return int(self.conn.execute(stmt.returning(SESSIONS.c.id)).scalar_one())

    def session(self, token_hash: str) -> Session | None:
        """The live session whose secret hashes to ``token_hash``, with its enabled user (one
        statement: every page asks it)."""
        s = SESSIONS.c
        stmt = (
            select(s.id, s.csrf, s.expires_at, *USER_COLUMNS)
            .join(USERS, USERS.c.id == s.user_id)
            .where(
                s.token_hash == token_hash,
                s.ended_at.is_(None),
                s.expires_at > utcnow(),
                USERS.c.disabled_at.is_(None),
            )
        )
        row = self.conn.execute(stmt).first()
        if row is None:
            return None
        m = row._mapping
        user = user_of({**m, "id": m[USERS.c.id]})
        return Session(int(m[s.id]), user, str(m[s.csrf]), m[s.expires_at])

    def end_session(self, token_hash: str) -> None:
        self.conn.execute(
            update(SESSIONS)
            .where(SESSIONS.c.token_hash == token_hash, SESSIONS.c.ended_at.is_(None))
            .values(ended_at=utcnow())
        )

    def end_sessions(self, user_id: int) -> None:
        self.conn.execute(
            update(SESSIONS)
            .where(SESSIONS.c.user_id == user_id, SESSIONS.c.ended_at.is_(None))
            .values(ended_at=utcnow())
        )

    # -- audit ---------------------------------------------------------------------------------
    def audit(
        self,
        *,
        login: str,
        action: str,
        outcome: str = "ok",
        user_id: int | None = None,
        school_id: str | None = None,
        target: str | None = None,
        detail: str | None = None,
        address: str | None = None,
    ) -> None:
        self.conn.execute(
            insert(AUDIT).values(
                at=utcnow(),
                login=login[:100],
                user_id=user_id,
                action=action,
                school_id=school_id,
                target=None if target is None else target[:200],
                outcome=outcome,
                detail=None if detail is None else detail[:2000],
                address=None if address is None else address[:64],
            )
        )

    def failures_since(self, login: str, since: dt.datetime) -> int:
        """Failed sign-ins as ``login`` from ``since`` on, after its last successful one."""
        a = AUDIT.c
        last_ok = (
            select(func.max(a.at))
            .where(a.login == login, a.action == "sign_in", a.outcome == "ok")
            .scalar_subquery()
        )
        stmt = select(func.count()).where(
            a.login == login,
            a.action == "sign_in",
            a.outcome == "failed",
            a.at >= since,
            a.at > func.coalesce(last_ok, since),
        )
        return int(self.conn.execute(stmt).scalar_one())

    def latest_failure(self, login: str) -> dt.datetime | None:
        a = AUDIT.c
        stmt = select(func.max(a.at)).where(
            a.login == login, a.action == "sign_in", a.outcome == "failed"
        )
        found: dt.datetime | None = self.conn.execute(stmt).scalar_one_or_none()
        return found

    # -- keys ----------------------------------------------------------------------------------
    def key(self, name: str) -> str:
        """The console's secret ``name``, made at first use (two processes starting together
        agree: the second insert loses and reads the first's)."""
        found = self.conn.execute(select(KEYS.c.value).where(KEYS.c.name == name)).scalar()
        if found is not None:
            return str(found)
        value = secrets.token_urlsafe(48)
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(KEYS).values(name=name, value=value, created_at=utcnow()))
        except IntegrityError:  # another process made it first
            pass
        return str(self.conn.execute(select(KEYS.c.value).where(KEYS.c.name == name)).scalar_one())
