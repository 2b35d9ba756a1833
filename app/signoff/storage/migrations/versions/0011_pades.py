"""The workspace certificate authority: root and document-signing certificates with their keys.

Revision ID: 0011_pades
Revises: 0010_inventory
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_pades"
down_revision = "0010_inventory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_certificate")),
        sa.UniqueConstraint("role", name=op.f("uq_workspace_certificate_role")),
    )


def downgrade() -> None:
    op.drop_table("workspace_certificate")
