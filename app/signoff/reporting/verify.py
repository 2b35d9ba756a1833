"""Read an exported audit report back and check what the file alone can prove.

The PDF carries its content as the attachment ``report.json`` and the attachment's SHA-256 in three
places: the document information dictionary, the attachment's description and the cover page.
``read_report`` recomputes the hash and compares it with each (the first two are read as PDF objects,
so verification never depends on text extraction; the printed cover is checked as well when its text
can be read). Whether the bundle and its signatures exist in a database is for the caller
(services) to check, with the bundle hash and signature list returned here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PdfStreamError

from signoff.domain.canonical import canonical_json, sha256_hex
from signoff.domain.errors import InputError
from signoff.reporting.content import SCHEMA
from signoff.reporting.pdf import (
    ATTACHMENT_DESCRIPTION_PREFIX,
    ATTACHMENT_NAME,
    INFO_BUNDLE_HASH,
    INFO_PAYLOAD_SHA256,
    INFO_REPORT_ID,
)

# How the cover prints the content hash (see pdf._cover): label, then the 64 hex digits.
_PRINTED_HASH = re.compile(r"attachment\s*report\.json,\s*SHA-256\s*([0-9a-f]{64})")

# Signoff's reports are a few MB; a larger file, or an attachment stored otherwise than Signoff writes it
# (uncompressed), is refused before its content is read, so a 300 MB or zip-bomb attachment costs nothing.
MAX_REPORT_FILE_BYTES = 256 * 1024 * 1024
NOT_A_REPORT = (
    "is not a Signoff audit report: it has no attached {name}. Export the report again with Signoff."
)


@dataclass(frozen=True)
class ReportCheck:
    """One thing verified. ``ok`` is None when the file cannot decide it (e.g. unreadable cover text)."""

    name: str
    ok: bool | None
    detail: str


@dataclass(frozen=True)
class EmbeddedReport:
    path: Path
    file_sha256: str  # hash of the whole PDF file, as recorded by the export's audit event
    checks: tuple[ReportCheck, ...]
    content_sha256: str  # recomputed from the attachment's bytes
    declared_sha256: str | None  # the hash the PDF states for its attachment
    content: dict[str, Any] | None  # the parsed report.json, None when it is not valid JSON
    report_id: str | None
    bundle_hash: str | None
    signatures: tuple[dict[str, Any], ...]

    @property
    def ok(self) -> bool:
        """Every check that could be decided holds."""
        return all(check.ok is not False for check in self.checks)

    def failed(self) -> tuple[ReportCheck, ...]:
        return tuple(check for check in self.checks if check.ok is False)


def read_report(pdf_path: Path) -> EmbeddedReport:
    """Extract and check the embedded content of ``pdf_path``; raise ``InputError`` if it is no report."""
    try:
        size = pdf_path.stat().st_size
        if size > MAX_REPORT_FILE_BYTES:
            raise InputError(
                f"is {size:,} bytes, more than any Signoff report ({MAX_REPORT_FILE_BYTES:,}); it was not read",
                file=str(pdf_path),
            )
        raw = pdf_path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read the report: {error.strerror}", file=str(pdf_path)) from error
    try:
        reader = PdfReader(pdf_path)
        info = reader.metadata or {}
        spec = _attachment_spec(reader)
    except (PdfReadError, PdfStreamError) as error:
        raise InputError(f"is not a readable PDF ({error})", file=str(pdf_path)) from error
    if spec is None:
        raise InputError(NOT_A_REPORT.format(name=ATTACHMENT_NAME), file=str(pdf_path))

    checks: list[ReportCheck] = []
    try:
        stream = spec["/EF"]["/F"].get_object()
        if stream.get("/Filter"):  # Signoff writes an empty filter list
            raise InputError(
                f"its attached {ATTACHMENT_NAME} is stored compressed ({stream.get('/Filter')}), which "
                "Signoff never does; it was not unpacked",
                file=str(pdf_path),
            )
        attachment: bytes = stream.get_data()
    except (PdfReadError, PdfStreamError, KeyError, AttributeError) as error:
        raise InputError(
            f"its attached {ATTACHMENT_NAME} cannot be read ({error})", file=str(pdf_path)
        ) from error
    content_sha256 = sha256_hex(attachment)

    declared = _text(info.get("/" + INFO_PAYLOAD_SHA256))
    checks.append(
        _compare("content hash (document information)", content_sha256, declared, "the hash the PDF declares")
    )
    description = _text(spec.get("/Desc")) or ""
    described = (
        description[len(ATTACHMENT_DESCRIPTION_PREFIX) :]
        if description.startswith(ATTACHMENT_DESCRIPTION_PREFIX)
        else None
    )
    checks.append(
        _compare(
            "content hash (attachment description)", content_sha256, described, "the attachment's description"
        )
    )
    checks.append(_cover_check(reader, content_sha256))

    content = _parse(attachment)
    if content is None:
        checks.append(ReportCheck("content is canonical JSON", False, f"{ATTACHMENT_NAME} is not valid JSON"))
    else:
        canonical = canonical_json(content) == attachment and content.get("schema") == SCHEMA
        checks.append(
            ReportCheck(
                "content is canonical JSON",
                canonical,
                f"{ATTACHMENT_NAME} is canonical JSON of schema {SCHEMA}"
                if canonical
                else f"{ATTACHMENT_NAME} is JSON but not in Signoff's canonical form (schema {SCHEMA})",
            )
        )
    report_id = content.get("report_id") if content else None
    bundle_hash = content.get("bundle_hash") if content else None
    checks.append(
        _compare(
            "report ID matches document information", report_id, _text(info.get("/" + INFO_REPORT_ID)), ""
        )
    )
    checks.append(
        _compare(
            "bundle hash matches document information",
            bundle_hash or "",
            _text(info.get("/" + INFO_BUNDLE_HASH)),
            "",
        )
    )
    payload = content.get("payload", {}) if content else {}
    signatures = payload.get("signatures", []) if isinstance(payload, dict) else []
    return EmbeddedReport(
        path=pdf_path,
        file_sha256=sha256_hex(raw),
        checks=tuple(checks),
        content_sha256=content_sha256,
        declared_sha256=declared,
        content=content,
        report_id=report_id,
        bundle_hash=bundle_hash,
        signatures=tuple(s for s in signatures if isinstance(s, dict)),
    )


def _attachment_spec(reader: PdfReader) -> Any | None:
    """The file specification of report.json from the catalog's EmbeddedFiles name tree (flat array)."""
    names = reader.trailer["/Root"].get("/Names")
    if names is None:
        return None
    tree = names.get_object().get("/EmbeddedFiles")
    if tree is None:
        return None
    entries = tree.get_object().get("/Names", [])
    for key, value in zip(entries[::2], entries[1::2], strict=True):
        if _text(key) == ATTACHMENT_NAME:
            return value.get_object()
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value.get_object() if hasattr(value, "get_object") else value)


def _compare(name: str, computed: str | None, stated: str | None, where: str) -> ReportCheck:
    if stated is None or (stated == "" and computed):
        return ReportCheck(
            name, False, f"missing: the PDF does not state it{f' in {where}' if where else ''}"
        )
    if computed == stated:
        return ReportCheck(name, True, f"{stated}")
    return ReportCheck(name, False, f"stated {stated}, but the content gives {computed}")


def _cover_check(reader: PdfReader, content_sha256: str) -> ReportCheck:
    """The hash printed on the cover, when the cover's text can be extracted at all."""
    name = "content hash (printed on the cover)"
    try:
        text = reader.pages[0].extract_text() if reader.pages else ""
    except (PdfReadError, PdfStreamError, KeyError, ValueError) as error:
        return ReportCheck(name, None, f"the cover's text could not be read ({error}); not decided")
    found = _PRINTED_HASH.search(text.replace("\n", ""))
    if found is None:
        return ReportCheck(name, None, "no content hash readable on the cover; not decided")
    if found.group(1) == content_sha256:
        return ReportCheck(name, True, content_sha256)
    return ReportCheck(name, False, f"the cover prints {found.group(1)}, the content gives {content_sha256}")


def _parse(attachment: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(attachment.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
