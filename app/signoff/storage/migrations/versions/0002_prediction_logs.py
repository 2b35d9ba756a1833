"""Prediction logs: an imported log's evidence, column mapping and validation report.

Revision ID: 0002_prediction_logs
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_prediction_logs"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prediction_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("source_name", sa.String(length=500), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("settings_sha256", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("quarantine_sha256", sa.String(length=64), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("validation", sa.Text(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("importer", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "role IN ('reference', 'validation', 'production')", name=op.f("ck_prediction_log_role")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_sha256"],
            ["evidence_blob.sha256"],
            name=op.f("fk_prediction_log_evidence_sha256_evidence_blob"),
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
            name=op.f("fk_prediction_log_model_version_id_model_version"),
        ),
        sa.ForeignKeyConstraint(
            ["quarantine_sha256"],
            ["evidence_blob.sha256"],
            name=op.f("fk_prediction_log_quarantine_sha256_evidence_blob"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_log")),
        sa.UniqueConstraint(
            "model_version_id",
            "role",
            "source_sha256",
            "settings_sha256",
            name=op.f("uq_prediction_log_model_version_id_role_source_sha256_settings_sha256"),
        ),
    )
    op.create_index("ix_prediction_log_evidence_sha256", "prediction_log", ["evidence_sha256"])


def downgrade() -> None:
    op.drop_index("ix_prediction_log_evidence_sha256", table_name="prediction_log")
    op.drop_table("prediction_log")
