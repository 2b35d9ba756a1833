"""Registry snapshots, per-version records and the history of changes between snapshots.

Revision ID: 0005_registry
Revises: 0004_waivers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_registry"
down_revision = "0004_waivers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_uri", sa.String(length=1000), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("models", sa.Integer(), nullable=False),
        sa.Column("versions", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_sha256"],
            ["evidence_blob.sha256"],
            name=op.f("fk_registry_snapshot_content_sha256_evidence_blob"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_snapshot")),
    )
    op.create_index(
        "ix_registry_snapshot_source", "registry_snapshot", ["source_kind", "source_uri", "taken_at"]
    )
    op.create_table(
        "registry_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
            name=op.f("fk_registry_record_model_version_id_model_version"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["registry_snapshot.id"],
            name=op.f("fk_registry_record_snapshot_id_registry_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_record")),
        sa.UniqueConstraint(
            "snapshot_id", "model_version_id", name=op.f("uq_registry_record_snapshot_id_model_version_id")
        ),
    )
    op.create_index("ix_registry_record_model_version_id", "registry_record", ["model_version_id"])
    op.create_table(
        "registry_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("previous_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=300), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("seen_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_by", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["previous_snapshot_id"],
            ["registry_snapshot.id"],
            name=op.f("fk_registry_change_previous_snapshot_id_registry_snapshot"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["registry_snapshot.id"],
            name=op.f("fk_registry_change_snapshot_id_registry_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_change")),
    )
    op.create_index("ix_registry_change_model", "registry_change", ["model", "seen_by"])


def downgrade() -> None:
    op.drop_index("ix_registry_change_model", table_name="registry_change")
    op.drop_table("registry_change")
    op.drop_index("ix_registry_record_model_version_id", table_name="registry_record")
    op.drop_table("registry_record")
    op.drop_index("ix_registry_snapshot_source", table_name="registry_snapshot")
    op.drop_table("registry_snapshot")
