"""The workspace certificate authority: a self-signed root and a document-signing certificate it issues, both
RSA-3072 with SHA-256: what every PDF reader checks PAdES signatures with, and unlike ECDSA on P-256 it
keeps the file PDF 1.7, which PDF/A-3 requires (pyHanko declares PDF 2.0's ISO 32002 extension for
elliptic curves). Created with the first administrator (``create_authority``), audited as
``authority.created`` naming the root's fingerprint, which the report's cover prints.

The private keys are stored as encrypted PKCS#8 under a key-encryption passphrase that is not in the
database: ``$SIGNOFF_SIGNING_KEY_PASSPHRASE``, or for an SQLite file a 0600 file beside it
(``<database>.signing-key``) made with the authority. A database copied without it cannot sign. An
organisation's CA (PKCS#12) can replace the workspace's as issuer (``import_ca``, a signed act), and a
person can sign reports with their own certificate (``personal_signing``), its key sealed under their
password.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from signoff.domain.authority import (
    DOCUMENT_SIGNING,
    ORGANISATION_CA,
    ORGANISATION_ROOT,
    ORGANISATION_SIGNING,
    ROOT,
    DocumentSigning,
    PersonalCertificate,
    WorkspaceCertificate,
    certificate_fingerprint,
)
from signoff.domain.errors import ConflictError, InputError, IntegrityError, NotFoundError, PermissionDenied
from signoff.domain.users import Role, User
from signoff.services.security import fingerprint, seal_pkcs8, unseal_pkcs8
from signoff.services.signed_acts import CA_IMPORTED, sign_act
from signoff.services.users import authenticate, check_password_current
from signoff.storage import Database

CREATED = "authority.created"
KEYS_ENCRYPTED = "authority.keys_encrypted"
PERSONAL_ISSUED = "authority.personal_certificate_issued"
ORGANISATION = "Signoff workspace"
# An archived report is checked decades later; the certificates must not expire before it is read.
VALIDITY = timedelta(days=365 * 50)
KEY_BITS = 3072  # NIST SP 800-57: 128-bit security, beyond 2030
PASSPHRASE_VARIABLE = "SIGNOFF_SIGNING_KEY_PASSPHRASE"
KEY_FILE_SUFFIX = ".signing-key"
_ORGANISATION_ROLES = (ORGANISATION_ROOT, ORGANISATION_CA, ORGANISATION_SIGNING)

NO_PASSPHRASE_SERVER = (
    "the workspace's signing keys are encrypted with a passphrase kept outside the database, and none is "
    f"set: on a team database set {PASSPHRASE_VARIABLE} to the workspace's signing-key passphrase"
)
NO_PASSPHRASE_FILE = (
    "this database cannot sign reports: its signing keys are encrypted with a passphrase kept outside the "
    "database, in {file}, which is not there (a database copied without it cannot sign). Put that file "
    f"back beside the database, or set {PASSPHRASE_VARIABLE} to the passphrase"
)
WRONG_PASSPHRASE = (
    "the workspace's signing-key passphrase ({source}) does not open the {role} key: it belongs to another "
    "database, or was changed. Use this database's passphrase"
)


@dataclass(frozen=True)
class AuthoritySummary:
    """What ``signoff authority show`` prints: the root a report is checked against, and who issues."""

    root_sha256: str
    root_subject: str
    issuer: str  # "workspace" or "organisation"
    issuer_subject: str
    document_signing_sha256: str
    created_at: datetime
    created_by: str
    keys_encrypted: bool
    passphrase_source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "root_sha256": self.root_sha256,
            "root_subject": self.root_subject,
            "issuer": self.issuer,
            "issuer_subject": self.issuer_subject,
            "document_signing_sha256": self.document_signing_sha256,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "keys_encrypted": self.keys_encrypted,
            "passphrase_source": self.passphrase_source,
        }


# ------------------------------------------------------------------------------- the passphrase


def key_file(db: Database) -> Path | None:
    """Where an SQLite database keeps its key-encryption passphrase: a 0600 file beside it."""
    path = db.file_path
    return path.with_name(path.name + KEY_FILE_SUFFIX) if path is not None else None


def _passphrase_source(db: Database) -> str:
    if os.environ.get(PASSPHRASE_VARIABLE):
        return f"${PASSPHRASE_VARIABLE}"
    file = key_file(db)
    return str(file) if file is not None else "none"


def _passphrase(db: Database, *, create: bool) -> bytes:
    """The key-encryption passphrase; ``create`` makes the SQLite key file when it is missing."""
    from_environment = os.environ.get(PASSPHRASE_VARIABLE, "")
    if from_environment:
        return from_environment.encode("utf-8")
    file = key_file(db)
    if file is None:
        raise PermissionDenied(NO_PASSPHRASE_SERVER)
    if not file.exists():
        if not create:
            raise PermissionDenied(NO_PASSPHRASE_FILE.format(file=file))
        try:  # O_EXCL: two first starts at once share one passphrase, never overwrite it
            handle = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(handle, "w", encoding="ascii") as stream:
                stream.write(secrets.token_urlsafe(32) + "\n")
    passphrase = file.read_text(encoding="utf-8").strip()
    if not passphrase:
        raise PermissionDenied(NO_PASSPHRASE_FILE.format(file=file))
    return passphrase.encode("utf-8")


def _encrypt(key: Any, passphrase: bytes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def _plain(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _is_encrypted(private_key_der: bytes) -> bool:
    try:
        serialization.load_der_private_key(private_key_der, password=None)
    except TypeError:  # "password was not given but private key is encrypted"
        return True
    return False


def _decrypted(db: Database, certificate: WorkspaceCertificate, passphrase: bytes) -> WorkspaceCertificate:
    if not certificate.private_key_der:  # an organisation's root: its key stays with the organisation
        return certificate
    try:
        # Our own keys, just decrypted with the right passphrase: the costly RSA consistency check
        # (most of a second for two 3072-bit keys) adds nothing at every export.
        key = serialization.load_der_private_key(
            certificate.private_key_der, password=passphrase, unsafe_skip_rsa_key_validation=True
        )
    except ValueError:
        raise PermissionDenied(
            WRONG_PASSPHRASE.format(source=_passphrase_source(db), role=certificate.role)
        ) from None
    return replace(certificate, private_key_der=_plain(key))


# ------------------------------------------------------------------------------- creating and loading


def create_authority(db: Database, *, actor: str) -> bool:
    """Create the workspace authority if there is none yet: the workspace's first start (the first
    administrator). False when it exists, or on a server database with no passphrase set (it is then
    created at the first export, which needs the passphrase anyway)."""
    with db.transaction(write=False) as uow:
        if uow.authority.get(ROOT) is not None:
            return False
    if key_file(db) is None and not os.environ.get(PASSPHRASE_VARIABLE):
        return False
    _create(db, actor)
    return True


def _create(db: Database, actor: str) -> None:
    passphrase = _passphrase(db, create=True)
    root, signing = _new_authority(actor, passphrase)  # slow (two RSA keys): before the write lock
    with db.transaction() as uow:
        if uow.authority.get(ROOT) is not None:  # another first start won
            return
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
                "keys_encrypted": True,
            },
        )


def document_signing(db: Database, *, actor: str) -> DocumentSigning:
    """The certificates that sign a report on the exporter's behalf, keys decrypted in memory: the
    organisation's when one was imported, else the workspace's (created and audited when missing, keys
    stored unencrypted by an earlier release encrypted first)."""
    with db.transaction(write=False) as uow:
        present = uow.authority.get(ROOT) is not None
    if not present:
        _create(db, actor)
    plain = _has_plain_keys(db)
    # A database of the previous release has no key file yet: it is made now, with its keys' encryption.
    passphrase = _passphrase(db, create=plain)
    if plain:
        _encrypt_plain_keys(db, actor, passphrase)
    with db.transaction(write=False) as uow:
        roles = {role: uow.authority.get(role) for role in (ROOT, DOCUMENT_SIGNING, *_ORGANISATION_ROLES)}
    organisation = [roles[r] for r in _ORGANISATION_ROLES]
    if all(c is not None for c in organisation):
        root, issuer, signing = organisation
        assert root is not None and issuer is not None and signing is not None
        return DocumentSigning(
            root=root,
            signing=_decrypted(db, signing, passphrase),
            issuer=_decrypted(db, issuer, passphrase),
        )
    root, signing = roles[ROOT], roles[DOCUMENT_SIGNING]
    if root is None or signing is None:
        raise IntegrityError(
            "the workspace certificate authority is incomplete: its document-signing row is missing"
        )
    return DocumentSigning(root=_decrypted(db, root, passphrase), signing=_decrypted(db, signing, passphrase))


def _has_plain_keys(db: Database) -> bool:
    with db.transaction(write=False) as uow:
        stored = [uow.authority.get(role) for role in (ROOT, DOCUMENT_SIGNING)]
    return any(c is not None and c.private_key_der and not _is_encrypted(c.private_key_der) for c in stored)


def _encrypt_plain_keys(db: Database, actor: str, passphrase: bytes) -> None:
    """Keys stored unencrypted by the previous release (0011) are encrypted on first use, audited."""
    with db.transaction() as uow:
        encrypted = []
        for role in (ROOT, DOCUMENT_SIGNING):
            stored = uow.authority.get(role)
            if stored is None or _is_encrypted(stored.private_key_der):
                continue
            key = serialization.load_der_private_key(stored.private_key_der, password=None)
            uow.authority.encrypt_private_key(role, _encrypt(key, passphrase))
            encrypted.append(role)
        if encrypted:
            uow.audit.append(
                actor=actor,
                action=KEYS_ENCRYPTED,
                entity="workspace_certificate:root",
                payload={"roles": encrypted, "passphrase": _passphrase_source(db)},
            )


def authority_summary(db: Database) -> AuthoritySummary:
    """The authority as it stands, read only; ``NotFoundError`` when the workspace has none yet."""
    with db.transaction(write=False) as uow:
        root, signing = uow.authority.get(ROOT), uow.authority.get(DOCUMENT_SIGNING)
        organisation = [uow.authority.get(r) for r in _ORGANISATION_ROLES]
    if root is None or signing is None:
        raise NotFoundError(
            "this workspace has no certificate authority yet: it is created with the first administrator "
            "(or at the first report export)"
        )
    issuer_kind, issuer = "workspace", root
    if all(c is not None for c in organisation):
        root, issuer, signing = organisation  # type: ignore[assignment]
        issuer_kind = "organisation"
    assert root is not None and issuer is not None and signing is not None
    return AuthoritySummary(
        root_sha256=root.fingerprint,
        root_subject=_subject(root.certificate_der),
        issuer=issuer_kind,
        issuer_subject=_subject(issuer.certificate_der),
        document_signing_sha256=signing.fingerprint,
        created_at=root.created_at,
        created_by=root.created_by,
        keys_encrypted=_is_encrypted(issuer.private_key_der) and _is_encrypted(signing.private_key_der),
        passphrase_source=_passphrase_source(db),
    )


def _subject(certificate_der: bytes) -> str:
    return x509.load_der_x509_certificate(certificate_der).subject.rfc4514_string()


# ------------------------------------------------------------------------------- building certificates


def _name(common_name: str, organisation: str = ORGANISATION) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
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


def _issue(
    issuer: x509.Certificate, issuer_key: Any, subject: x509.Name, public_key: Any, not_before: datetime
) -> x509.Certificate:
    """An end-entity signing certificate by ``issuer``, valid no longer than the issuer itself."""
    not_after = min(not_before + VALIDITY, issuer.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, certify=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
        .sign(issuer_key, hashes.SHA256())
    )


def _new_authority(actor: str, passphrase: bytes) -> tuple[WorkspaceCertificate, WorkspaceCertificate]:
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
    signing = _issue(
        root, root_key, _name("Signoff workspace document signing"), signing_key.public_key(), now
    )
    der = serialization.Encoding.DER
    return (
        WorkspaceCertificate(ROOT, root.public_bytes(der), _encrypt(root_key, passphrase), now, actor),
        WorkspaceCertificate(
            DOCUMENT_SIGNING, signing.public_bytes(der), _encrypt(signing_key, passphrase), now, actor
        ),
    )


def _issuer_key(certifier: WorkspaceCertificate) -> Any:
    """The issuing CA's key as ``document_signing`` decrypted it: made here, or checked when imported."""
    return serialization.load_der_private_key(
        certifier.private_key_der, password=None, unsafe_skip_rsa_key_validation=True
    )


