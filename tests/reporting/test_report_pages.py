"""The report's pages as an auditor sees them, read back from the real PDF with poppler and pypdf.

Page fill: poppler's ``pdftotext -bbox`` gives every word's box; a page's fill is how far down the body
frame its lowest word reaches (page furniture outside the frame left out). Every page but the last must
be at least a third full. The fairness chapter leads with its summaries and the full tables follow in
the appendix, with 8 pt type at the least; a table that splits repeats its header row on the next page;
a bar below the four-fifths line is drawn red, as in the app.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_samples import sample_report
from report_world import EXPECTED

from signoff.reporting.audit_report import build_audit_report
from signoff.reporting.content import BarChart, Heading, Paragraph, Section, Table
from signoff.reporting.pdf import render_pdf
from signoff.services.report import gather_report_input
from signoff.storage import open_database

MM = 72 / 25.4
BODY_TOP, BODY_BOTTOM = 20 * MM, 18 * MM  # the renderer's frame margins (top, bottom) on A4
A_THIRD = 1 / 3


def page_fills(path: Path) -> list[float]:
    """Per page: the share of the body frame's height above the lowest word in it (0 = blank)."""
    xhtml = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    root = ET.fromstring(
        re.sub(r"<!DOCTYPE[^>]*>", "", xhtml).replace(' xmlns="http://www.w3.org/1999/xhtml"', "")
    )
    fills = []
    for page in root.iter("page"):
        top, bottom = BODY_TOP, float(page.get("height")) - BODY_BOTTOM
        lows = [
            float(w.get("yMax"))
            for w in page.iter("word")
            if float(w.get("yMin")) > top - 2 and float(w.get("yMax")) < bottom + 2
        ]
        fills.append((max(lows) - top) / (bottom - top) if lows else 0.0)
    return fills


def near_blank_pages(path: Path) -> list[tuple[int, float]]:
    fills = page_fills(path)
    return [(number, round(fill, 2)) for number, fill in enumerate(fills[:-1], start=1) if fill < A_THIRD]


