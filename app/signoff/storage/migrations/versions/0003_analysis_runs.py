"""Analysis runs: every computed analysis with its inputs' hashes, parameters, engine and result.

Revision ID: 0003_analysis_runs
Revises: 0002_prediction_logs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_analysis_runs"
down_revision = "0002_prediction_logs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("engine_version", sa.String(length=200), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("result_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
            name=op.f("fk_analysis_run_model_version_id_model_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_run")),
        sa.UniqueConstraint("request_sha256", name=op.f("uq_analysis_run_request_sha256")),
    )
    op.create_index("ix_analysis_run_kind_model", "analysis_run", ["kind", "model_version_id"])


def downgrade() -> None:
    op.drop_index("ix_analysis_run_kind_model", table_name="analysis_run")
    op.drop_table("analysis_run")
