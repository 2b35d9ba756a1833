"""Users, reviews, chosen logs, findings and electronic signatures.

Signatures are append-only and users are never deleted: triggers refuse UPDATE/DELETE on ``signature``
and DELETE on ``app_user`` (Part 11 §11.100: a signature is never reused or reassigned).

Revision ID: 0006_reviews
Revises: 0004_waivers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_reviews"
down_revision = "0005_registry"
branch_labels = None
depends_on = None

SIGNATURES_APPEND_ONLY = "signatures are append-only: they are never changed or removed"
USERS_KEPT = "users are never deleted: disable the account instead"
REVIEW_STATES = (
    "draft",
    "in_review",
    "approved",
    "approved_with_conditions",
    "rejected",
    "revoked",
    "superseded",
)


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bundle_hash", sa.String(length=64), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('" + "', '".join(REVIEW_STATES) + "')", name=op.f("ck_review_state")),
        sa.ForeignKeyConstraint(
            ["model_version_id"], ["model_version.id"], name=op.f("fk_review_model_version_id_model_version")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["app_user.username"], name=op.f("fk_review_opened_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["bundle_hash"], ["evidence_blob.sha256"], name=op.f("fk_review_bundle_hash_evidence_blob")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["app_user.username"], name=op.f("fk_review_revoked_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["review.id"], name=op.f("fk_review_supersedes_id_review")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"], ["review.id"], name=op.f("fk_review_superseded_by_id_review")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )
    op.create_index("ix_review_model_version_id", "review", ["model_version_id"])
    op.create_table(
        "review_log",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["review.id"], name=op.f("fk_review_log_review_id_review")),
        sa.ForeignKeyConstraint(
            ["log_id"], ["prediction_log.id"], name=op.f("fk_review_log_log_id_prediction_log")
        ),
        sa.PrimaryKeyConstraint("review_id", "log_id", name=op.f("pk_review_log")),
    )
    op.create_table(
        "finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "type IN ('validation_issue', 'limitation', 'policy_exception', 'observation')",
            name=op.f("ck_finding_type"),
        ),
        sa.CheckConstraint(
            "severity IN ('info', 'low', 'medium', 'high', 'critical')", name=op.f("ck_finding_severity")
        ),
        sa.CheckConstraint("status IN ('open', 'resolved', 'accepted')", name=op.f("ck_finding_status")),
        sa.ForeignKeyConstraint(["review_id"], ["review.id"], name=op.f("fk_finding_review_id_review")),
        sa.ForeignKeyConstraint(["author"], ["app_user.username"], name=op.f("fk_finding_author_app_user")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["app_user.username"], name=op.f("fk_finding_updated_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding")),
        sa.UniqueConstraint("review_id", "number", name=op.f("uq_finding_review_id_number")),
    )
    op.create_table(
        "signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("printed_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("meaning", sa.String(length=40), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bundle_hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("public_key_fingerprint", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "meaning IN ('reviewed', 'approved', 'approved_with_conditions', 'rejected')",
            name=op.f("ck_signature_meaning"),
        ),
        sa.ForeignKeyConstraint(["review_id"], ["review.id"], name=op.f("fk_signature_review_id_review")),
        sa.ForeignKeyConstraint(["signer"], ["app_user.username"], name=op.f("fk_signature_signer_app_user")),
        sa.ForeignKeyConstraint(
            ["bundle_hash"], ["evidence_blob.sha256"], name=op.f("fk_signature_bundle_hash_evidence_blob")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature")),
        sa.UniqueConstraint(
            "review_id",
            "signer",
            "role",
            "bundle_hash",
            name=op.f("uq_signature_review_id_signer_role_bundle_hash"),
        ),
    )
    op.create_index("ix_signature_review_id", "signature", ["review_id"])
    _create_triggers()


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER signature_no_{verb.lower()} BEFORE {verb} ON signature "
                f"BEGIN SELECT RAISE(ABORT, '{SIGNATURES_APPEND_ONLY}'); END"
            )
        op.execute(
            f"CREATE TRIGGER app_user_no_delete BEFORE DELETE ON app_user BEGIN SELECT RAISE(ABORT, '{USERS_KEPT}'); END"
        )
        return
    op.execute(
        "CREATE FUNCTION signature_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{SIGNATURES_APPEND_ONLY} (% refused)', TG_OP; END $$"
    )
    op.execute(
        "CREATE TRIGGER signature_no_update_delete BEFORE UPDATE OR DELETE ON signature "
        "FOR EACH ROW EXECUTE FUNCTION signature_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER signature_no_truncate BEFORE TRUNCATE ON signature "
        "FOR EACH STATEMENT EXECUTE FUNCTION signature_refuse_change()"
    )
    op.execute(
        "CREATE FUNCTION app_user_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{USERS_KEPT} (% refused)', TG_OP; END $$"
    )
    op.execute(
        "CREATE TRIGGER app_user_no_delete BEFORE DELETE ON app_user "
        "FOR EACH ROW EXECUTE FUNCTION app_user_refuse_delete()"
    )
    op.execute(
        "CREATE TRIGGER app_user_no_truncate BEFORE TRUNCATE ON app_user "
        "FOR EACH STATEMENT EXECUTE FUNCTION app_user_refuse_delete()"
    )


def downgrade() -> None:
    # Dropping a table drops its triggers; the PostgreSQL functions go separately.
    op.drop_index("ix_signature_review_id", table_name="signature")
    op.drop_table("signature")
    op.drop_table("finding")
    op.drop_table("review_log")
    op.drop_index("ix_review_model_version_id", table_name="review")
    op.drop_table("review")
    op.drop_table("app_user")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION signature_refuse_change()")
        op.execute("DROP FUNCTION app_user_refuse_delete()")
