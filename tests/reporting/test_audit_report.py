"""The audit report for a hand-built known case: sections in order, and the printed numbers are the inputs."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
from audit_samples import BUNDLE, DRIFT, FAIRNESS, PERFORMANCE, audit_events, known_case

from signoff.domain.audit import verify_chain
from signoff.reporting.audit_report import build_audit_report
from signoff.reporting.content import BarChart, Callout, Status
from signoff.reporting.pdf import render_pdf
from signoff.reporting.verify import read_report

SECTION_TITLES = (
    "Cover",
    "Summary",
    "Inventory record",
    "Lineage",
    "Data",
    "Performance",
    "Fairness",
    "Explainability",
    "Drift and monitoring",
    "Findings and waivers",
    "Signature manifest",
    "Audit trail",
    "Appendix: regulatory mapping",
)


def pdf_text(path: Path, layout: bool = True) -> str:
    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def known_pdf(tmp_path_factory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("audit") / "audit.pdf"
    render_pdf(build_audit_report(known_case()), path)
    return path, pdf_text(path)


def lines_with(text: str, *needles: str) -> list[str]:
    return [line for line in text.splitlines() if all(n in line for n in needles)]


def test_thirteen_sections_in_the_order_of_the_issue(known_pdf):
    report = build_audit_report(known_case())
    assert [(s.number, s.title) for s in report.sections] == list(enumerate(SECTION_TITLES, start=1))
    _, text = known_pdf
    # heading lines only: the cover's contents lines end in a page number
    positions = [
        re.search(rf"^\s*{n}\s+{re.escape(title)}\s*$", text, re.M).start()
        for n, title in enumerate(SECTION_TITLES, start=1)
    ]
    assert positions == sorted(positions)


def test_cover_carries_identity_time_version_bundle_and_review(known_pdf):
    _, text = known_pdf
    cover = text.split("\f")[0]
    for expected in (
        "credit-risk",
        "mlflow",
        "http://mlflow.internal:5000",
        "4f1c2a9e0b7d4c3e8a6f5b2d1c0e9f8a",
        "2026-11-21 09:00:00 UTC",
        "0.1.0",
        BUNDLE,
        "in review",
        "Dvořák Čapek",
    ):
        assert expected in cover, expected
    report_id = build_audit_report(known_case()).report_id
    assert re.fullmatch(r"RPT-[0-9a-f]{16}", report_id) and report_id in cover


@pytest.mark.parametrize("row", FAIRNESS + PERFORMANCE + DRIFT, ids=lambda r: f"{r[0]}:{r[1]}")
def test_every_result_is_printed_with_its_value_interval_and_size(known_pdf, row):
    metric, scope, value, low, high, n, insufficient = row
    _, text = known_pdf
    if metric.startswith("fairness."):  # fairness tables name the group under its attribute's heading
        scope = " & ".join(p.split("=")[1] for p in scope.split("&")) if "=" in scope else "between groups"
    lines = lines_with(text, metric.split(".", 1)[1], scope)
    interval = "–" if low is None else f"[{low:.3f}, {high:.3f}]"
    expected = [f"{value:.3f}", interval, f"{n:,}"] + (["insufficient data"] if insufficient else [])
    assert any(all(e in line for e in expected) for line in lines), (expected, lines)


def test_impact_ratio_charts_draw_the_four_fifths_line_and_mark_groups_below_it(known_pdf):
    report = build_audit_report(known_case())
    fairness = next(s for s in report.sections if s.title == "Fairness")
    charts = {b.title: b for b in fairness.blocks if isinstance(b, BarChart)}
    sex = charts["Impact ratio by sex"]
    assert sex.reference == 0.8
    assert sex.categories == ("Female", "Male", "Unknown (insufficient)")
    assert sex.values == (0.712, 1.0, 0.934)
    # Unknown is below 1 but insufficient: never marked as failing the line
    assert sex.highlight == (True, False, False)
    _, text = known_pdf
    assert "0.712 [0.655, 0.771] *" in text
    assert "four-fifths line 0.8" in text
    assert "impact ratio = group selection rate / highest group's selection rate" in re.sub(r"\s+", " ", text)


def test_summary_lists_every_group_below_the_line(known_pdf):
    _, text = known_pdf
    body = text[text.index("\f") :]  # past the cover, whose contents list the section titles too
    summary = body[body.index("2 Summary") : body.index("3 Inventory record")]
    below = [(s, v) for m, s, v, *_ in FAIRNESS if m == "fairness.impact_ratio" and v < 0.8]
    assert len(below) == 4
    for scope, value in below:
        assert lines_with(summary, scope, f"{value:.3f}"), scope
    assert "sex=Unknown" not in summary  # insufficient data is not "below the line"


def test_data_section_counts_rows_and_quarantine_per_log(known_pdf):
    _, text = known_pdf
    case = known_case()
    for log in case.prediction_logs:
        v = log.validation
        assert lines_with(
            text, log.source_name, f"{v.rows_read:,}", f"{v.rows_kept:,}", f"{v.rows_read - v.rows_kept:,}"
        )
        assert log.evidence_sha256 in text
    assert lines_with(text, "missing", "income", "12", "3, 17, 44", "income is empty")
    assert "Log 12: every validation check passed." in text


def test_audit_trail_prints_events_head_hash_and_verdict(known_pdf):
    _, text = known_pdf
    events = audit_events()
    verdict = verify_chain(events)
    assert verdict.ok and verdict.head_hash in text
    assert "✓ PASS" in text and "Audit chain verified: 6 events" in text
    for event in events:
        assert lines_with(text, str(event.sequence), event.action, event.hash[:16])


def test_a_broken_chain_is_reported_as_a_failure(tmp_path):
    events = list(audit_events())
    events[2] = dataclasses.replace(events[2], actor="Mallory")
    report = build_audit_report(known_case(audit_events=tuple(events), chain_verdict=verify_chain(events)))
    trail = next(s for s in report.sections if s.title == "Audit trail")
    callouts = [b for b in trail.blocks if isinstance(b, Callout)]
    assert callouts[0].status is Status.FAIL and "broken at event 3" in callouts[0].text
    render_pdf(report, tmp_path / "broken.pdf")
    assert "✗ FAIL" in pdf_text(tmp_path / "broken.pdf")


def test_sections_without_inputs_say_not_run_rather_than_disappear(tmp_path):
    bare = known_case(
        observations=(),
        analyses_run=(),
        prediction_logs=(),
        audit_events=(),
        chain_verdict=None,
        bundle_hash=None,
        review_status=None,
    )
    report = build_audit_report(bare)
    assert [s.title for s in report.sections] == list(SECTION_TITLES)
    render_pdf(report, tmp_path / "bare.pdf")
    text = re.sub(r"\s+", " ", pdf_text(tmp_path / "bare.pdf", layout=False))
    for phrase in (
        "Prediction log import: not run",
        "Performance analysis: not run",
        "Fairness analysis: not run",
        "Explainability (SHAP): not run",
        "Drift analysis: not run",
        "Audit chain verification: not run",
        "Signatures: not available in this report",
        "none: this report is not bound to a review",
        "no review",
    ):
        assert phrase in text, phrase


def test_same_evidence_gives_the_same_bytes_and_verifies(known_pdf, tmp_path):
    path, _ = known_pdf
    again = tmp_path / "again.pdf"
    render_pdf(build_audit_report(known_case()), again)
    assert again.read_bytes() == path.read_bytes()
    result = read_report(path)
    assert result.ok, result.failed()
    assert result.bundle_hash == BUNDLE
    observed = result.content["payload"]["observations"]
    assert [(o["metric"], o["scope"], o["value"]) for o in observed] == [
        (m, s, v) for m, s, v, *_ in FAIRNESS + PERFORMANCE + DRIFT
    ]


def test_report_id_depends_on_the_evidence_and_time():
    base = build_audit_report(known_case()).report_id
    assert build_audit_report(known_case()).report_id == base
    later = known_case(generated_at=known_case().generated_at.replace(hour=10))
    assert build_audit_report(later).report_id != base
    assert build_audit_report(known_case(report_id="RPT-given")).report_id == "RPT-given"
