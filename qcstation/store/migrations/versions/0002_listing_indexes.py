"""Listing indexes: (lot | verdict | station, created_at, id) for newest-first pages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 17:50:11.936440
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspections_lot_created"))
        batch_op.drop_index(batch_op.f("ix_inspections_station"))
        batch_op.drop_index(batch_op.f("ix_inspections_verdict"))
        batch_op.create_index(
            "ix_inspections_lot_created_id", ["lot_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_inspections_station_created", ["station", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_inspections_verdict_created", ["verdict", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index("ix_inspections_verdict_created")
        batch_op.drop_index("ix_inspections_station_created")
        batch_op.drop_index("ix_inspections_lot_created_id")
        batch_op.create_index(batch_op.f("ix_inspections_verdict"), ["verdict"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspections_station"), ["station"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inspections_lot_created"), ["lot_id", "created_at"], unique=False
        )
