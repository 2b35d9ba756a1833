"""The intersection heat map stays readable at 5 x 6 groups and more, on the page and in the PDF."""

from __future__ import annotations

from datetime import UTC, datetime

from pypdf import PdfReader
from reportlab.graphics.shapes import Group, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from signoff.domain.fairness import GroupMetrics, SegmentResult
from signoff.reporting.content import HeatMap, Report, ReportMetadata, Section
from signoff.reporting.pdf import _heat_map, render_pdf
from signoff.ui.pages.fairness_charts import heatmap_figure

RACES = ("White", "Black", "Asian", "Hispanic or Latino", "Native Hawaiian", "Two or more races")


def _segment(rows: tuple[str, ...], columns: tuple[str, ...]) -> SegmentResult:
    groups = tuple(
        GroupMetrics(f"{r} & {c}", 50 + i * 7 + j, {"selection_rate": (i * len(columns) + j) / 100})
        for i, r in enumerate(rows)
        for j, c in enumerate(columns)
    )
    return SegmentResult(
        name="age&race",
        attributes=("age", "race"),
        reference=None,
        groups=groups,
        comparisons=(),
        impact_ratios=(),
    )


def test_a_five_by_six_grid_shows_values_only_and_keeps_counts_in_the_tooltip():
    ages = ("18-24", "25-34", "35-44", "45-64", "65+")
    figure = heatmap_figure(_segment(ages, RACES), "selection_rate")
    (trace,) = figure["data"]
    assert trace["texttemplate"] == "%{z:.3f}"  # "value<br>n=count" overflowed these cells
    assert trace["text"][4][5] == "0.290<br>n=83"  # the hover still has value and count
    assert "%{text}" in trace["hovertemplate"]
    assert figure["layout"]["xaxis"]["tickangle"] == -40  # long labels tilt instead of overlapping
    assert figure["layout"]["height"] >= 34 * 5 + 140


def test_a_large_grid_leaves_cells_to_the_tooltip_and_grows_tall():
    rows = tuple(f"band {i}" for i in range(12))
    figure = heatmap_figure(_segment(rows, (*RACES, "Other", "Declined", "Unknown")), "selection_rate")
    assert figure["data"][0]["texttemplate"] == ""
    assert figure["layout"]["height"] == 140 + 34 * 12
    assert "hover a cell" in figure["layout"]["title"]["text"]


def test_a_small_grid_keeps_value_and_count_in_the_cell():
    figure = heatmap_figure(_segment(("F", "M"), ("A", "B")), "selection_rate")
    assert figure["data"][0]["texttemplate"] == "%{text}"


def test_the_pdf_heat_map_of_six_by_seven_groups_has_no_overlapping_text(tmp_path):
    rows = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
    columns = (*RACES, "Other")
    values = tuple(tuple(round((i * 7 + j) / 50, 3) for j in range(7)) for i in range(6))
    chart = HeatMap("Selection rate by age × race", rows, columns, values, row_axis_label="age",
                    column_axis_label="race")  # fmt: skip
    report = Report(
        report_id="heat",
        title="Heat",
        metadata=ReportMetadata(title="Heat", author="test", subject="heat"),
        generated_at=datetime(2026, 12, 1, tzinfo=UTC),
        signoff_version="test",
        bundle_hash=None,
        sections=(Section(1, "Fairness", (chart,)),),
    )
    pdf = tmp_path / "heat.pdf"
    render_pdf(report, pdf)
    assert len(PdfReader(pdf).pages) == 1
    # Every label and value drawn upright has a box of its own: nothing overlaps another.
    drawing = _heat_map(chart)
    boxes = []
    for item in drawing.contents:
        if isinstance(item, String):
            width = stringWidth(item.text, item.fontName, item.fontSize)
            left = {"start": item.x, "middle": item.x - width / 2, "end": item.x - width}[item.textAnchor]
            boxes.append((item.text, left, item.y, left + width, item.y + item.fontSize * 0.8))
    texts = [b[0] for b in boxes]
    for row in rows:
        assert row in texts
    for row in values:
        for value in row:
            assert f"{value:.3f}" in texts
    for i, (a_text, ax0, ay0, ax1, ay1) in enumerate(boxes):
        for b_text, bx0, by0, bx1, by1 in boxes[i + 1 :]:
            overlap = ax0 < bx1 - 0.5 and bx0 < ax1 - 0.5 and ay0 < by1 - 0.5 and by0 < ay1 - 0.5
            assert not overlap, (a_text, b_text)
    rotated = [item for item in drawing.contents if isinstance(item, Group)]
    assert len(rotated) == len(columns)  # "Hispanic or Latino" would not fit upright over its cell
