"""The review tables: reviews with their chosen logs, findings, signatures, conditions and waivers.

Part of the schema (``schema.py``), imported by the repositories that use them, so that a command
reading a stored analysis does not declare and map them (start-up time).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from signoff.storage.schema import SHA256_LENGTH, Base, CanonicalJSON, UTCDateTime

REVIEW_STATES = (
    "draft",
    "in_review",
    "approved",
    "approved_with_conditions",
    "rejected",
    "revoked",
    "superseded",
)


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
