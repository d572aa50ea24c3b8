"""The identity map: an index of (system, entity, gateway id), so that "is this record linked in
that system" (the deletion sweep's has-unlinked probe, agreements by gateway id) is one index
probe whatever the statistics say of each entity's share of links (issue 11: with statistics
taken before an entity's links arrived, PostgreSQL probed the unique index by (system, entity)
and filtered thousands of links per record).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("identity_map", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identity_map_system_entity_gateway_id",
            ["system", "entity", "gateway_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_map", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_map_system_entity_gateway_id")
