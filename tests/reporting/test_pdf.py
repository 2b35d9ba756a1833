"""The PDF renderer, read back with poppler (pdftotext, pdffonts, pdftoppm) and pypdf, not with itself."""

from __future__ import annotations

import io
import itertools
import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
from report_samples import BUNDLE_HASH, UNICODE_NAMES, sample_report

from signoff.domain.canonical import canonical_json, sha256_hex
from signoff.reporting.content import Paragraph, Report, ReportMetadata, Section, Table
from signoff.reporting.pdf import ATTACHMENT_NAME, _bar_chart_pages, _heat_map_pages, render_pdf


def pdftotext(path: Path, *extra: str) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *extra, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_every_section_heading_number_and_unicode_name_is_in_the_text(rendered):
    report, path, _ = rendered
    text = pdftotext(path)
    for section in report.sections:
        assert f"{section.number} {section.title}" in re.sub(r"[ \t]+", " ", text)
    for name in UNICODE_NAMES:
        assert name in text
    assert "0.712 [0.655, 0.771] *" in text
    assert "four-fifths line 0.8" in text
    assert "✗ FAIL" in text and "✓ PASS" in text and "⚑ WAIVED" in text and "? INSUFFICIENT DATA" in text
    assert BUNDLE_HASH in text  # full hash on the cover, set in the monospaced face
    # heat map cells carry their values, "n/a" where there is none
    assert "0.440" in text and "n/a" in text


def test_every_page_has_the_footer_with_page_x_of_y(rendered):
    report, path, _ = rendered
    pages = pdftotext(path).split("\f")[:-1]  # pdftotext ends every page with a form feed
    total = len(pypdf.PdfReader(path).pages)
    assert total == len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        assert f"page {number} of {total}" in page
        assert f"Report {report.report_id}" in page
        assert f"bundle {BUNDLE_HASH[:12]}" in page


def test_long_table_splits_across_pages_and_repeats_its_header(rendered):
    _, path, _ = rendered
    pages = pdftotext(path, "-layout").split("\f")[:-1]
    header = re.compile(r"Row\s+Reviewer\s+Count\s+Rate\s+Digest")
    with_header = [i for i, page in enumerate(pages) if header.search(page)]
    assert len(with_header) >= 2
    # rows run on from page to page: the first and last rows are on different pages
    first = next(i for i, p in enumerate(pages) if re.search(r"^\s*1\s+Zoë", p, re.M))
    last = next(i for i, p in enumerate(pages) if re.search(r"^\s*120\s+Dvořák", p, re.M))
    assert first < last and {first, last} <= set(with_header)


def test_document_metadata_and_creation_date(rendered):
    report, path, _ = rendered
    meta = pypdf.PdfReader(path).metadata
    assert meta.title == "Audit report: credit-risk v3"
    assert meta.author == "Zoë Łukasz Ñúñez"
    assert meta.subject == report.metadata.subject
    assert meta["/Keywords"] == "audit, fairness, credit-risk"
    assert meta.creation_date == report.generated_at


def test_only_embedded_dejavu_fonts(rendered):
    _, path, _ = rendered
    lines = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    fonts = [line.split() for line in lines[2:]]
    names = {row[0].split("+")[-1] for row in fonts}
    assert names == {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"}
    # columns: name type encoding emb sub uni object-id generation; "Type 1" would shift them
    assert all(row[-5] == "yes" for row in fonts), lines


def test_same_content_gives_byte_identical_pdf(rendered, tmp_path):
    report, path, digest = rendered
    again = io.BytesIO()
    assert render_pdf(sample_report(), again) == digest
    assert again.getvalue() == path.read_bytes()
    assert sha256_hex(path.read_bytes()) == digest
    # and different content gives a different file
    changed = Report(**{**report.__dict__, "report_id": "RPT-other"})
    assert render_pdf(changed, tmp_path / "other.pdf") != digest


def test_attachment_round_trips_as_canonical_json(rendered):
    report, path, _ = rendered
    attachments = pypdf.PdfReader(path).attachments
    assert list(attachments) == [ATTACHMENT_NAME]
    (data,) = attachments[ATTACHMENT_NAME]
    assert data == canonical_json(report.to_dict())
    assert json.loads(data) == json.loads(json.dumps(report.to_dict()))
    # its hash is printed on the cover page
    assert sha256_hex(data) in pdftotext(path).split("\f")[0]


def test_pages_render_to_images(rendered, tmp_path):
    _, path, _ = rendered
    result = subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(path), str(tmp_path / "page")], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stderr == ""
    assert len(list(tmp_path.glob("page-*.png"))) == len(pypdf.PdfReader(path).pages)


