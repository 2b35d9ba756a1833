"""The model inventory of record: one row per model (and per version where it differs).

Revision ID: 0010_inventory
Revises: 0006_reviews
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_inventory"
down_revision = "0009_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=300), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("stage_history", sa.Text(), nullable=False),
        sa.Column("risk", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_record")),
        sa.UniqueConstraint("model_name", "version", name=op.f("uq_inventory_record_model_name_version")),
    )


def downgrade() -> None:
    op.drop_table("inventory_record")
