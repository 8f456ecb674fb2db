"""Initial tables: lots, nets, inspections, defects, reviews, users, api_tokens, audit.

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-04 17:38:22.861548
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("who", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("entity", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("why", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entity", ["entity", "id"], unique=False)

    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("buyer", sa.String(length=200), nullable=True),
        sa.Column("spec_name", sa.String(length=200), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("sampling", sa.JSON(), nullable=True),
        sa.Column("station", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "nets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lots.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lot_id", "label", name="uq_nets_lot_label"),
    )
    op.create_table(
        "inspections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("station", sa.String(length=100), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("net_pk", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("image_name", sa.String(length=500), nullable=True),
        sa.Column("frame_id", sa.String(length=64), nullable=True),
        sa.Column("source_name", sa.String(length=500), nullable=True),
        sa.Column("spec_name", sa.String(length=200), nullable=False),
        sa.Column("spec_sha256", sa.String(length=64), nullable=False),
        sa.Column("calibration_id", sa.String(length=200), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=True),
        sa.Column("model_sha256", sa.String(length=64), nullable=True),
        sa.Column("mesh", sa.JSON(), nullable=True),
        sa.Column("timing_ms", sa.JSON(), nullable=False),
        sa.Column("uncertain", sa.Boolean(), nullable=False),
        sa.Column("image_store", sa.String(length=32), nullable=False),
        sa.Column("image_path", sa.String(length=200), nullable=False),
        sa.Column("overlay_path", sa.String(length=200), nullable=True),
        sa.Column("images_state", sa.String(length=10), nullable=False),
        sa.Column("evidence", sa.Boolean(), nullable=False),
        sa.Column("reviewed_verdict", sa.String(length=8), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lots.id"],
        ),
        sa.ForeignKeyConstraint(
            ["net_pk"],
            ["nets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index("ix_inspections_created", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_inspections_lot_created", ["lot_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspections_net_pk"), ["net_pk"], unique=False)
        batch_op.create_index("ix_inspections_station", ["station"], unique=False)
        batch_op.create_index("ix_inspections_verdict", ["verdict"], unique=False)

    op.create_table(
        "defects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("bbox_px", sa.JSON(), nullable=False),
        sa.Column("size_mm", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("defects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_defects_inspection_id"), ["inspection_id"], unique=False
        )
        batch_op.create_index("ix_defects_type", ["type", "inspection_id"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.String(length=32), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("before", sa.String(length=8), nullable=False),
        sa.Column("after", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("defect_label", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reviews_inspection_id"), ["inspection_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_inspection_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("defects", schema=None) as batch_op:
        batch_op.drop_index("ix_defects_type")
        batch_op.drop_index(batch_op.f("ix_defects_inspection_id"))

    op.drop_table("defects")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index("ix_inspections_verdict")
        batch_op.drop_index("ix_inspections_station")
        batch_op.drop_index(batch_op.f("ix_inspections_net_pk"))
        batch_op.drop_index("ix_inspections_lot_created")
        batch_op.drop_index("ix_inspections_created")

    op.drop_table("inspections")
    op.drop_table("nets")
    op.drop_table("users")
    op.drop_table("lots")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entity")

    op.drop_table("audit")
    op.drop_table("api_tokens")
