"""Declarative models of the feed API's own tables: access tokens (stored as hashes), idempotency
keys of journal writes, and the access log of personal-data reads (ids only, never content)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import ID, Base, BigId


class ApiTokenRow(Base):
    """A consumer's token: only the SHA-256 of the secret is kept, never the secret."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    schools: Mapped[list[Any]]
    scopes: Mapped[list[Any]]
    #: a diary's token: only this pupil's marks, attendance and homework
    pupil_id: Mapped[str | None] = mapped_column(ID)
    rate: Mapped[float] = mapped_column(Float)  # requests per second, sustained
    burst: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class IdempotencyRow(Base):
    """One journal write request per (token, Idempotency-Key): its body's hash and its answer."""

    __tablename__ = "api_idempotency"
    token_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | done
    response_status: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class AccessLogRow(Base):
    """A read of a person's record through the API: which token, which record, which fields'
    kinds (``names`` or ``names+personal``), when — never the values."""

    __tablename__ = "api_access_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_id: Mapped[int] = mapped_column(BigInteger)
    school_id: Mapped[str] = mapped_column(ID)
    entity: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(ID)
    fields: Mapped[str] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]

    __table_args__ = (Index(None, "token_id", "at"), Index(None, "record_id"))
