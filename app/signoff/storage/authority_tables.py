"""The workspace certificate authority's tables: its certificates and people's own signing certificates.

Part of the schema (``schema.py``), imported by the authority repository only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from signoff.storage.schema import SHA256_LENGTH, Base, UTCDateTime


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
