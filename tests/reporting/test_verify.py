"""Verification of an exported report: passes on the original, fails on one changed byte."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject
from report_samples import BUNDLE_HASH, UNICODE_NAMES

from signoff.domain.canonical import canonical_json, sha256_hex
from signoff.domain.errors import InputError
from signoff.reporting.content import Paragraph, Report, ReportMetadata, Section
from signoff.reporting.verify import file_checks, read_report


def tampered_copy(original: Path, target: Path, old: bytes, new: bytes) -> Path:
    """Copy the PDF with one byte of the embedded report.json changed (it is stored uncompressed)."""
    raw = bytearray(original.read_bytes())
    attachment_start = raw.index(b'{"bundle_hash"')
    position = raw.index(old, attachment_start)
    assert len(old) == len(new) == 1 or old[1:] == new[1:]
    raw[position] = new[0]
    target.write_bytes(bytes(raw))
    return target


def test_original_report_verifies(rendered):
    report, path, digest = rendered
    result = read_report(path)
    assert result.ok, result.failed()
    assert result.file_sha256 == digest
    assert result.content_sha256 == sha256_hex(canonical_json(report.to_dict()))
    assert result.declared_sha256 == result.content_sha256
    assert result.report_id == report.report_id
    assert result.bundle_hash == BUNDLE_HASH
    assert result.signatures == ({"meaning": "approved", "name": UNICODE_NAMES[0]},)
    assert {c.name for c in result.checks if c.ok} >= {
        "content hash (document information)",
        "content hash (attachment description)",
        "content hash (printed on the cover)",
        "content is canonical JSON",
    }


def test_an_unsigned_report_is_not_applicable_with_a_database_and_fails_alone(rendered):
    """``render_pdf``'s output is what exports were before signing: no root, no manifest, no signature."""
    _, path, _ = rendered
    embedded = read_report(path)
    (with_database,) = file_checks(embedded, signed_required=False)
    assert (with_database.name, with_database.ok) == ("PAdES signature", None)
    (alone,) = file_checks(embedded)
    assert (alone.name, alone.ok) == ("PAdES signature", False)
    assert "embeds no workspace-root.cer" in alone.detail


def test_one_changed_byte_in_the_attachment_fails_verification(rendered, tmp_path):
    _, path, _ = rendered
    # "credit-risk" -> "Credit-risk" inside the JSON: still valid JSON, different hash
    bad = read_report(tampered_copy(path, tmp_path / "bad.pdf", b"credit-risk", b"Credit-risk"))
    assert not bad.ok
    failed = {c.name for c in bad.failed()}
    assert {
        "content hash (document information)",
        "content hash (attachment description)",
        "content hash (printed on the cover)",
    } <= failed
    assert "content is canonical JSON" not in failed  # the change itself is well-formed


def test_a_byte_that_breaks_the_json_is_reported_not_raised(rendered, tmp_path):
    _, path, _ = rendered
    bad = read_report(tampered_copy(path, tmp_path / "broken.pdf", b"{", b"["))
    assert not bad.ok and bad.content is None and bad.report_id is None
    assert "content is canonical JSON" in {c.name for c in bad.failed()}


def test_a_file_that_is_no_pdf_or_no_report_is_an_input_error(tmp_path):
    text = tmp_path / "notes.pdf"
    text.write_text("just text")
    with pytest.raises(InputError, match="not a readable PDF"):
        read_report(text)
    with pytest.raises(InputError, match="cannot read"):
        read_report(tmp_path / "missing.pdf")

    from reportlab.pdfgen.canvas import Canvas

    plain = tmp_path / "plain.pdf"
    canvas = Canvas(str(plain))
    canvas.drawString(100, 100, "hello")
    canvas.save()
    with pytest.raises(InputError, match=r"no attached report\.json"):
        read_report(plain)


def test_report_without_bundle_hash_verifies(tmp_path):
    from datetime import UTC, datetime

    from signoff.reporting.pdf import render_pdf

    report = Report(
        report_id="RPT-nobundle",
        title="t",
        metadata=ReportMetadata("t", "a", "s"),
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        signoff_version="0.1.0",
        bundle_hash=None,
        sections=(Section(1, "Only", (Paragraph("x"),)),),
    )
    render_pdf(report, tmp_path / "r.pdf")
    result = read_report(tmp_path / "r.pdf")
    assert result.ok, result.failed()
    assert result.bundle_hash is None and result.signatures == ()


def test_a_report_file_of_300_mb_is_refused_before_it_is_read(rendered, tmp_path):
    """Made sparse: the size check must come before any read (issue 18)."""
    _, path, _ = rendered
    huge = tmp_path / "huge.pdf"
    huge.write_bytes(path.read_bytes())
    os.truncate(huge, 300 * 1024 * 1024)
    with pytest.raises(InputError, match=r"is 314,572,800 bytes, more than any Signoff report"):
        read_report(huge)


def test_a_compressed_300_mb_attachment_is_refused_without_unpacking_it_all(rendered, tmp_path):
    _, path, _ = rendered
    reader = PdfReader(path)
    writer = PdfWriter(clone_from=reader)
    packer = zlib.compressobj(9)
    zeros = bytes(1024 * 1024)
    packed = b"".join(packer.compress(zeros) for _ in range(300)) + packer.flush()
    names = writer._root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    stream = names[1].get_object()["/EF"]["/F"].get_object()
    stream._data = packed
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    bomb = tmp_path / "bomb.pdf"
    with bomb.open("wb") as out:
        writer.write(out)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(InputError, match=r"unpacks to more than 67,108,864 bytes.*not unpacked further"):
        read_report(bomb)
