"""Verify an exported report with the file alone, on a machine without Signoff's database.

Kept apart from ``services/report.py`` so that ``signoff verify REPORT.pdf --offline`` loads neither the
report builder nor the PDF/A writer, and opens no database: it reads the PDF, validates with pyHanko and
checks Ed25519 signatures with ``services/security.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from signoff.reporting.archive import SIGNER_KEYS_NAME
from signoff.reporting.verify import ReportCheck, ReportVerification, file_checks, read_report
from signoff.services.security import fingerprint, signature_is_valid


def verify_report_offline(pdf: Path) -> ReportVerification:
    """Check an exported report with the file alone, no database: its content hashes, its PAdES signature
    under the embedded workspace root (whose fingerprint the cover prints), every attachment against the
    embedded manifest and every sign-off signature against the signers' keys embedded in it.
    Raises ``InputError`` for a file that is not a Signoff report."""
    pdf = Path(pdf)
    embedded = read_report(pdf)
    checks = [*embedded.checks, *file_checks(embedded)]
    keys = _parse_json(embedded.attachments.get(SIGNER_KEYS_NAME, b""))
    by_fingerprint = keys.get("keys", {}) if isinstance(keys, dict) else {}
    if not embedded.signatures:
        checks.append(ReportCheck("signatures", None, "the report carries no signatures"))
    for printed in embedded.signatures:
        checks.append(_embedded_signature_check(printed, by_fingerprint))
    return ReportVerification(path=pdf, checks=tuple(checks))


def _embedded_signature_check(printed: dict[str, Any], keys: dict[str, Any]) -> ReportCheck:
    manifest = printed.get("manifest") if isinstance(printed.get("manifest"), dict) else {}
    who = f"{manifest.get('printed_name', '?')}, {manifest.get('meaning', '?')}"
    name = f"signature {printed.get('id')} ({who}) verifies under the embedded key"
    key_fingerprint = str(printed.get("public_key_fingerprint", ""))
    key = keys.get(key_fingerprint)
    if not isinstance(key, dict):
        return ReportCheck(
            name, False, f"the PDF embeds no public key with fingerprint {key_fingerprint[:16]}"
        )
    if key.get("username") != manifest.get("username"):
        return ReportCheck(
            name,
            False,
            f"the key {key_fingerprint[:16]} is embedded as {key.get('username')!r}'s, "
            f"the signature names {manifest.get('username')!r}",
        )
    try:
        public_key = bytes.fromhex(str(key.get("public_key", "")))
        signature = bytes.fromhex(str(printed.get("signature", "")))
    except ValueError:
        return ReportCheck(name, False, "the embedded key or the signature is not hexadecimal")
    if fingerprint(public_key) != key_fingerprint:
        return ReportCheck(name, False, f"the embedded key's SHA-256 is not {key_fingerprint[:16]}")
    if not signature_is_valid(public_key, manifest, signature):
        return ReportCheck(
            name,
            False,
            "the Ed25519 signature does not verify over its record (signer, printed name, role, meaning, "
            "time, bundle hash or review were altered, or the signature itself)",
        )
    return ReportCheck(
        name, True, f"Ed25519 valid under {manifest.get('username')}'s key {key_fingerprint[:16]}"
    )


def _parse_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