def signer_certificate(authority: DocumentSigning, username: str, public_key: bytes) -> bytes:
    """A certificate (DER) by the authority's issuing CA binding ``username`` to their Ed25519 sign-off key.

    Embedded in a report so that each sign-off signature can be checked offline against a key the root
    vouches for. Everything in it follows from its inputs (serial from the key's fingerprint, the issuer's
    validity, deterministic signing for an RSA issuer), so exporting the same evidence again gives the
    same bytes.
    """
    certifier = authority.certifier
    issuer = x509.load_der_x509_certificate(certifier.certificate_der)
    issuer_key = _issuer_key(certifier)
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
        .issuer_name(issuer.subject)
        .public_key(key)
        .serial_number(int(fingerprint(public_key)[:30], 16))
        .not_valid_before(issuer.not_valid_before_utc)
        .not_valid_after(issuer.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, certify=False), critical=True)
        .sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return certificate.public_bytes(serialization.Encoding.DER)


# ------------------------------------------------------------------------------- a person's own key


def personal_signing(db: Database, username: str, password: str) -> DocumentSigning:
    """The exporter's own certificate and key, to sign a report as themselves: re-authenticated with
    ``password``; on first use (or after a password change or a new CA) a certificate is issued by the
    current CA for a new RSA key, sealed under that password. Service accounts are refused."""
    user = authenticate(db, username, password, purpose="sign a report as yourself")
    check_password_current(user)
    if Role.SERVICE in user.roles:
        raise PermissionDenied(
            f"{username!r} is a service account: its reports are signed with the workspace's "
            "document-signing key, not a personal certificate"
        )
    authority = document_signing(db, actor=username)
    issuer_sha256 = authority.certifier.fingerprint
    with db.transaction(write=False) as uow:
        issued = uow.authority.personal(username, issuer_sha256)
    for certificate in issued:
        try:
            key_der = unseal_pkcs8(
                username, certificate.sealed_private_key, certificate.fingerprint, password
            )
        except PermissionDenied:
            continue  # sealed under an earlier password: a new certificate follows
        return _personal(authority, certificate.certificate_der, key_der)
    certificate = _new_personal(authority, user, password)
    with db.transaction() as uow:
        uow.authority.add_personal(certificate)
        uow.audit.append(
            actor=username,
            action=PERSONAL_ISSUED,
            entity=f"user:{username}",
            payload={
                "certificate_sha256": certificate.fingerprint,
                "issuer_sha256": issuer_sha256,
                "algorithm": f"RSA-{KEY_BITS} with SHA-256",
            },
        )
    key_der = unseal_pkcs8(username, certificate.sealed_private_key, certificate.fingerprint, password)
    return _personal(authority, certificate.certificate_der, key_der)


