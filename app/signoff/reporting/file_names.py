"""The names a report's PDF file carries: its attachments, its document-information keys, its cover's labels.

Kept apart from the writers (reportlab in ``pdf.py``, pikepdf in ``archive.py``) so that reading a report
back (``verify.py``, ``services/report_offline.py``) loads neither.
"""

from __future__ import annotations

ATTACHMENT_NAME = "report.json"
ATTACHMENT_DESCRIPTION_PREFIX = "Signoff report content (canonical JSON), SHA-256 "
# Keys added to the PDF's document information dictionary; verify.py reads them back.
INFO_REPORT_ID = "SignoffReportID"
INFO_PAYLOAD_SHA256 = "SignoffContentSHA256"
INFO_BUNDLE_HASH = "SignoffBundleHash"
# On the cover, with who holds the root: the workspace, or the organisation whose CA an admin imported.
ROOT_FINGERPRINT_LABEL = "Signed (PAdES) under the {holder} root certificate, SHA-256"
ROOT_HOLDERS = ("workspace", "organisation")

MANIFEST_NAME = "evidence-manifest.json"
MANIFEST_SCHEMA = "signoff.report-attachments/1"
ROOT_CERTIFICATE_NAME = "workspace-root.cer"
# Only when an organisation's CA below its root issues the certificates: the link from signer to root.
ISSUER_CERTIFICATE_NAME = "issuing-ca.cer"
SIGNER_CERTIFICATE_PREFIX = "signer-"
COUNT_TABLES_NAME = "count-tables.json"
COUNT_TABLES_SCHEMA = "signoff.count-tables/1"


def signer_certificate_name(key_fingerprint: str) -> str:
    """The attachment holding the certificate of the sign-off key with this SHA-256 fingerprint."""
    return f"{SIGNER_CERTIFICATE_PREFIX}{key_fingerprint[:16]}.cer"
