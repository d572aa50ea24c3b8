"""Stored reconciliations: one row per reconciliation of a school with a system, one per difference

Self-contained (it creates only its own two tables), so the lead can re-chain it after other
branches' revisions.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28 20:09:01.125753
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reconciliation_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('reconciliation_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('section', sa.String(length=16), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=True),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('class_id', sa.String(length=64), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('pupil_id', sa.String(length=64), nullable=True),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('pending', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('new', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_items'))
    )
    with op.batch_alter_table('reconciliation_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_items_reconciliation_id_key'), ['reconciliation_id', 'key'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_items_reconciliation_id_section_class_id_subject_id'), ['reconciliation_id', 'section', 'class_id', 'subject_id'], unique=False)

    op.create_table('reconciliations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('system', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('scope_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('previous_id', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliations'))
    )
    with op.batch_alter_table('reconciliations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliations_school_id_system_scope_key_id'), ['school_id', 'system', 'scope_key', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reconciliations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliations_school_id_system_scope_key_id'))

    op.drop_table('reconciliations')
    with op.batch_alter_table('reconciliation_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_items_reconciliation_id_section_class_id_subject_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_items_reconciliation_id_key'))

    op.drop_table('reconciliation_items')
