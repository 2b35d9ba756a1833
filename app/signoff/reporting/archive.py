"""Make a rendered report an archival PDF/A-3b file (pikepdf) carrying the files needed to check it alone.

pikepdf's ``pdfa.save`` adds the sRGB output intent and the XMP metadata (pdfaid part 3, conformance B),
writes the file and validates what it wrote, so a report that is not PDF/A is never handed on. Each
attachment is an associated file with its AFRelationship; ``evidence-manifest.json`` lists the SHA-256
of every other attachment, so an auditor can check each one against it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pikepdf

from signoff.domain.canonical import canonical_json, sha256_hex
from signoff.domain.errors import IntegrityError
from signoff.reporting.file_names import ATTACHMENT_NAME, MANIFEST_NAME, MANIFEST_SCHEMA

PDFA_FLAVOUR = "3b"


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    mime_type: str
    description: str
    relationship: str = "Supplement"  # PDF/A-3 AFRelationship: how the file relates to the document


def manifest_bytes(files: dict[str, bytes]) -> bytes:
    """The manifest: every attachment's name with its SHA-256 and size, as canonical JSON."""
    listed = {name: {"sha256": sha256_hex(data), "bytes": len(data)} for name, data in files.items()}
    return canonical_json({"schema": MANIFEST_SCHEMA, "files": listed})


def archive_report(pdf: bytes, attachments: list[Attachment]) -> bytes:
    """``pdf`` (with its report.json) as PDF/A-3b with ``attachments`` and the manifest of all of them."""
    from pikepdf import pdfa  # its validator costs half a second to import; verifying a report needs none

    document = pikepdf.open(io.BytesIO(pdf))
    for page in document.pages:
        # reportlab writes an empty page-transition dictionary, which PDF/A validators cannot vouch for.
        if "/Trans" in page.obj and not page.obj.Trans.keys():
            del page.obj.Trans
    files = {ATTACHMENT_NAME: document.attachments[ATTACHMENT_NAME].get_file().read_bytes()}
    for attachment in attachments:
        files[attachment.name] = attachment.data
        _attach(document, attachment)
    _attach(
        document,
        Attachment(
            MANIFEST_NAME,
            manifest_bytes(files),
            "application/json",
            "SHA-256 of every other attachment of this report",
        ),
    )
    producer = str(document.docinfo.get("/Producer", "Signoff"))
    pdfa.prepare(document, PDFA_FLAVOUR)
    # prepare stamps the XMP with the time of the call and pikepdf as producer; the report's own time
    # and producer keep two exports of the same evidence identical up to their signatures.
    with document.open_metadata(set_pikepdf_as_editor=False) as metadata:
        metadata["xmp:MetadataDate"] = metadata["xmp:CreateDate"]
        metadata["pdf:Producer"] = f"{producer}, pikepdf {pikepdf.__version__}"
    out = io.BytesIO()
    try:
        # Every stream is compressed, report.json too (it is uncompressed in ``render_pdf``'s output):
        # uncompressed pages made the file 2.5 times larger, and the attachment is read with a tool anyway.
        pdfa.save(document, out, PDFA_FLAVOUR, repair=False, deterministic_id=True)
    except pdfa.PdfaError as error:  # a bug of ours, not a user's mistake: the report is not written
        findings = "; ".join(f"{f.rule} at {f.where}: {f.message}" for f in error.report.findings)
        raise IntegrityError(f"the report could not be made PDF/A-3b: {findings}") from error
    return out.getvalue()


def _attach(document: pikepdf.Pdf, attachment: Attachment) -> None:
    document.attachments[attachment.name] = pikepdf.AttachedFileSpec(
        document,
        attachment.data,
        description=attachment.description,
        filename=attachment.name,
        mime_type=attachment.mime_type,
        relationship=pikepdf.Name("/" + attachment.relationship),
    )
