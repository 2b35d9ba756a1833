"""Identity: sign-in tokens, password resets, signed waivers, approvals with conditions as obligations.

``auth_token`` keeps only the SHA-256 of each CLI token; ``finding`` gains an owner and a due date; ``app_user`` gains the forced password change
and the public keys retired by a reset; ``waiver`` gains its signature; ``signature`` gains the
justification and conditions an approval with conditions signs; ``review_condition`` holds each
condition as an obligation (owner, due date, status).

Revision ID: 0007_identity
Revises: 0006_reviews
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_identity"
down_revision = "0006_reviews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): app_user and signature carry triggers that a rebuild drops.
    op.add_column(
        "app_user", sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "app_user", sa.Column("retired_public_keys", sa.Text(), nullable=False, server_default="[]")
    )
    for name, column_type in (
        ("role", sa.String(length=20)),
        ("printed_name", sa.String(length=200)),
        ("signature", sa.LargeBinary()),
        ("public_key_fingerprint", sa.String(length=64)),
    ):
        op.add_column("waiver", sa.Column(name, column_type, nullable=True))
    op.add_column("finding", sa.Column("owner", sa.String(length=64), nullable=True))
    op.add_column("finding", sa.Column("due", sa.Date(), nullable=True))
    op.add_column("signature", sa.Column("justification", sa.Text(), nullable=True))
    op.add_column("signature", sa.Column("conditions", sa.Text(), nullable=True))
    op.create_table(
        "auth_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["username"], ["app_user.username"], name=op.f("fk_auth_token_username_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_token")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_auth_token_token_sha256")),
    )
    op.create_index("ix_auth_token_username", "auth_token", ["username"])
    op.create_table(
        "review_condition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'in_remediation', 'closed', 'risk_accepted')",
            name=op.f("ck_review_condition_status"),
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_review_condition_review_id_review")
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"], ["signature.id"], name=op.f("fk_review_condition_signature_id_signature")
        ),
        sa.ForeignKeyConstraint(
            ["owner"], ["app_user.username"], name=op.f("fk_review_condition_owner_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["app_user.username"], name=op.f("fk_review_condition_closed_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_condition")),
    )
    op.create_index("ix_review_condition_review_id", "review_condition", ["review_id"])


def downgrade() -> None:
    op.drop_index("ix_review_condition_review_id", table_name="review_condition")
    op.drop_table("review_condition")
    op.drop_index("ix_auth_token_username", table_name="auth_token")
    op.drop_table("auth_token")
    # DROP COLUMN (SQLite >= 3.35) keeps the tables and their triggers.
    for name in ("conditions", "justification"):
        op.drop_column("signature", name)
    op.drop_column("finding", "due")
    op.drop_column("finding", "owner")
    for name in ("public_key_fingerprint", "signature", "printed_name", "role"):
        op.drop_column("waiver", name)
    op.drop_column("app_user", "retired_public_keys")
    op.drop_column("app_user", "must_change_password")
