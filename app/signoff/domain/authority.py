"""The workspace's certificate authority: a self-signed root and the document-signing certificate it issued.

A report is signed (PAdES) with the document-signing key on behalf of the account that exports it; anyone
holding the report checks that signature against the root certificate embedded in it and compares the
root's SHA-256 fingerprint with the one printed on the cover and known for the workspace.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

ROOT = "root"
DOCUMENT_SIGNING = "document-signing"
ROLES = (ROOT, DOCUMENT_SIGNING)


def certificate_fingerprint(certificate_der: bytes) -> str:
    """SHA-256 (hex) of a certificate's DER bytes: how the cover and a person name the root."""
    return hashlib.sha256(certificate_der).hexdigest()


@dataclass(frozen=True)
class WorkspaceCertificate:
    """One certificate of the workspace authority with its private key (PKCS#8 DER) as stored."""

    role: str  # ROOT or DOCUMENT_SIGNING
    certificate_der: bytes
    private_key_der: bytes
    created_at: datetime
    created_by: str

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate_der)


@dataclass(frozen=True)
class DocumentSigning:
    """What signing a report needs: the document-signing certificate and key, and the root that issued it."""

    root: WorkspaceCertificate
    signing: WorkspaceCertificate
