"""Every block of the report content model drawn into a Word file and read back with python-docx."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document

from signoff.reporting.content import (
    BarChart,
    Callout,
    Heading,
    HeatMap,
    KeyValues,
    Paragraph,
    Report,
    ReportMetadata,
    Section,
    Status,
    Table,
)
from signoff.reporting.docx import render_docx

HOSTILE = "Zoë <b>bold</b> & &amp; {x} *y*"


def test_each_block_reads_back_as_the_text_it_holds():
    report = Report(
        report_id="DOC-1",
        title=f"Title {HOSTILE}",
        metadata=ReportMetadata("Meta title", "Signoff", "Subject", ("a", "b")),
        generated_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
        signoff_version="9.9",
        bundle_hash=None,
        sections=(
            Section(
                1,
                "First",
                (
                    Paragraph(HOSTILE),
                    Paragraph("a note", style="note"),
                    Heading("Sub"),
                    KeyValues((("key", "value\x00with a NUL"),), caption="Pairs"),
                    Table(("A", "B"), (("1", HOSTILE),), note="table note"),
                    Callout(Status.FAIL, "it failed"),
                ),
            ),
            Section(
                3,
                "Charts",
                (
                    BarChart("Bars", ("x", "y"), (0.5, None), axis_label="rate"),
                    HeatMap("Heat", ("r1",), ("c1", "c2"), ((0.25, None),)),
                ),
            ),
        ),
        subtitle="Sub title",
    )
    document = Document(io.BytesIO(render_docx(report)))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs == [
        ("Title", f"Title {HOSTILE}"),
        ("Normal", "Sub title"),
        ("Normal", "Report DOC-1, generated 2026-12-07T09:30:00.000000Z"),
        ("Heading 1", "1 First"),
        ("Normal", HOSTILE),
        ("Normal", "a note"),
        ("Heading 2", "Sub"),
        ("Normal", "Pairs"),
        ("List Bullet", "key: value\ufffdwith a NUL"),  # XML cannot hold a NUL: shown as a replacement
        ("Normal", "table note"),
        ("Normal", "✗ FAIL it failed"),
        ("Heading 1", "3 Charts"),
        ("Normal", "Bars"),
        ("Normal", "Heat"),
    ]
    assert document.paragraphs[5].runs[0].italic and document.paragraphs[10].runs[0].bold
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    assert tables == [
        [["A", "B"], ["1", HOSTILE]],
        [["", "value"], ["x", "0.5"], ["y", "None"]],
        [["", "c1", "c2"], ["r1", "0.25", "None"]],
    ]
    properties = document.core_properties
    assert (properties.title, properties.author, properties.keywords) == ("Meta title", "Signoff", "a, b")
