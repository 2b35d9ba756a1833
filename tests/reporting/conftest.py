"""The sample report rendered once per session for the PDF and verification tests, and the report world's
report exported once per session through the CLI (signed, PDF/A) for the export and signature tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from report_samples import sample_report
from report_world import NAME, VERSION, build_report_world, pdf_text

from review_world import analyst_token
from signoff.reporting.content import Report
from signoff.reporting.pdf import render_pdf


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> tuple[Report, Path, str]:
    """(report, pdf path, sha256 returned by render_pdf)"""
    report = sample_report()
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    digest = render_pdf(report, path)
    return report, path, digest


APP = Path(__file__).resolve().parents[2] / "app"


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    return build_report_world(tmp_path_factory.mktemp("report_world"))


@pytest.fixture(scope="session")
def exported(world, tmp_path_factory):
    """The report exported once through the CLI: (path, stdout, text)."""
    out = tmp_path_factory.mktemp("export") / "credit-risk-4.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "signoff", "--db", world.url, "report", NAME, VERSION, "--out", str(out)],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(APP), os.environ.get("PYTHONPATH", "")]),
            "SIGNOFF_TOKEN": analyst_token(world.url),  # an export is a change: it is signed in
        },
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout, pdf_text(out)
