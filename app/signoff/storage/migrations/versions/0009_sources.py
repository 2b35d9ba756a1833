"""External log sources: where a log that is not copied lives (URL without credentials, query, fingerprint).

Revision ID: 0009_sources
Revises: 0008_tamper
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_sources"
down_revision = "0008_tamper"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_source",
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=50), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("table_name", sa.String(length=500), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("engine_version", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"], ["prediction_log.id"], name=op.f("fk_log_source_log_id_prediction_log")
        ),
        sa.PrimaryKeyConstraint("log_id", name=op.f("pk_log_source")),
    )


def downgrade() -> None:
    op.drop_table("log_source")
