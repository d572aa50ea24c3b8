"""Migrations create every table on an empty database, on both engines, and match the models."""

from __future__ import annotations

from sqlalchemy import inspect

from store import Store
from store.migrate import head_revision, pending_differences
from store.tables import Base


def test_upgrade_creates_the_schema_on_an_empty_database(db_url: str) -> None:
    s = Store.open(db_url)
    try:
        assert s.revision() is None
        before, after = s.upgrade()
        assert before is None
        assert after == head_revision() == s.revision()
        tables = set(inspect(s.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert {"marks", "change_log", "audit", "identity_map", "outbox"} <= tables
    finally:
        s.close()


def test_models_and_migrations_agree(db_url: str) -> None:
    s = Store.open(db_url)
    try:
        s.upgrade()
        assert pending_differences(s.engine) == []
    finally:
        s.close()


def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    s = Store.open(db_url)
    try:
        s.upgrade()
        before, after = s.upgrade()
        assert before == after == head_revision()
    finally:
        s.close()


def test_open_refuses_other_databases() -> None:
    import pytest

    from core.errors import StoreError

    with pytest.raises(StoreError, match="unsupported store backend 'mysql'"):
        Store.open("mysql://u:p@127.0.0.1/x")
    with pytest.raises(StoreError, match="not a database URL"):
        Store.open("not a url")
