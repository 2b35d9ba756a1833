"""A report with every kind of block and Unicode names, shared by the PDF and verification tests."""

from __future__ import annotations

from datetime import UTC, datetime

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

BUNDLE_HASH = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f"
UNICODE_NAMES = ("Zoë Łukasz Ñúñez", "Ørjan Åsmund Þórsdóttir", "Dvořák Čapek")


def sample_report(rows: int = 120) -> Report:
    """Every block kind; a table long enough to split over pages; names outside Latin-1."""
    groups = ("Female", "Male", "Unknown", "Non-binary")
    return Report(
        report_id="RPT-0123456789ab",
        title="Model audit report",
        subtitle="credit-risk v3 · Zoë Łukasz Ñúñez",
        metadata=ReportMetadata(
            title="Audit report: credit-risk v3",
            author="Zoë Łukasz Ñúñez",
            subject="Compliance audit of model credit-risk version 3",
            keywords=("audit", "fairness", "credit-risk"),
        ),
        generated_at=datetime(2026, 11, 22, 7, 30, 5, tzinfo=UTC),
        signoff_version="0.1.0",
        bundle_hash=BUNDLE_HASH,
        sections=(
            Section(
                1,
                "Cover",
                (
                    KeyValues(
                        (
                            ("Model", "credit-risk"),
                            ("Version", "3"),
                            ("Evidence bundle hash", BUNDLE_HASH),
                            ("Reviewer", UNICODE_NAMES[0]),
                        )
                    ),
                ),
            ),
            Section(
                2,
                "Summary",
                (
                    Callout(Status.FAIL, "Impact ratio for sex is 0.712, below the four-fifths line 0.8."),
                    Callout(Status.PASS, "ROC AUC 0.861 is above the minimum 0.75."),
                    Callout(Status.WAIVED, "Drift on income waived by Ørjan Åsmund Þórsdóttir."),
                    Callout(Status.INSUFFICIENT, "Group Non-binary has 12 rows, fewer than 30."),
                    Paragraph("Conventions are stated with every table.", style="note"),
                ),
                new_page=True,
            ),
            Section(
                3,
                "Fairness",
                (
                    Heading("3.1 Attribute: sex"),
                    Paragraph(
                        "impact ratio = group selection rate / highest group's selection rate "
                        "(NYC LL144 / EEOC four-fifths)"
                    ),
                    BarChart(
                        title="Impact ratio by sex",
                        categories=groups,
                        values=(0.712, 1.0, 0.934, None),
                        error_low=(0.655, 0.97, 0.85, None),
                        error_high=(0.771, 1.0, 1.02, None),
                        reference=0.8,
                        reference_label="four-fifths line 0.8",
                        highlight=(True, False, False, False),
                        highlight_label="below the four-fifths line",
                        axis_label="impact ratio",
                        axis_max=1.1,
                    ),
                    HeatMap(
                        title="Selection rate by sex × race",
                        row_labels=groups,
                        column_labels=("White", "Black", "Asian-Pac-Islander", "Other"),
                        values=(
                            (0.31, 0.22, 0.35, 0.18),
                            (0.42, 0.30, 0.44, None),
                            (0.25, 0.21, 0.28, 0.2),
                            (0.1, 0.5, 0.3, 0.4),
                        ),
                        row_axis_label="sex",
                        column_axis_label="race",
                    ),
                    Table(
                        columns=("Row", "Reviewer", "Count", "Rate", "Digest"),
                        rows=tuple(
                            (
                                str(i + 1),
                                UNICODE_NAMES[i % 3],
                                f"{1000 + i}",
                                f"{(i % 97) / 97:.4f}",
                                f"{i:064x}"[:16],
                            )
                            for i in range(rows)
                        ),
                        align=("right", "left", "right", "right", "left"),
                        caption="Table 3.1 Counts per row",
                        note="Rates are counts / 1000.",
                    ),
                ),
                new_page=True,
            ),
        ),
        payload={
            "bundle_hash": BUNDLE_HASH,
            "signatures": [{"name": UNICODE_NAMES[0], "meaning": "approved"}],
        },
    )
