"""Declarative models of the web console's own tables: its users (argon2 hashes only), their
sessions (the hash of the cookie's secret and the session's CSRF token), the console's audit of
sign-ins and decisions, and the keys it signs cookies with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import ID, Base, BigId


class ConsoleUserRow(Base):
    """A person who signs in to the console: a role, the schools they see (none: every school,
    for an administrator), an argon2 hash of the password."""

    __tablename__ = "console_users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # admin | deputy | director
    schools: Mapped[list[Any]]
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    password_changed_at: Mapped[dt.datetime]
    disabled_at: Mapped[dt.datetime | None]


class ConsoleSessionRow(Base):
    """A signed-in session: only the SHA-256 of the cookie's secret is kept."""

    __tablename__ = "console_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class ConsoleAuditRow(Base):
    """Every sign-in (and its failures) and every decision taken in the console: who, what, on
    which school and object, the outcome, a comment; never a password or personal data."""

    __tablename__ = "console_audit"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime]
    login: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    school_id: Mapped[str | None] = mapped_column(ID)
    target: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))  # ok | failed | locked | refused
    detail: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index(None, "login", "at"), Index(None, "at"))


class ConsoleKeyRow(Base):
    """A secret the console keeps for itself (the cookie signing key), made on first use."""

    __tablename__ = "console_keys"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime]
