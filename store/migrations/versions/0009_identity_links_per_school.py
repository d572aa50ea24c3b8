"""Identity links per school: ``identity_map.school_id``, part of the unique key.

Two schools of one store may each have an installation of the same system, and such
installations number their records alike. Linked per (system, entity, external id) alone, school
B's mark 71 was taken for school A's mark 71 (issue 15's finding). Each link now belongs to the
school of the record it names; every lookup by external id is scoped to a school.

Upgrade: the column is filled from the record each link names (the record tables keep their
rows, a deleted record included); a link that names no record of the store (none is ever made
without its record, but a store restored by hand might hold one) is dropped and counted. Downgrade
refuses while two schools hold the same external id of a system: the old key could not hold both.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 05:00:00
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the record tables (entity name = table name)
RECORD_TABLES = (
    "schools", "years", "periods", "subjects", "teachers", "classes", "pupils", "enrolments",
    "subgroups", "lessons", "marks", "final_marks", "attendance",
)  # fmt: skip

_log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    with op.batch_alter_table("identity_map", schema=None) as batch_op:
        batch_op.add_column(sa.Column("school_id", sa.String(length=64), nullable=True))

    conn = op.get_bind()
    for name in RECORD_TABLES:
        conn.execute(
            sa.text(
                f"UPDATE identity_map SET school_id = (SELECT r.school_id FROM {name} r "  # noqa: S608
                "WHERE r.id = identity_map.gateway_id) WHERE entity = :entity"
            ),
            {"entity": name},
        )
    dropped = conn.execute(sa.text("DELETE FROM identity_map WHERE school_id IS NULL")).rowcount
    if dropped:
        _log.warning("identity_map: %d links named no record of the store and were dropped", dropped)

    with op.batch_alter_table("identity_map", schema=None) as batch_op:
        batch_op.alter_column("school_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint("uq_identity_map_system_entity_external_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_identity_map_school_id_system_entity_external_id",
            ["school_id", "system", "entity", "external_id"],
        )


def downgrade() -> None:
    conn = op.get_bind()
    shared = conn.execute(
        sa.text(
            "SELECT system, entity, count(*) FROM identity_map "
            "GROUP BY system, entity, external_id HAVING count(DISTINCT school_id) > 1 LIMIT 1"
        )
    ).first()
    if shared is not None:
        raise RuntimeError(
            f"cannot downgrade below 0009: schools share external ids of {shared[0]} "
            f"{shared[1]}; the old identity key holds one school per external id"
        )
    with op.batch_alter_table("identity_map", schema=None) as batch_op:
        batch_op.drop_constraint("uq_identity_map_school_id_system_entity_external_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_identity_map_system_entity_external_id", ["system", "entity", "external_id"]
        )
        batch_op.drop_column("school_id")