def _personal(authority: DocumentSigning, certificate_der: bytes, key_der: bytes) -> DocumentSigning:
    signing = WorkspaceCertificate(
        "personal", certificate_der, key_der, authority.signing.created_at, authority.signing.created_by
    )
    return replace(authority, signing=signing, personal=True)


def _new_personal(authority: DocumentSigning, user: User, password: str) -> PersonalCertificate:
    # RSA, not the account's Ed25519 sign-off key: Ed25519 (like ECDSA) in a PDF signature makes it PDF
    # 2.0, which PDF/A-3 forbids.
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    issuer = x509.load_der_x509_certificate(authority.certifier.certificate_der)
    issuer_key = _issuer_key(authority.certifier)
    organisation = issuer.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, user.full_name),
            x509.NameAttribute(NameOID.USER_ID, user.username),
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, str(organisation[0].value) if organisation else ORGANISATION
            ),
        ]
    )
    now = datetime.now(UTC).replace(microsecond=0)
    certificate = _issue(issuer, issuer_key, subject, key.public_key(), now).public_bytes(
        serialization.Encoding.DER
    )
    sha256 = certificate_fingerprint(certificate)
    return PersonalCertificate(
        username=user.username,
        certificate_der=certificate,
        sealed_private_key=seal_pkcs8(user.username, _plain(key), sha256, password),
        issuer_sha256=authority.certifier.fingerprint,
        created_at=now,
    )


