"""The workspace's certificate authority: a self-signed root and the document-signing certificate it issued,
or an organisation's CA imported in its place, and the personal certificates it issues to people.

A report is signed (PAdES) with the document-signing key on behalf of the account that exports it, or with
the exporter's own certificate; anyone holding the report checks that signature against the root
certificate embedded in it and compares the root's SHA-256 fingerprint with the one printed on the cover.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

ROOT = "root"
DOCUMENT_SIGNING = "document-signing"
# An organisation's CA imported from a PKCS#12 file: its root (no key here), the CA whose key issues
# certificates (the root itself, or one it issued) and the document-signing certificate that CA issued.
ORGANISATION_ROOT = "organisation-root"
ORGANISATION_CA = "organisation-ca"
ORGANISATION_SIGNING = "organisation-document-signing"
ROLES = (ROOT, DOCUMENT_SIGNING, ORGANISATION_ROOT, ORGANISATION_CA, ORGANISATION_SIGNING)


def certificate_fingerprint(certificate_der: bytes) -> str:
    """SHA-256 (hex) of a certificate's DER bytes: how the cover and a person name the root."""
    return hashlib.sha256(certificate_der).hexdigest()


@dataclass(frozen=True)
class WorkspaceCertificate:
    """One certificate of the workspace authority with its private key (PKCS#8 DER) as stored."""

    role: str  # one of ROLES
    certificate_der: bytes
    private_key_der: bytes
    created_at: datetime
    created_by: str

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate_der)


@dataclass(frozen=True)
class DocumentSigning:
    """What signing a report needs, keys decrypted in memory: the certificate and key that sign, the CA
    that issues certificates (with its key) and the root a reader trusts (the issuer itself, or above it)."""

    root: WorkspaceCertificate
    signing: WorkspaceCertificate
    issuer: WorkspaceCertificate | None = None  # None: the root issues
    personal: bool = False  # True: ``signing`` is the exporter's own certificate

    @property
    def certifier(self) -> WorkspaceCertificate:
        return self.issuer or self.root

    @property
    def chain(self) -> tuple[bytes, ...]:
        """Certificates (DER) between the signer and the root, root included: what a signature carries."""
        if self.issuer is None or self.issuer.certificate_der == self.root.certificate_der:
            return (self.root.certificate_der,)
        return (self.issuer.certificate_der, self.root.certificate_der)


@dataclass(frozen=True)
class PersonalCertificate:
    """A person's document-signing certificate (DER) and its RSA key sealed under their password."""

    username: str
    certificate_der: bytes
    sealed_private_key: bytes
    issuer_sha256: str
    created_at: datetime

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate_der)
