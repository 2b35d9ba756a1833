"""The audit report for a hand-built known case: sections in order, and the printed numbers are the inputs."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
from audit_samples import (
    BUNDLE,
    DRIFT,
    FAIRNESS,
    PERFORMANCE,
    WAIVERS,
    audit_events,
    column_profile,
    drift_result,
    known_case,
    policy_evaluation,
    registry_history,
    registry_record,
    snapshots,
)

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


@pytest.mark.parametrize("row", FAIRNESS + PERFORMANCE, ids=lambda r: f"{r[0]}:{r[1]}")
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


def test_summary_gives_the_policy_verdict_of_every_rule_and_scope(known_pdf):
    _, text = known_pdf
    body = text[text.index("\f") :]  # past the cover, whose contents list the section titles too
    summary = body[body.index("2 Summary") : body.index("3 Inventory record")]
    evaluation = policy_evaluation()  # the policy engine's own verdicts are the oracle
    labels = {"pass": "✓ PASS", "fail": "✗ FAIL", "waived": "⚑ WAIVED", "insufficient_data": "? INSUFFICIENT"}
    assert len(evaluation.verdicts) == 10
    for verdict in evaluation.verdicts:
        judged = "–" if verdict.judged is None else f"{verdict.judged:.3f}"
        assert lines_with(
            summary, verdict.rule.id, verdict.scope + " ", labels[verdict.status.value], judged
        ), verdict
    assert "✗ FAIL Policy credit-fairness" in re.sub(r"\s+", " ", summary)
    assert "(5 pass, 3 fail, 1 waived, 1 insufficient data)" in re.sub(r"\s+", " ", summary)
    assert "evidence lacks: explain" in summary
    assert "waived until 2026-12-31 by Ørjan Åsmund Þórsdóttir" in re.sub(r"\s+", " ", summary)


def test_without_a_policy_the_summary_lists_groups_below_the_four_fifths_line(tmp_path):
    render_pdf(build_audit_report(known_case(policy_evaluation=None)), tmp_path / "nopolicy.pdf")
    text = pdf_text(tmp_path / "nopolicy.pdf")
    body = text[text.index("\f") :]
    summary = body[body.index("2 Summary") : body.index("3 Inventory record")]
    assert "Policy evaluation: not run" in re.sub(r"\s+", " ", summary)
    below = [(s, v) for m, s, v, *_ in FAIRNESS if m == "fairness.impact_ratio" and v < 0.8]
    assert len(below) == 4
    for scope, value in below:
        assert lines_with(summary, scope, f"{value:.3f}"), scope
    assert "sex=Unknown" not in summary  # insufficient data is not "below the line"


def test_drift_per_column_with_thresholds_and_verdicts(known_pdf):
    _, text = known_pdf
    labels = {"stable": "✓ stable", "drifted": "✗ DRIFTED"}
    for column in drift_result().columns:
        p_text = "p < 0.001" if column.ks_p_value < 0.001 else f"p = {column.ks_p_value:.3f}"
        assert lines_with(
            text,
            column.column,
            labels[column.verdict.value],
            f"{column.psi:.3f}",
            f"{column.jensen_shannon:.3f}",
            f"{column.ks_statistic:.3f} ({p_text})",
            f"{column.wasserstein_normalised:.3f}",
        ), column.column
        assert re.search(rf"{column.reference_missing}\s*/\s*{column.current_missing}\s*$", text, re.M)
    assert "Drifted columns: income." in text
    assert "0.1 / 0.2" in text  # PSI thresholds
    assert "log 12 against reference log 11" in re.sub(r"\s+", " ", text)
    assert "significant 0.2" in text  # the chart's reference line


def test_column_profiles_and_waivers_are_printed(known_pdf):
    _, text = known_pdf
    age, sex = column_profile().columns
    assert lines_with(
        text,
        age.name,
        "numeric",
        f"{age.missing} (0.0%)",
        str(age.distinct),
        f"min {age.minimum:.3f}, median 37.000, max {age.maximum:.3f}",
    )
    male, female = sex.top_categories
    assert lines_with(
        text,
        sex.name,
        "categorical",
        f"{sex.missing} (0.0%)",
        f"Male {male.share:.1%}, Female {female.share:.1%}",
    )
    (waiver,) = WAIVERS
    assert lines_with(
        text, waiver.rule_id, waiver.scope, waiver.granted_by[:6], waiver.until.isoformat(), "yes"
    )
    assert waiver.justification[:22] in text


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
        analysis_runs=(),
        audit_events=(),
        policy_evaluation=None,
        waivers=(),
        column_profiles={},
        drift=None,
        drift_logs=None,
        registry_record=None,
        snapshots=(),
        registry_history=(),
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
        "Review (signatures): not run",
        "Review (findings): not run",
        "Policy evaluation: not run",
        "No waivers are on record",
        "Registry import for this model version: not run",
        "Registry import: not run",
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


def test_analysis_runs_are_cited_with_inputs_engine_and_result_hash(known_pdf):
    path, text = known_pdf
    flat = re.sub(r"\s+", " ", pdf_text(path, layout=False))
    log_hash = known_case().prediction_logs[0].evidence_sha256
    for run_id, kind in ((21, "performance"), (22, "fairness"), (23, "shap")):
        assert lines_with(text, str(run_id), kind, f"{run_id:x}" * 8)
        assert f"signoff.analysis.{kind} 0.1.0" in flat
        parameters = text[text.index(f"Parameters of run {run_id} ({kind})") :]
        assert re.match(rf"Parameters of run {run_id} \({kind}\)\s+Bootstrap\s+1000\n", parameters)
    assert flat.count(f"log: {log_hash[:16]}") == 3
    assert "Computed by run 22 (signoff.analysis.fairness 0.1.0)" in flat
    # a SHAP run without SHAP results in this report: explained as not available, not as "not run"
    assert "SHAP explanations: not available in this report" in flat
    assert "Explainability (SHAP): not run" not in flat


def test_a_fresh_process_with_another_hash_seed_exports_the_same_bytes(known_pdf, tmp_path):
    """Re-export happens in a later session: nothing may depend on set order or the process."""
    import os
    import sys

    path, _ = known_pdf
    script = (
        "import sys; from pathlib import Path; from audit_samples import known_case; "
        "from signoff.reporting.audit_report import build_audit_report; "
        "from signoff.reporting.pdf import render_pdf; "
        "render_pdf(build_audit_report(known_case()), Path(sys.argv[1]))"
    )
    here = Path(__file__).parent
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}.pdf"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join([str(here), *sys.path])}
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env, cwd=tmp_path)
        assert out.read_bytes() == path.read_bytes()


def test_registry_record_card_lineage_snapshots_and_history(known_pdf):
    path, text = known_pdf
    flat = re.sub(r"\s+", " ", pdf_text(path, layout=False))
    record = registry_record()
    for value in (
        record.card.intended_uses,
        record.card.limitations,
        record.run.git_commit,
        record.run.experiment_name,
        record.artifacts[0].sha256,
        "Staging",
    ):
        assert value in flat, value
    (dataset,) = record.run.datasets
    assert lines_with(text, dataset.name, dataset.context, dataset.digest)
    assert lines_with(text, "roc_auc", "0.859", "holdout-2026")
    for snapshot in snapshots():  # a digest may wrap inside its cell: both parts on consecutive lines
        digest = snapshot.content_sha256
        assert any(re.search(rf"{digest[:cut]}.*\n.*{digest[cut:]}", text) for cut in range(16, 49)), (
            snapshot.id
        )
    (change,) = registry_history()
    assert f"{change.model}: alias {change.subject} moved v{change.before} -> v{change.after}" in flat
    assert "2026-11-20 09:00:00 UTC and 2026-11-21 09:00:00 UTC" in flat


def test_shap_section_prints_importance_gaps_local_rows_and_the_explainer(tmp_path):
    from audit_samples import explanation

    report = build_audit_report(known_case(explanations=((11, explanation()),)))
    section = next(s for s in report.sections if s.title == "Explainability")
    chart = next(b for b in section.blocks if isinstance(b, BarChart))
    assert chart.categories == ("income", "age") and chart.values == (0.4321, 0.1234)
    path = tmp_path / "shap.pdf"
    render_pdf(report, path)
    text = pdf_text(path)
    flat = re.sub(r"\s+", " ", text)
    assert lines_with(text, "income", "0.432", "[0.401, 0.466]", "higher values lower the output")
    assert lines_with(text, "age", "0.123", "[0.110, 0.139]", "no clear direction")
    assert lines_with(
        text, "sex", "income", "Female (n 480)", "Male (n 520)", "0.510 vs 0.360", "0.150", "yes"
    )
    assert "The model relies on income more for sex=Female than for sex=Male" in flat
    assert "tree: shap.TreeExplainer (interventional)" in flat
    assert "1,000 of 5,000 rows (seed 7)" in flat
    assert "200 rows from reference log 13" in flat
    assert "max 0.000001 over 1,000 rows; tolerance 0.001000: within tolerance" in flat
    # the local row: base -1.25 + 0.8125 - 0.0625 = -0.5, the model's output
    assert "Row applicant-17: base -1.250 + contributions = output -0.500" in flat
    assert lines_with(text, "income", "18500", "+0.812") or lines_with(text, "income", "18,500", "+0.812")
    assert "SHAP explanations: not available" not in flat


def test_inventory_takes_intended_use_and_risk_from_the_card_when_the_registry_has_none():
    evidence = known_case()
    bare = dataclasses.replace(
        evidence.model_version, attributes={"registry": {"model-card": {"has_card": True}}}
    )
    report = build_audit_report(dataclasses.replace(evidence, model_version=bare))
    inventory = next(s for s in report.sections if s.title == "Inventory record")
    first = next(b for b in inventory.blocks if hasattr(b, "items"))
    items = dict(first.items)
    card = registry_record().card
    assert items["Intended use"] == card.intended_uses
    assert items["Risk rating"] == card.risk_rating
    assert items["Owner"] == "not recorded"
    # The raw per-source record is printed under "As the registry records it", not as an attribute.
    assert all("registry" not in str(getattr(b, "rows", "")) for b in inventory.blocks)
