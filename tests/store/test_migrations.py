"""Migrations create every table on an empty database, on both engines, and match the models."""

from __future__ import annotations

from typing import Any

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


def test_ids_only_a_record_row_held_move_to_the_identity_map(db_url: str) -> None:
    """0006 drops ``ext_ids`` from the record tables: a link that only the row held (the push
    path never linked its row) is copied into the identity map first, and one already there
    — or an id linked to another record — is left as the identity map has it."""
    from sqlalchemy import text

    from core.entities import Entity
    from store import migrate

    s = Store.open(db_url)
    try:
        migrate.upgrade(s.engine, "0001")
        with s.engine.begin() as conn:
            _links_without_school(
                conn, ("es2", "71", "mark-1", "h1"), ("o7", "taken", "mark-9", None)
            )
            for rid, ext in (
                ("mark-1", '{"es2": "71", "asiou": "A-1"}'),
                ("mark-2", '{"o7": "taken"}'),
                ("mark-3", "{}"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO marks (id, school_id, ext_ids, content_hash, version, "
                        "pupil_id, lesson_id, value, weight) "
                        "VALUES (:id, 'sch1', :ext, 'h', 1, 'p', 'l', '5', 1)"
                    ),
                    {"id": rid, "ext": ext},
                )
        s.upgrade()
        assert "ext_ids" not in {c["name"] for c in inspect(s.engine).get_columns("marks")}
        with s.read() as tx:
            got = tx.identity.ext_ids_many(Entity.MARKS, ["mark-1", "mark-2", "mark-3"])
            agreed = tx.identity.agreements("es2", Entity.MARKS, ["mark-1"])
        assert got == {"mark-1": {"es2": "71", "asiou": "A-1"}}
        assert agreed == {"mark-1": "h1"}  # the link that was there is untouched
    finally:
        s.close()


def test_a_downgrade_writes_the_links_back_onto_the_rows(db_url: str) -> None:
    import json

    from alembic import command
    from sqlalchemy import text

    from core.entities import Entity
    from store import migrate
    from tests.store.conftest import mark

    s = Store.open(db_url)
    try:
        s.upgrade()
        with s.begin() as tx:
            tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
            tx.identity.link_many("sch1", "es2", Entity.MARKS, {"71": "mark-1"})
            tx.identity.link_many("sch1", "o7", Entity.MARKS, {"g-1": "mark-1"})
        with s.engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0001")
        with s.engine.connect() as conn:
            raw = conn.execute(text("SELECT ext_ids FROM marks WHERE id = 'mark-1'")).scalar_one()
        assert (json.loads(raw) if isinstance(raw, str) else raw) == {"es2": "71", "o7": "g-1"}
    finally:
        s.close()


def test_links_take_the_school_of_their_record(db_url: str) -> None:
    """0009 keys identity links by school: each existing link takes the school of the record it
    names; a link naming no record is dropped; afterwards two schools hold the same external id,
    and a downgrade is refused while they do."""
    import pytest
    from alembic import command
    from sqlalchemy import text

    from core.entities import Entity
    from store import migrate
    from tests.store.conftest import mark

    s = Store.open(db_url)
    try:
        migrate.upgrade(s.engine, "0008")
        with s.begin() as tx:
            tx.records.upsert(Entity.MARKS, [mark(1), mark(2, school="sch2")], source="es2")
        with s.engine.begin() as conn:
            _links_without_school(
                conn,
                ("es2", "71", "mark-1", "h1"),
                ("es2", "72", "mark-2", None),
                ("es2", "73", "mark-gone", None),
            )
        s.upgrade()
        with s.begin() as tx:
            assert tx.identity.links_of("sch1", "es2", Entity.MARKS) == {"71": "mark-1"}
            assert tx.identity.links_of("sch2", "es2", Entity.MARKS) == {"72": "mark-2"}
            assert tx.identity.agreements("es2", Entity.MARKS, ["mark-1"]) == {"mark-1": "h1"}
            tx.identity.link("sch2", "es2", Entity.MARKS, "71", "mark-2b")  # alike, another school
        with s.engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM identity_map")).scalar_one()
        assert left == 3  # 71 and 72 kept, 73 (no record) dropped, 71 of sch2 added
        with (
            pytest.raises(RuntimeError, match="schools share external ids of es2 marks"),
            s.engine.begin() as conn,
        ):
            command.downgrade(migrate.alembic_config(conn), "0008")
    finally:
        s.close()


def _links_without_school(conn: Any, *links: tuple[str, str, str, str | None]) -> None:
    """Identity links of marks as the schema before 0009 held them: ``(system, external id,
    gateway id, agreed hash)``, written with plain SQL."""
    from sqlalchemy import text

    conn.execute(
        text(
            "INSERT INTO identity_map (system, entity, external_id, gateway_id, synced_hash, "
            "created_at) VALUES (:system, 'marks', :ext, :gid, :hash, '2026-01-01 00:00:00')"
        ),
        [{"system": s, "ext": e, "gid": g, "hash": h} for s, e, g, h in links],
    )
