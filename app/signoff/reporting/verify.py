"""Read an exported audit report back and check what the file alone can prove.

The PDF carries its content as the attachment ``report.json`` and the attachment's SHA-256 in three
places: the document information dictionary, the attachment's description and the cover page.
``read_report`` recomputes the hash and compares it with each (the first two are read as PDF objects,
so verification never depends on text extraction; the printed cover is checked as well when its text
can be read). Whether the bundle and its signatures exist in a database is for the caller
(services) to check, with the bundle hash and signature list returned here.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PdfStreamError

from signoff.domain.authority import certificate_fingerprint
from signoff.domain.canonical import canonical_json, sha256_hex
from signoff.domain.errors import InputError
from signoff.reporting.content import SCHEMA
from signoff.reporting.file_names import (
    ATTACHMENT_DESCRIPTION_PREFIX,
    ATTACHMENT_NAME,
    INFO_BUNDLE_HASH,
    INFO_PAYLOAD_SHA256,
    INFO_REPORT_ID,
    MANIFEST_NAME,
    ROOT_CERTIFICATE_NAME,
    ROOT_FINGERPRINT_LABEL,
    ROOT_HOLDERS,
)
from signoff.reporting.pades import PADES_CHECK, check_signature

# How the cover prints the content hash and the root's fingerprint (see pdf._cover): label, 64 hex digits.
_PRINTED_HASH = re.compile(r"attachment\s*report\.json,\s*SHA-256\s*([0-9a-f]{64})")
_PRINTED_ROOT = re.compile(
    re.escape(ROOT_FINGERPRINT_LABEL)
    .replace(re.escape("{holder}"), "(?:" + "|".join(ROOT_HOLDERS) + ")")
    .replace(r"\ ", r"\s*")
    + r"\s*([0-9a-f]{64})"
)

# Signoff's reports are a few MB; a larger file, or an attachment stored otherwise than Signoff writes it
# (uncompressed), is refused before its content is read, so a 300 MB or zip-bomb attachment costs nothing.
MAX_REPORT_FILE_BYTES = 256 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024  # report.json unpacked: a 40-page report holds well under 1 MB
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
    raw: bytes = b""  # the whole file, for the PAdES check
    cover_text: str | None = None  # None when the cover's text could not be read
    attachments: dict[str, bytes] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every check that could be decided holds."""
        return all(check.ok is not False for check in self.checks)

    def failed(self) -> tuple[ReportCheck, ...]:
        return tuple(check for check in self.checks if check.ok is False)


