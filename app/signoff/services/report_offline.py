"""Verify an exported report with the file alone, on a machine without Signoff's database.

Kept apart from ``services/report.py`` so that ``signoff verify REPORT.pdf --offline`` loads neither the
report builder nor the PDF/A writer, and opens no database: it reads the PDF, validates with pyHanko,
checks Ed25519 signatures with ``services/security.py`` and derives the numbers again from the embedded
count tables with ``services/report_numbers.py`` (numpy, no pandas).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID

from signoff.reporting.file_names import (
    ISSUER_CERTIFICATE_NAME,
    ROOT_CERTIFICATE_NAME,
    signer_certificate_name,
)
from signoff.reporting.verify import ReportCheck, ReportVerification, file_checks, read_report
from signoff.services.report_numbers import numbers_check
from signoff.services.security import fingerprint, signature_is_valid


def verify_report_offline(pdf: Path) -> ReportVerification:
    """Check an exported report with the file alone, no database: its content hashes, its PAdES signature
    under the embedded workspace root (whose fingerprint the cover prints), every attachment against the
    embedded manifest, every sign-off signature against its signer's certificate by that root, and every
    number of the cited analyses against the embedded count tables.
    Raises ``InputError`` for a file that is not a Signoff report."""
    pdf = Path(pdf)
    embedded = read_report(pdf)
    checks = [*embedded.checks, *file_checks(embedded)]
    root = _certificate(embedded.attachments.get(ROOT_CERTIFICATE_NAME, b""))
    issuer = _certificate(embedded.attachments.get(ISSUER_CERTIFICATE_NAME, b""))
    if root is not None and issuer is not None:  # an organisation's CA below its root issued the certificates
        root = issuer if _issued_by(issuer, root) else None
    if not embedded.signatures:
        checks.append(ReportCheck("signatures", None, "the report carries no signatures"))
    for printed in embedded.signatures:
        checks.append(_embedded_signature_check(printed, embedded.attachments, root))
    checks.append(numbers_check(embedded.content, embedded.attachments))
    return ReportVerification(path=pdf, checks=tuple(checks))


def _certificate(data: bytes) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(data)
    except ValueError:
        return None


def _issued_by(certificate: x509.Certificate, root: x509.Certificate) -> bool:
    """Whether ``root``'s key (RSA, or an organisation's ECDSA) signed ``certificate`` under its name."""
    try:
        certificate.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _embedded_signature_check(
    printed: dict[str, Any], attachments: dict[str, bytes], root: x509.Certificate | None
) -> ReportCheck:
    manifest = printed.get("manifest") if isinstance(printed.get("manifest"), dict) else {}
    who = f"{manifest.get('printed_name', '?')}, {manifest.get('meaning', '?')}"
    name = f"signature {printed.get('id')} ({who}) verifies under its embedded certificate"
    key_fingerprint = str(printed.get("public_key_fingerprint", ""))
    attachment = signer_certificate_name(key_fingerprint)
    certificate = _certificate(attachments.get(attachment, b""))
    if certificate is None:
        return ReportCheck(name, False, f"the PDF embeds no readable certificate {attachment}")
    if root is None or not _issued_by(certificate, root):
        return ReportCheck(name, False, f"{attachment} was not issued by the embedded workspace root")
    holders = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    holder = str(holders[0].value) if holders else ""
    if holder != manifest.get("username"):
        return ReportCheck(
            name,
            False,
            f"{attachment} certifies {holder!r}, the signature names {manifest.get('username')!r}",
        )
    key = certificate.public_key()
    if not isinstance(key, Ed25519PublicKey):
        return ReportCheck(name, False, f"{attachment} does not certify an Ed25519 key")
    public_key = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if fingerprint(public_key) != key_fingerprint:
        return ReportCheck(name, False, f"{attachment} certifies a key other than {key_fingerprint[:16]}")
    try:
        signature = bytes.fromhex(str(printed.get("signature", "")))
    except ValueError:
        return ReportCheck(name, False, "the signature is not hexadecimal")
    if not signature_is_valid(public_key, manifest, signature):
        return ReportCheck(
            name,
            False,
            "the Ed25519 signature does not verify over its record (signer, printed name, role, meaning, "
            "time, bundle hash or review were altered, or the signature itself)",
        )
    return ReportCheck(
        name,
        True,
        f"Ed25519 valid under {holder}'s key {key_fingerprint[:16]}, certified by the workspace root",
    )