# ------------------------------------------------------------------------------- an organisation's CA


def import_ca(
    db: Database, *, username: str, password: str, pkcs12_data: bytes, pkcs12_password: str | None
) -> AuthoritySummary:
    """Make an organisation's CA (a PKCS#12 file with its certificate and key, and the root above it if
    it is not the root) the issuer of this workspace's document-signing and personal certificates.
    A signed act of an administrator, audited. ``InputError`` (nothing stored) for a wrong password, a
    certificate that is not a CA, one expired or not yet valid, or a missing root."""
    ca, ca_key, root = _read_ca(pkcs12_data, pkcs12_password)
    admin, signed = sign_act(
        db, username, password, roles=(Role.ADMIN,), what="import an organisation CA", purpose="import a CA"
    )
    with db.transaction(write=False) as uow:
        already = uow.authority.get(ORGANISATION_ROOT)
    if already is not None:
        raise ConflictError(
            f"an organisation CA is already imported (root SHA-256 {already.fingerprint}); "
            "nothing was changed"
        )
    document_signing(db, actor=admin.username)  # the workspace's own authority exists, keys encrypted
    passphrase = _passphrase(db, create=False)
    now = datetime.now(UTC).replace(microsecond=0)
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    organisation = ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    subject = _name("Signoff document signing", str(organisation[0].value) if organisation else ORGANISATION)
    signing = _issue(ca, ca_key, subject, signing_key.public_key(), now)
    der = serialization.Encoding.DER
    rows = (
        WorkspaceCertificate(ORGANISATION_ROOT, root.public_bytes(der), b"", now, admin.username),
        WorkspaceCertificate(
            ORGANISATION_CA, ca.public_bytes(der), _encrypt(ca_key, passphrase), now, admin.username
        ),
        WorkspaceCertificate(
            ORGANISATION_SIGNING,
            signing.public_bytes(der),
            _encrypt(signing_key, passphrase),
            now,
            admin.username,
        ),
    )
    manifest = {
        "act": CA_IMPORTED,
        "root_sha256": rows[0].fingerprint,
        "ca_sha256": rows[1].fingerprint,
        "document_signing_sha256": rows[2].fingerprint,
        "ca_subject": ca.subject.rfc4514_string(),
        "imported_by": admin.username,
        "printed_name": admin.full_name,
        "imported_at": now.isoformat(),
    }
    with db.transaction() as uow:
        if uow.authority.get(ORGANISATION_ROOT) is not None:
            raise ConflictError("an organisation CA was imported at the same moment; nothing was changed")
        for row in rows:
            uow.authority.add(row)
        uow.audit.append(
            actor=admin.username,
            action=CA_IMPORTED,
            entity="workspace_certificate:organisation-root",
            payload={
                "root_sha256": manifest["root_sha256"],
                "manifest": manifest,
                "signature": signed(manifest).hex(),
                "public_key_fingerprint": fingerprint(admin.public_key),
            },
        )
    return authority_summary(db)


