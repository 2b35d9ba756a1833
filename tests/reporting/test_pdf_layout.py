"""Headings and captions are never left alone at a page foot: read back from the rendered PDF with pdftotext.

Each report is a paragraph of ``lines`` short lines, then a heading and a captioned table (or key-value
list). Stepping ``lines`` one at a time moves the heading down the page in steps (3.5 mm) smaller than a
heading's height, so one of them lands in the last few centimetres where the heading fits but its
table's caption does not.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest
from report_samples import sample_report

from signoff.reporting.content import Heading, KeyValues, Paragraph, Section, Table
from signoff.reporting.pdf import render_pdf

ROWS = tuple((f"group {n}", f"{n / 7:.3f}") for n in range(6))


def last_lines(path) -> list[str]:
    """The last line of each page's body (page furniture left out), as poppler reads it."""
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    endings = []
    for page in text.split("\f")[:-1]:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        body = [
            line for line in lines if "page " not in line and not line.startswith(("Report RPT", "bundle "))
        ]
        endings.append(body[-1])
    return endings


@pytest.mark.parametrize("kind", ["table", "key values"])
def test_no_page_ends_with_a_heading_or_a_caption(tmp_path, kind):
    body = (
        Table(columns=("Group", "Rate"), rows=ROWS, caption="The caption")
        if kind == "table"
        else KeyValues(ROWS, caption="The caption")
    )
    endings = []
    for lines in range(40, 60):
        filler = Paragraph("\n".join(f"filler line {n}" for n in range(lines)), style="note")
        report = replace(
            sample_report(), sections=(Section(1, "Layout", (filler, Heading("The heading"), body)),)
        )
        path = tmp_path / f"layout-{lines}.pdf"
        render_pdf(report, path)
        endings += [(lines, last) for last in last_lines(path)]
    assert any(last.startswith("filler line") for _, last in endings)  # pages ended inside the filler
    assert [(n, last) for n, last in endings if last in ("The heading", "The caption")] == []
