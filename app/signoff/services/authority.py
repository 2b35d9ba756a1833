"""The workspace certificate authority, created on first need: a self-signed root and a document-signing
certificate it issues, both RSA-3072 with SHA-256: what every PDF reader checks PAdES signatures with, and
unlike ECDSA on P-256 it keeps the file PDF 1.7, which PDF/A-3 requires (pyHanko declares PDF 2.0's
ISO 32002 extension for elliptic curves).

Like ``services/security.py`` this is cryptography as a decision of the use case: which keys, for how long,
with which uses. Creating the authority is recorded as an ``authority.created`` audit event naming the
root's fingerprint, so the fingerprint printed on a report's cover can be checked against the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID

from signoff.domain.authority import DOCUMENT_SIGNING, ROOT, DocumentSigning, WorkspaceCertificate
from signoff.services.security import fingerprint
from signoff.storage import Database

CREATED = "authority.created"
ORGANISATION = "Signoff workspace"
# An archived report is checked decades later; the certificates must not expire before it is read.
VALIDITY = timedelta(days=365 * 50)
KEY_BITS = 3072  # NIST SP 800-57: 128-bit security, beyond 2030


def document_signing(db: Database, *, actor: str) -> DocumentSigning:
    """The workspace's document-signing certificate and its root, created (and audited) when missing."""
    with db.transaction(write=False) as uow:
        root, signing = uow.authority.get(ROOT), uow.authority.get(DOCUMENT_SIGNING)
    if root is not None and signing is not None:
        return DocumentSigning(root=root, signing=signing)
    with db.transaction() as uow:
        root, signing = uow.authority.get(ROOT), uow.authority.get(DOCUMENT_SIGNING)
        if root is None or signing is None:  # re-read under the write lock: another exporter may have won
            root, signing = _new_authority(actor)
            uow.authority.add(root)
            uow.authority.add(signing)
            uow.audit.append(
                actor=actor,
                action=CREATED,
                entity="workspace_certificate:root",
                payload={
                    "root_sha256": root.fingerprint,
                    "document_signing_sha256": signing.fingerprint,
                    "algorithm": f"RSA-{KEY_BITS} with SHA-256",
                },
            )
    return DocumentSigning(root=root, signing=signing)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )


def _key_usage(*, sign: bool, certify: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,  # non-repudiation: the signer stands behind the document
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certify,
        crl_sign=certify,
        encipher_only=False,
        decipher_only=False,
    )


def _pkcs8(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _new_authority(actor: str) -> tuple[WorkspaceCertificate, WorkspaceCertificate]:
    now = datetime.now(UTC).replace(microsecond=0)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    root_name = _name("Signoff workspace root")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=False, certify=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    signing = (
        x509.CertificateBuilder()
        .subject_name(_name("Signoff workspace document signing"))
        .issuer_name(root_name)
        .public_key(signing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, certify=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signing_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    der = serialization.Encoding.DER
    return (
        WorkspaceCertificate(ROOT, root.public_bytes(der), _pkcs8(root_key), now, actor),
        WorkspaceCertificate(DOCUMENT_SIGNING, signing.public_bytes(der), _pkcs8(signing_key), now, actor),
    )


def signer_certificate(authority: DocumentSigning, username: str, public_key: bytes) -> bytes:
    """A certificate (DER) by the workspace root binding ``username`` to their Ed25519 sign-off key.

    Embedded in a report so that each sign-off signature can be checked offline against a key the root
    vouches for. Everything in it follows from its inputs (serial from the key's fingerprint, the root's
    validity, RSA PKCS#1 v1.5 signing), so exporting the same evidence again gives the same bytes.
    """
    root = x509.load_der_x509_certificate(authority.root.certificate_der)
    root_key = serialization.load_der_private_key(authority.root.private_key_der, password=None)
    assert isinstance(root_key, rsa.RSAPrivateKey)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, username),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )
    key = Ed25519PublicKey.from_public_bytes(public_key)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(key)
        .serial_number(int(fingerprint(public_key)[:30], 16))
        .not_valid_before(root.not_valid_before_utc)
        .not_valid_after(root.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, certify=False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)