def test_a_report_without_bundle_and_with_an_empty_table_renders(tmp_path):
    report = Report(
        report_id="RPT-empty",
        title="Empty",
        metadata=ReportMetadata(title="t", author="a", subject="s"),
        generated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        signoff_version="0.1.0",
        bundle_hash=None,
        sections=(Section(1, "Only", (Paragraph("nothing <b>here</b> & more"), Table(("a", "b"), ()))),),
    )
    render_pdf(report, tmp_path / "empty.pdf")
    text = pdftotext(tmp_path / "empty.pdf")
    assert "nothing <b>here</b> & more" in text  # content text is never interpreted as markup
    assert "bundle none" in text and "(no rows)" in text


def test_content_model_refuses_inconsistent_shapes():
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        Table(("a", "b"), (("x",),))
    with pytest.raises(ValueError, match="timezone-aware"):
        Report(
            report_id="r",
            title="t",
            metadata=ReportMetadata("t", "a", "s"),
            generated_at=datetime(2026, 1, 1),
            signoff_version="0",
            bundle_hash=None,
            sections=(),
        )


def test_charts_taller_than_a_page_are_cut_into_parts_on_one_scale(tmp_path):
    from signoff.reporting.content import BarChart, HeatMap

    groups = tuple(f"group {i:02d}" for i in range(80))
    chart = BarChart("Many groups", groups, tuple(0.5 + i / 200 for i in range(80)), axis_label="ratio")
    heat = HeatMap("Tall grid", groups[:50], ("a", "b"), tuple((i / 50, None) for i in range(50)))
    report = Report(
        report_id="RPT-tall",
        title="Tall",
        metadata=ReportMetadata("t", "a", "s"),
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        signoff_version="0.1.0",
        bundle_hash=None,
        sections=(Section(1, "Charts", (chart, heat)),),
    )
    render_pdf(report, tmp_path / "tall.pdf")
    text = pdftotext(tmp_path / "tall.pdf")
    assert all(f"group {i:02d}" in text for i in range(80))
    assert "Many groups (continued, part 3 of 3)" in text
    assert "Tall grid (continued, part 2 of 2)" in text
    # one scale for all parts, so bars and shades compare across pages
    assert len({part.axis_max for part in _bar_chart_pages(chart)}) == 1
    assert len({part.value_range for part in _heat_map_pages(heat)}) == 1


def test_greyscale_print_keeps_order_and_statuses_apart():
    from signoff.reporting.content import Status
    from signoff.reporting.pdf import _CALLOUT_LOOK, _palette

    def grey(t: float) -> float:
        fill, _ = _palette(t)
        return 0.2126 * fill.red + 0.7152 * fill.green + 0.0722 * fill.blue

    shades = [grey(i / 20) for i in range(21)]
    assert all(a > b for a, b in itertools.pairwise(shades))  # larger value, darker grey
    # every status has its own word and symbol, and its own border (width / dash) besides its fill
    assert len({s.label for s in Status}) == len(Status)
    assert len({(w, tuple(d or ())) for w, _, d in (_CALLOUT_LOOK[s] for s in Status)}) == len(Status)


def test_cover_contents_give_the_page_each_section_starts_on(rendered):
    report, path, _ = rendered
    pages = pdftotext(path, "-layout").split("\f")[:-1]
    contents = pages[0][pages[0].index("Contents") :]
    for section in report.sections:
        heading = rf"{section.number}\s+{re.escape(section.title)}"
        # the heading itself, not its contents line (which ends in a page number)
        start = next(i for i, page in enumerate(pages) if re.search(rf"^\s*{heading}\s*$", page, re.M))
        assert re.search(rf"^\s*{heading}\s+{start + 1}\s*$", contents, re.M), (section.title, start + 1)
