"""The database schema as typed SQLAlchemy models: the one place that says what a table holds.

This module holds the tables every command touches (model versions, logs, runs, evidence, the audit
log, users); each other area's tables are in a module of its own (``AREA_MODULES``), imported by its
repository, so a command declares and maps only the tables it uses. These rows never leave
``storage/``: repositories turn them into the frozen domain objects. JSON is stored as canonical text
(sorted keys, no spaces) so a stored value hashes the same on every engine, and times are
timezone-aware UTC on the way in and out. Migrations in ``migrations/versions`` must produce exactly
``complete_metadata()``; a test compares the two on both engines.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from signoff.domain.canonical import canonical_json

# Stable constraint names, so migrations (and SQLite batch rebuilds) can refer to them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SHA256_LENGTH = 64


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC time on every engine (SQLite keeps no zone, so it is stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("times stored by Signoff must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CanonicalJSON(TypeDecorator[Any]):
    """A JSON value stored as its canonical text (what Signoff hashes), read back as Python values."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else canonical_json(value).decode("utf-8")

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ModelVersionRow(Base):
    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(40), default="manual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attributes: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON, default=dict)

    logs: Mapped[list[PredictionLogRow]] = relationship(back_populates="model_version", lazy="raise")


class EvidenceBlobRow(Base):
    """One immutable piece of evidence, named by the SHA-256 of its bytes."""

    __tablename__ = "evidence_blob"

    sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    chunks: Mapped[list[EvidenceChunkRow]] = relationship(back_populates="blob", lazy="raise")


class EvidenceChunkRow(Base):
    """The bytes of a blob in order, a few MiB each, so that no engine has to hold a whole file."""

    __tablename__ = "evidence_chunk"

    blob_sha256: Mapped[str] = mapped_column(ForeignKey("evidence_blob.sha256"), primary_key=True)
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    blob: Mapped[EvidenceBlobRow] = relationship(back_populates="chunks", lazy="raise")


class AuditEventRow(Base):
    """The append-only ledger. Database triggers (see the migration) refuse UPDATE and DELETE."""

    __tablename__ = "audit_event"
    __table_args__ = (
        UniqueConstraint("hash"),
        Index("ix_audit_event_action", "action"),
        Index("ix_audit_event_entity", "entity"),
    )

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, kept as text: it is what was hashed
    previous_hash: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    hash: Mapped[str] = mapped_column(String(SHA256_LENGTH))


class AuditHeadRow(Base):
    """The last appended event, moved in the same transaction as each append.

    Appends lock this one row, so concurrent writers on PostgreSQL queue up instead of forking the
    chain, and verification can tell when events were cut off the end of the ledger.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(SHA256_LENGTH))


class PredictionLogRow(Base):
    __tablename__ = "prediction_log"
    __table_args__ = (
        UniqueConstraint("model_version_id", "role", "source_sha256", "settings_sha256"),
        CheckConstraint("role IN ('reference', 'validation', 'production')", name="role"),
        Index("ix_prediction_log_evidence_sha256", "evidence_sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"))
    role: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(String(500))
    source_sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    # Hash of the column mapping and read options: with the source hash, what makes an import the same.
    settings_sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    settings: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    evidence_sha256: Mapped[str] = mapped_column(ForeignKey("evidence_blob.sha256"))
    quarantine_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence_blob.sha256"))
    rows: Mapped[int] = mapped_column(BigInteger)
    mapping: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    validation: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    importer: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON, default=dict)

    model_version: Mapped[ModelVersionRow] = relationship(back_populates="logs", lazy="raise")


class LogSourceRow(Base):
    """An external log source: where the log that ``log_id`` stands for lives (never credentials)."""

    __tablename__ = "log_source"

    log_id: Mapped[int] = mapped_column(ForeignKey("prediction_log.id"), primary_key=True)
    engine: Mapped[str] = mapped_column(String(50))
    url: Mapped[str] = mapped_column(Text)
    table_name: Mapped[str | None] = mapped_column(String(500))
    query: Mapped[str | None] = mapped_column(Text)
    engine_version: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    columns: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    profile: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)


class AnalysisRunRow(Base):
    """One computed analysis: what went in (hashes, parameters, engine version) and what came out."""

    __tablename__ = "analysis_run"
    __table_args__ = (
        UniqueConstraint("request_sha256"),
        Index("ix_analysis_run_kind_model", "kind", "model_version_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_version.id"))
    # Hash of kind, model version, inputs, parameters and engine version: an identical run has the same.
    request_sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    inputs: Mapped[dict[str, str]] = mapped_column(CanonicalJSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    engine_version: Mapped[str] = mapped_column(String(200))
    result: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    result_sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


# --- Users and their sign-in tokens (issue 6) --------------------------------------------------------


class UserRow(Base):
    """A person. Never deleted (a trigger refuses it): a username, once used, stays that person's."""

    __tablename__ = "app_user"  # "user" is a reserved word in PostgreSQL
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    roles: Mapped[list[str]] = mapped_column(CanonicalJSON)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_hash: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Hex public keys replaced by an administrator's reset: they still verify the older signatures.
    retired_public_keys: Mapped[list[str]] = mapped_column(CanonicalJSON, default=list)


class AuthTokenRow(Base):
    """A sign-in token for the CLI (``signoff login``): only its SHA-256 is kept, never the token."""

    __tablename__ = "auth_token"
    __table_args__ = (UniqueConstraint("token_sha256"), Index("ix_auth_token_username", "username"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    username: Mapped[str] = mapped_column(ForeignKey("app_user.username"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The tables of each area, in modules of their own: a repository imports its own; the whole schema
# (migrations, the test comparing them with the models) asks for ``complete_metadata()``.
AREA_MODULES = ("review_tables", "registry_tables", "inventory_tables", "authority_tables")


def complete_metadata() -> MetaData:
    """Every table of the schema (the areas' modules imported)."""
    import importlib

    for module in AREA_MODULES:
        importlib.import_module(f"signoff.storage.{module}")
    return Base.metadata
