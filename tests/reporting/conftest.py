"""The sample report rendered once per session for the PDF and verification tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_samples import sample_report

from signoff.reporting.content import Report
from signoff.reporting.pdf import render_pdf


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> tuple[Report, Path, str]:
    """(report, pdf path, sha256 returned by render_pdf)"""
    report = sample_report()
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    digest = render_pdf(report, path)
    return report, path, digest