def _read_ca(data: bytes, password: str | None) -> tuple[x509.Certificate, Any, x509.Certificate]:
    """(CA certificate, its key, the root above it) from a PKCS#12 file, or ``InputError`` saying why not."""
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(
            data, password.encode("utf-8") if password else None
        )
    except ValueError:
        raise InputError("the PKCS#12 file cannot be opened: wrong password, or not a PKCS#12 file") from None
    if key is None or certificate is None:
        raise InputError("the PKCS#12 file must hold the CA's certificate and its private key")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise InputError("the CA's key must be RSA or ECDSA")
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
        raise InputError("the PKCS#12 file's private key does not belong to its certificate")
    subject = certificate.subject.rfc4514_string()
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise InputError(f"{subject} is not a certificate authority (its basic constraints say CA: false)")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.key_cert_sign:
        raise InputError(f"{subject} may not sign certificates (its key usage lacks keyCertSign)")
    now = datetime.now(UTC)
    for checked in (certificate, *others):
        if not checked.not_valid_before_utc <= now <= checked.not_valid_after_utc:
            raise InputError(
                f"{checked.subject.rfc4514_string()} is valid only from {checked.not_valid_before_utc:%Y-%m-%d} "
                f"to {checked.not_valid_after_utc:%Y-%m-%d}: it cannot issue certificates now"
            )
    if _issued_by(certificate, certificate):
        return certificate, key, certificate
    root = next((c for c in others if _issued_by(certificate, c) and _issued_by(c, c)), None)
    if root is None:
        raise InputError(
            f"{subject} is not self-signed and the PKCS#12 file does not hold the root that issued it: "
            "export the CA with its chain"
        )
    return certificate, key, root


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
