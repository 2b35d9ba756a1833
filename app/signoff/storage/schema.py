"""The database schema as typed SQLAlchemy models: the one place that says what a table holds.

These rows never leave ``storage/``: repositories turn them into the frozen domain objects. JSON is
stored as canonical text (sorted keys, no spaces) so a stored value hashes the same on every engine,
and times are timezone-aware UTC on the way in and out. Migrations in ``migrations/versions`` must
produce exactly this schema; a test compares the two on both engines.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
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


class WaiverRow(Base):
    """An accepted exception to a policy rule for one model version, until a date. Never edited:
    a changed waiver is a new one, so the record shows what was in force when."""

    __tablename__ = "waiver"
    __table_args__ = (Index("ix_waiver_model_version_id", "model_version_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"))
    rule_id: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(500))
    justification: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(200))
    until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    # A waiver is a signed act (0007): the granting account's role and Ed25519 signature over the
    # waiver's manifest. Waivers recorded before carry none.
    role: Mapped[str | None] = mapped_column(String(20))
    printed_name: Mapped[str | None] = mapped_column(String(200))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    public_key_fingerprint: Mapped[str | None] = mapped_column(String(SHA256_LENGTH))


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


# --- Users, reviews, findings and signatures (issue 6) ------------------------------------------------

REVIEW_STATES = (
    "draft",
    "in_review",
    "approved",
    "approved_with_conditions",
    "rejected",
    "revoked",
    "superseded",
)


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


class ReviewRow(Base):
    """One review. ``version`` grows by one on every change: an UPDATE names the version it read."""

    __tablename__ = "review"
    __table_args__ = (
        CheckConstraint("state IN ('" + "', '".join(REVIEW_STATES) + "')", name="state"),
        Index("ix_review_model_version_id", "model_version_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"))
    title: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    opened_by: Mapped[str] = mapped_column(ForeignKey("app_user.username"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The bundle as last recorded (opened, edited, signed); its canonical JSON is in the evidence store.
    bundle_hash: Mapped[str] = mapped_column(ForeignKey("evidence_blob.sha256"))
    requirements: Mapped[list[dict[str, Any]]] = mapped_column(CanonicalJSON)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.username"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("review.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("review.id"))


class ReviewLogRow(Base):
    """The prediction logs chosen as evidence for a review."""

    __tablename__ = "review_log"

    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), primary_key=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("prediction_log.id"), primary_key=True)


class FindingRow(Base):
    __tablename__ = "finding"
    __table_args__ = (
        UniqueConstraint("review_id", "number"),
        CheckConstraint(
            "type IN ('validation_issue', 'limitation', 'policy_exception', 'observation')", name="type"
        ),
        CheckConstraint("severity IN ('info', 'low', 'medium', 'high', 'critical')", name="severity"),
        CheckConstraint("status IN ('open', 'resolved', 'accepted')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"))
    number: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(ForeignKey("app_user.username"))
    status: Mapped[str] = mapped_column(String(20))
    resolution: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(ForeignKey("app_user.username"))
    owner: Mapped[str | None] = mapped_column(String(64))  # who must remedy it (0007)
    due: Mapped[date | None] = mapped_column(Date)


class SignatureRow(Base):
    """An electronic signature: the manifest's fields, the Ed25519 signature and the key's fingerprint.

    Append-only (triggers refuse UPDATE and DELETE). One person signs one bundle once in one role.
    """

    __tablename__ = "signature"
    __table_args__ = (
        UniqueConstraint("review_id", "signer", "role", "bundle_hash"),
        CheckConstraint(
            "meaning IN ('reviewed', 'approved', 'approved_with_conditions', 'rejected')", name="meaning"
        ),
        Index("ix_signature_review_id", "review_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"))
    signer: Mapped[str] = mapped_column(ForeignKey("app_user.username"))
    printed_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    meaning: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bundle_hash: Mapped[str] = mapped_column(ForeignKey("evidence_blob.sha256"))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    public_key_fingerprint: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    # Part of what an approval with conditions signs (0007): why, and the obligations it sets.
    justification: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[list[dict[str, Any]] | None] = mapped_column(CanonicalJSON)


class ConditionRow(Base):
    """An obligation set by an approval with conditions: what, who owns it, by when, and how it ended.

    Its text, owner and due date are fixed by the signature that set it; only its status moves.
    """

    __tablename__ = "review_condition"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'in_remediation', 'closed', 'risk_accepted')", name="status"),
        Index("ix_review_condition_review_id", "review_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"))
    signature_id: Mapped[int] = mapped_column(ForeignKey("signature.id"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(ForeignKey("app_user.username"))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(Text, default="")
    closed_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.username"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- The model inventory of record (issue 19) ---------------------------------------------------------


class InventoryRecordRow(Base):
    """A model's inventory record (``version`` empty) or one version's differences from it.

    ``revision`` grows by one on every change: an UPDATE names the revision it read. ``risk`` holds the
    latest tier assessment (rubric answers, their evidence hash) and any approver's override.
    """

    __tablename__ = "inventory_record"
    __table_args__ = (UniqueConstraint("model_name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(100))  # "" is the model's own record
    values: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    stage_history: Mapped[list[dict[str, Any]]] = mapped_column(CanonicalJSON)
    risk: Mapped[dict[str, Any] | None] = mapped_column(CanonicalJSON)
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))


# --- The workspace certificate authority (issue 21) -----------------------------------------------------


class WorkspaceCertificateRow(Base):
    """The workspace authority's root and document-signing certificates, one row per role, never changed.

    The private keys are PKCS#8 DER encrypted with the workspace's key-encryption passphrase, which is kept
    outside the database (``services/authority.py``); rows of 0011 held them unencrypted and are encrypted
    in place on first use, the one change a row sees. An organisation's root has no key here (empty).
    """

    __tablename__ = "workspace_certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(40), unique=True)
    certificate: Mapped[bytes] = mapped_column(LargeBinary)
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class PersonalCertificateRow(Base):
    """A person's own document-signing certificate (issued by the workspace or organisation CA) and its
    RSA key sealed under their password, for reports signed as themselves. Append-only: a new row after a
    password change or a new CA; the newest row by that CA that the password opens is used."""

    __tablename__ = "personal_certificate"
    __table_args__ = (Index("ix_personal_certificate_username", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("app_user.username"))
    certificate: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    issuer_sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
