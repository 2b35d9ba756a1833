"""The registry tables: each registry import (snapshot), what it said per model version, and changes.

Part of the schema (``schema.py``), imported by the registry repository only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from signoff.storage.schema import Base, CanonicalJSON, UTCDateTime


class RegistrySnapshotRow(Base):
    """One registry import. Its full content is the evidence blob ``content_sha256`` (canonical JSON)."""

    __tablename__ = "registry_snapshot"
    __table_args__ = (Index("ix_registry_snapshot_source", "source_kind", "source_uri", "taken_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(20))
    source_uri: Mapped[str] = mapped_column(String(1000))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scope: Mapped[list[str] | None] = mapped_column(CanonicalJSON)  # models asked for; NULL: everything
    content_sha256: Mapped[str] = mapped_column(ForeignKey("evidence_blob.sha256"))
    models: Mapped[int] = mapped_column(Integer)
    versions: Mapped[int] = mapped_column(Integer)
    changes: Mapped[int] = mapped_column(Integer)
    request_count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(200))


class RegistryRecordRow(Base):
    """What one snapshot said about one model version: lineage, files, approval, card (a dict)."""

    __tablename__ = "registry_record"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "model_version_id"),
        Index("ix_registry_record_model_version_id", "model_version_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshot.id"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"))
    record: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)


class RegistryChangeRow(Base):
    """One change between two snapshots of the same source, seen after ``seen_after`` and by ``seen_by``."""

    __tablename__ = "registry_change"
    __table_args__ = (Index("ix_registry_change_model", "model", "seen_by"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshot.id"))
    previous_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("registry_snapshot.id"))
    kind: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(300))
    version: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(500))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    seen_after: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_by: Mapped[datetime] = mapped_column(UTCDateTime)
