"""Personal document-signing certificates: a person's RSA key sealed under their password. Append-only,
guarded like the evidence tables of 0008 (a new certificate is a new row).

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

APPEND_ONLY = "recorded evidence is append-only: it is never changed or removed"


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
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER personal_certificate_no_{verb.lower()} BEFORE {verb} ON personal_certificate "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
        return
    # evidence_refuse_change() is 0008's: it names the operation and the table it refused.
    op.execute(
        "CREATE TRIGGER personal_certificate_no_update_delete BEFORE UPDATE OR DELETE ON personal_certificate "
        "FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER personal_certificate_no_truncate BEFORE TRUNCATE ON personal_certificate "
        "FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_change()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER personal_certificate_no_{verb}")
    else:
        op.execute("DROP TRIGGER personal_certificate_no_update_delete ON personal_certificate")
        op.execute("DROP TRIGGER personal_certificate_no_truncate ON personal_certificate")
    op.drop_index("ix_personal_certificate_username", table_name="personal_certificate")
    op.drop_table("personal_certificate")