def pages_text(path: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def test_the_fill_check_sees_a_near_blank_page(tmp_path):
    """The oracle itself: a page with three lines before a forced page break measures under a third."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "blank.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    for page, lines in enumerate((60, 3, 40)):
        for n in range(lines):
            canvas.drawString(60, A4[1] - BODY_TOP - 12 * (n + 1), f"line {n} of page {page + 1}")
        canvas.showPage()
    canvas.save()
    fills = page_fills(path)
    assert fills[0] > 0.9 and fills[1] < 0.1 and 0.6 < fills[2] < 0.7
    assert near_blank_pages(path) == [(2, round(fills[1], 2))]


def short_chapters_and_a_long_chart() -> list[Section]:
    """What left pages nearly blank: short chapters that each asked for a fresh page, and a chart too tall
    for what was left of a page that held only a few lines."""
    filler = Paragraph("\n".join(f"filler line {n}" for n in range(14)), style="note")
    chart = BarChart(
        title="Impact ratio by region",
        categories=tuple(f"region {n:02d}" for n in range(36)),
        values=tuple(0.5 + n / 80 for n in range(36)),
        axis_label="impact ratio",
        reference=0.8,
    )
    short = [
        Section(n, f"Short chapter {n}", (Paragraph(f"Only a few lines in chapter {n}."),), new_page=True)
        for n in range(3, 7)
    ]
    return [Section(1, "Layout", (Paragraph("Opening text."),)), Section(2, "Chart", (filler, chart)), *short]


def test_no_page_but_the_last_is_less_than_a_third_full(tmp_path):
    path = tmp_path / "layout.pdf"
    render_pdf(replace(sample_report(), sections=tuple(short_chapters_and_a_long_chart())), path)
    assert near_blank_pages(path) == []
    text = "\f".join(pages_text(path))
    assert "Impact ratio by region (continued)" in text  # the chart went on below the filler, then split
    assert all(f"Short chapter {n}" in text for n in range(3, 7))


def test_the_exported_report_has_no_near_blank_page(exported):
    path, _, _ = exported
    assert near_blank_pages(path) == []


@pytest.fixture(scope="module")
def demo_pdf(demo_workspace, tmp_path_factory) -> Path:
    """The demo workspace's report of version 2 (real data, every chapter), rendered from its evidence."""
    database, _ = demo_workspace
    with open_database(f"sqlite:///{database}") as db:
        evidence = gather_report_input(db, name="Adult income (demo)", version="2", actor="analyst")
    path = tmp_path_factory.mktemp("demo-report") / "demo.pdf"
    render_pdf(build_audit_report(evidence), path)
    return path


def test_the_demo_report_has_no_near_blank_page(demo_pdf):
    assert near_blank_pages(demo_pdf) == []


def test_fairness_summaries_come_first_and_the_full_tables_in_the_appendix(exported):
    path, _, _ = exported
    text = "\f".join(pages_text(path))
    chapter = re.search(r"^\s*7\s+Fairness\s*$", text, re.M).start()
    appendix = re.search(r"^\s*14\s+Appendix: fairness tables per group\s*$", text, re.M).start()
    summary = text.index("Lowest impact ratios by sex (log 1)")
    full_table = text.index("Counts and selection rates by sex (log 1)")
    assert chapter < summary < appendix < full_table
    # The summary names the group under four-fifths with its ratio (hand-computed: 0.300 / 0.500).
    summary_text = re.sub(r"\s+", " ", text[summary:appendix])
    n, rate, ratio = EXPECTED["Female"]
    assert re.search(
        rf"Female {n} {rate} \[[\d.]+, [\d.]+\] {ratio} \[[\d.]+, [\d.]+\] below four-fifths", summary_text
    )
    assert "1 of 2 judged groups below the four-fifths line: Female 0.600" in re.sub(
        r"\s+", " ", text[chapter:appendix]
    )
    # The Other group (1% of rows) is excluded, so it is no "lowest impact ratio" in the summary.
    assert not re.search(r"Other 1 1\.000", summary_text)


def font_sizes(page) -> set[float]:
    """The sizes, in points on the page, of the text drawn on a page (pypdf's reading of its operators)."""
    sizes: set[float] = set()

    def visit(text, cm, tm, _font, size):
        if text.strip():
            sizes.add(round(size * abs(tm[3]) * abs(cm[3]), 2))

    page.extract_text(visitor_text=visit)
    return sizes


def test_the_appendix_tables_are_set_in_8_pt_at_the_least(demo_pdf):
    pages = pages_text(demo_pdf)
    start = next(
        i
        for i, page in enumerate(pages)
        if re.search(r"^\s*14\s+Appendix: fairness tables per group\s*$", page, re.M)
    )
    reader = PdfReader(demo_pdf)
    sizes = set().union(*(font_sizes(reader.pages[i]) for i in range(start, len(pages))))
    assert sizes and min(sizes) >= 8, sorted(sizes)
    # The reading sees small type where there is some: a chart's 7 pt axis ticks in the fairness chapter.
    chapter = next(i for i, page in enumerate(pages) if "Impact ratio by race" in page)
    assert min(font_sizes(reader.pages[chapter])) < 8


def test_a_table_split_over_pages_repeats_its_header_row(tmp_path):
    table = Table(
        columns=("Cohort", "Tally", "Fraction"),  # one word each: a header cell never wraps
        rows=tuple((f"group {n:03d}", str(100 + n), f"{n / 200:.3f}") for n in range(150)),
        align=("left", "right", "right"),
        caption="A long table",
    )
    path = tmp_path / "long-table.pdf"
    render_pdf(replace(sample_report(), sections=(Section(1, "Long", (Heading("Groups"), table)),)), path)
    with_rows = [page for page in pages_text(path) if re.search(r"group \d{3}", page)]
    assert len(with_rows) >= 3
    for page in with_rows:
        header = re.search(r"^\s*Cohort\s+Tally\s+Fraction\s*$", page, re.M)
        assert header, page
        assert header.start() < page.index(re.search(r"group \d{3}", page).group())


def fill_colours(page) -> set[tuple[float, float, float]]:
    """The RGB fill colours a page's content stream sets (operator ``rg``)."""
    data = page.get_contents().get_data().decode("latin-1")
    return {
        tuple(float(v) for v in match.groups())
        for match in re.finditer(r"([\d.]+) ([\d.]+) ([\d.]+) rg", data)
    }


def is_red(rgb: tuple[float, float, float]) -> bool:
    r, g, b = rgb
    return r > 0.6 and g < 0.35 and b < 0.35


def is_blue(rgb: tuple[float, float, float]) -> bool:
    r, _g, b = rgb
    return b > 0.6 and r < 0.3


def test_a_bar_below_four_fifths_is_red_and_the_others_blue_as_in_the_app(exported):
    path, _, _ = exported
    pages = pages_text(path)
    reader = PdfReader(path)
    chart = next(i for i, page in enumerate(pages) if "Impact ratio by sex" in page)
    colours = fill_colours(reader.pages[chart])
    assert any(is_red(c) for c in colours) and any(is_blue(c) for c in colours), colours
    # a page without a judged chart has no red
    cover = fill_colours(reader.pages[0])
    assert not any(is_red(c) for c in cover)


@pytest.mark.parametrize("attribute", ["race", "sex"])
def test_each_attribute_summary_of_the_demo_is_on_one_page(demo_pdf, attribute):
    pages = pages_text(demo_pdf)
    first = next(i for i, page in enumerate(pages) if f"Lowest impact ratios by {attribute} (log" in page)
    page = pages[first]
    assert re.search(rf"^\s*Attribute: {attribute} \(log \d+\)\s*$", page, re.M), page
    assert f"Impact ratio by {attribute}" in page and "below the four-fifths line" in page
    appendix = next(
        i
        for i, text in enumerate(pages)
        if re.search(r"^\s*14\s+Appendix: fairness tables per group\s*$", text, re.M)
    )
    assert first < appendix
