"""Personal document-signing certificates: a person's RSA key sealed under their password.

Revision ID: 0012_trust
Revises: 0011_pades
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_trust"
down_revision = "0011_pades"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("issuer_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"], ["app_user.username"], name=op.f("fk_personal_certificate_username_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_certificate")),
    )
    op.create_index("ix_personal_certificate_username", "personal_certificate", ["username"])


def downgrade() -> None:
    op.drop_index("ix_personal_certificate_username", table_name="personal_certificate")
    op.drop_table("personal_certificate")