@dataclass(frozen=True)
class ReportVerification:
    path: Path
    checks: tuple[ReportCheck, ...]

    @property
    def ok(self) -> bool:
        """Every check that could be decided holds (None, "not applicable", is no failure)."""
        return all(check.ok is not False for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def _attachment_bytes(stream: Any, pdf_path: Path) -> bytes:
    """The attachment's bytes: stored as they are, or Flate-compressed (as an archival export stores it),
    unpacked only up to ``MAX_ATTACHMENT_BYTES`` so that a small file cannot unpack into gigabytes."""
    packing = stream.get("/Filter")
    if not packing:
        return stream.get_data()
    if packing not in ("/FlateDecode", ["/FlateDecode"]) or stream.get("/DecodeParms"):
        raise InputError(
            f"its attached {ATTACHMENT_NAME} is packed with {packing}, which Signoff never writes; "
            "it was not unpacked",
            file=str(pdf_path),
        )
    unpacker = zlib.decompressobj()
    try:
        data = unpacker.decompress(stream._data, MAX_ATTACHMENT_BYTES)  # pypdf keeps the packed bytes here
    except zlib.error as error:
        raise InputError(
            f"its attached {ATTACHMENT_NAME} cannot be unpacked ({error})", file=str(pdf_path)
        ) from error
    if unpacker.unconsumed_tail:
        raise InputError(
            f"its attached {ATTACHMENT_NAME} unpacks to more than {MAX_ATTACHMENT_BYTES:,} bytes, more than "
            "any Signoff report holds; it was not unpacked further",
            file=str(pdf_path),
        )
    return data


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
        attachment: bytes = _attachment_bytes(stream, pdf_path)
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
    cover_text = _cover_text(reader)
    checks.append(_cover_check(cover_text, content_sha256))

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
        raw=raw,
        cover_text=cover_text,
        attachments=_attachments(reader),
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


def _cover_text(reader: PdfReader) -> str | None:
    """The cover's text without line breaks, or None when it cannot be extracted."""
    try:
        text = reader.pages[0].extract_text() if reader.pages else ""
    except (PdfReadError, PdfStreamError, KeyError, ValueError):
        return None
    return text.replace("\n", "")


def _attachments(reader: PdfReader) -> dict[str, bytes]:
    """Every embedded file by name (the first when a name repeats, which a Signoff report never does)."""
    try:
        return {name: data[0] for name, data in reader.attachments.items() if data}
    except (PdfReadError, PdfStreamError, KeyError, ValueError):
        return {}


def _cover_check(cover_text: str | None, content_sha256: str) -> ReportCheck:
    """The hash printed on the cover, when the cover's text can be extracted at all."""
    name = "content hash (printed on the cover)"
    if cover_text is None:
        return ReportCheck(name, None, "the cover's text could not be read; not decided")
    found = _PRINTED_HASH.search(cover_text)
    if found is None:
        return ReportCheck(name, None, "no content hash readable on the cover; not decided")
    if found.group(1) == content_sha256:
        return ReportCheck(name, True, content_sha256)
    return ReportCheck(name, False, f"the cover prints {found.group(1)}, the content gives {content_sha256}")


def file_checks(embedded: EmbeddedReport, *, signed_required: bool = True) -> list[ReportCheck]:
    """What the file alone proves beyond its content hash: the PAdES signature under the embedded root,
    the root's fingerprint on the cover, and every attachment against the embedded manifest.

    ``signed_required=False`` (a database at hand, whose audit log records each exported file's hash)
    lets a report exported before reports were signed pass as "not applicable" instead of failing."""
    root = embedded.attachments.get(ROOT_CERTIFICATE_NAME)
    if root is None:
        unsigned = not embedded.raw.count(b"/ByteRange") and MANIFEST_NAME not in embedded.attachments
        if unsigned and not signed_required:
            return [
                ReportCheck(
                    PADES_CHECK,
                    None,
                    "the report was exported before Signoff signed reports; its export record is checked below",
                )
            ]
        return [
            ReportCheck(
                PADES_CHECK,
                False,
                f"the PDF embeds no {ROOT_CERTIFICATE_NAME}, so its signature cannot be checked; export it again",
            )
        ]
    root_sha256 = certificate_fingerprint(root)
    verdict = check_signature(embedded.raw, root)
    checks = [
        ReportCheck(
            PADES_CHECK,
            verdict.ok,
            "; ".join(verdict.problems)
            if verdict.problems
            else f"intact and covering the whole file; signed by {verdict.signer} on behalf of "
            f"{verdict.signed_by or 'nobody named'}, under the embedded root {root_sha256[:16]}",
        ),
        _root_on_cover(embedded.cover_text, root_sha256),
    ]
    return checks + _manifest_checks(embedded.attachments)


def _root_on_cover(cover_text: str | None, root_sha256: str) -> ReportCheck:
    name = "root certificate fingerprint (printed on the cover)"
    if cover_text is None:
        return ReportCheck(name, None, "the cover's text could not be read; not decided")
    found = _PRINTED_ROOT.search(cover_text)
    if found is None:
        return ReportCheck(name, False, "the cover prints no root certificate fingerprint")
    if found.group(1) != root_sha256:
        return ReportCheck(
            name, False, f"the cover prints {found.group(1)}, the embedded root certificate is {root_sha256}"
        )
    return ReportCheck(name, True, f"{root_sha256}: compare it with the root fingerprint you were given")


def _manifest_checks(attachments: dict[str, bytes]) -> list[ReportCheck]:
    manifest = _parse(attachments.get(MANIFEST_NAME, b""))
    listed = manifest.get("files") if manifest is not None else None
    if not isinstance(listed, dict):
        return [
            ReportCheck("attachments match the manifest", False, f"the PDF has no readable {MANIFEST_NAME}")
        ]
    checks = []
    for name in sorted(set(listed) | set(attachments) - {MANIFEST_NAME}):
        check = f"attachment {name} matches the manifest"
        stated = listed.get(name, {}).get("sha256") if isinstance(listed.get(name), dict) else None
        if name not in attachments:
            checks.append(ReportCheck(check, False, f"the manifest lists {name}, the PDF does not carry it"))
        elif stated is None:
            checks.append(ReportCheck(check, False, f"the PDF carries {name}, the manifest does not list it"))
        elif sha256_hex(attachments[name]) != stated:
            checks.append(
                ReportCheck(
                    check,
                    False,
                    f"its SHA-256 is {sha256_hex(attachments[name])}, the manifest states {stated}",
                )
            )
        else:
            checks.append(ReportCheck(check, True, stated))
    return checks


def _parse(attachment: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(attachment.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
