"""Outbox retries and one source of external ids.

- ``outbox.next_attempt_at``: a push whose outcome is unknown (``failed``) is sent again with the
  same key from that time on; an index on ``outbox.record_id`` lets a system's pull settle the
  pushes queued for the records it agrees on.
- The record tables lose ``ext_ids``: the identity map is the one source of a record's ids in
  the systems (a record read from the store carries them from there). Links that only a row
  held are copied into the identity map first, so nothing is lost; a downgrade writes them back.

Self-contained: it touches only the outbox and the ``ext_ids`` column of the record tables.

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-29 10:00:00.000000
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the record tables as they were at 0001 (entity name = table name)
RECORD_TABLES = (
    'schools', 'years', 'periods', 'subjects', 'teachers', 'classes', 'pupils', 'enrolments',
    'subgroups', 'lessons', 'marks', 'final_marks', 'attendance',
)  # fmt: skip
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_CHUNK = 5_000

_identity = sa.table(
    'identity_map',
    sa.column('system', sa.String),
    sa.column('entity', sa.String),
    sa.column('external_id', sa.String),
    sa.column('gateway_id', sa.String),
    sa.column('synced_hash', sa.String),
    sa.column('created_at', sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_record_id'), ['record_id'], unique=False)

    conn = op.get_bind()
    for name in RECORD_TABLES:
        _copy_links_to_identity(conn, name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('ext_ids')


def downgrade() -> None:
    conn = op.get_bind()
    for name in RECORD_TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('ext_ids', _JSON, nullable=False, server_default=sa.text("'{}'"))
            )
        _copy_links_to_rows(conn, name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('ext_ids', server_default=None)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_record_id'))
        batch_op.drop_column('next_attempt_at')


def _rows_with_ids(conn: sa.Connection, name: str) -> Iterator[list[tuple[str, dict[str, str]]]]:
    """The rows that hold external ids, a chunk at a time (keyset paging by id)."""
    records = sa.table(name, sa.column('id', sa.String), sa.column('ext_ids', _JSON))
    last = ''
    while True:
        page = conn.execute(
            sa.select(records.c.id, records.c.ext_ids)
            .where(records.c.id > last)
            .order_by(records.c.id)
            .limit(_CHUNK)
        ).all()
        if not page:
            return
        last = page[-1][0]
        chunk = []
        for rid, ext_ids in page:
            if isinstance(ext_ids, str):
                ext_ids = json.loads(ext_ids)
            if ext_ids:
                chunk.append((rid, {str(k): str(v) for k, v in ext_ids.items()}))
        if chunk:
            yield chunk


def _copy_links_to_identity(conn: sa.Connection, name: str) -> None:
    """A link a row held and the identity map lacks becomes an identity link (unless that
    external id is already linked to another record: the identity map wins)."""
    c = _identity.c
    for chunk in _rows_with_ids(conn, name):
        wanted = {(system, ext): gid for gid, ids in chunk for system, ext in ids.items()}
        known: set[tuple[str, str]] = set()
        exts = sorted({ext for _, ext in wanted})
        for start in range(0, len(exts), _CHUNK):
            stmt = sa.select(c.system, c.external_id).where(
                c.entity == name, c.external_id.in_(exts[start : start + _CHUNK])
            )
            known.update((s, e) for s, e in conn.execute(stmt))
        now = dt.datetime.now(dt.UTC)
        new: list[dict[str, Any]] = [
            {
                'system': system,
                'entity': name,
                'external_id': ext,
                'gateway_id': gid,
                'synced_hash': None,
                'created_at': now,
            }
            for (system, ext), gid in wanted.items()
            if (system, ext) not in known
        ]
        if new:
            conn.execute(sa.insert(_identity), new)


def _copy_links_to_rows(conn: sa.Connection, name: str) -> None:
    records = sa.table(name, sa.column('id', sa.String), sa.column('ext_ids', _JSON))
    c = _identity.c
    by_gid: dict[str, dict[str, str]] = {}
    stmt = (
        sa.select(c.gateway_id, c.system, c.external_id)
        .where(c.entity == name)
        .order_by(sa.text('id DESC'))  # the earliest link of a system wins
    )
    for gid, system, ext in conn.execute(stmt):
        by_gid.setdefault(gid, {})[system] = ext
    rows = [{'b_id': gid, 'b_ext': ids} for gid, ids in by_gid.items()]
    for start in range(0, len(rows), _CHUNK):
        conn.execute(
            sa.update(records)
            .where(records.c.id == sa.bindparam('b_id'))
            .values(ext_ids=sa.bindparam('b_ext', type_=_JSON)),
            rows[start : start + _CHUNK],
        )
