"""Waivers: accepted exceptions to policy rules, per model version, until a date.

Revision ID: 0004_waivers
Revises: 0003_analysis_runs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_waivers"
down_revision = "0003_analysis_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
            name=op.f("fk_waiver_model_version_id_model_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiver")),
    )
    op.create_index("ix_waiver_model_version_id", "waiver", ["model_version_id"])


def downgrade() -> None:
    op.drop_index("ix_waiver_model_version_id", table_name="waiver")
    op.drop_table("waiver")
