"""The audit report says how each log's file was read: the interpretations, unlabelled rows and warnings."""

from __future__ import annotations

import dataclasses
import subprocess

from audit_samples import known_case, prediction_logs

from signoff.domain.prediction_log import ValidationIssue
from signoff.reporting.audit_report import build_audit_report
from signoff.reporting.pdf import render_pdf


def test_the_report_states_how_a_team_export_was_read(tmp_path):
    first, *others = prediction_logs()
    warning = ValidationIssue(
        "category_spelling", "sex", 161, (7,), "sex: 'Female' (1,229) and 'female' (161) differ only in case"
    )
    read = dataclasses.replace(
        first,
        mapping=dataclasses.replace(
            first.mapping,
            prediction_map=(("Approved", "Repaid"), ("Declined", "Defaulted")),
            positive_label="Repaid",
        ),
        validation=dataclasses.replace(first.validation, warnings=(warning,), rows_unlabelled=40),
    )
    path = tmp_path / "report.pdf"
    render_pdf(build_audit_report(known_case(prediction_logs=(read, *others))), path)
    text = " ".join(
        subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "prediction 'Approved' means label 'Repaid'" in text
    assert "the favourable label is 'Repaid'" in text
    assert "40 (outcome not known yet)" in text
    assert "'Female' (1,229) and 'female' (161) differ only in case" in text


def test_a_log_read_as_written_adds_nothing():
    report = build_audit_report(known_case())
    assert "Read as" not in str(report.to_dict()) and "Unlabelled rows" not in str(report.to_dict())
