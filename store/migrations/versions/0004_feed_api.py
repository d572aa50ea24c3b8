"""Feed API: access tokens (hashes only), idempotency keys of journal writes, access log of
personal-data reads. Self-contained: only new tables.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-28 18:52:04.217539
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_access_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('token_id', sa.BigInteger(), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('fields', sa.String(length=32), nullable=False),
    sa.Column('route', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_access_log'))
    )
    with op.batch_alter_table('api_access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_access_log_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_access_log_token_id_at'), ['token_id', 'at'], unique=False)

    op.create_table('api_idempotency',
    sa.Column('token_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_id', 'key', name=op.f('pk_api_idempotency'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('schools', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('pupil_id', sa.String(length=64), nullable=True),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('burst', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('name', name=op.f('uq_api_tokens_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )


def downgrade() -> None:
    op.drop_table('api_tokens')
    op.drop_table('api_idempotency')
    with op.batch_alter_table('api_access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_access_log_token_id_at'))
        batch_op.drop_index(batch_op.f('ix_api_access_log_record_id'))

    op.drop_table('api_access_log')
