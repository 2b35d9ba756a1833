"""The numbers of a report's comparison, validation and drift sections, derived again offline from the
count tables the PDF carries, checked against oracles on the raw rows that wrote the logs (scikit-learn's
AUC, statsmodels' McNemar test, scipy's KS and Wasserstein distances, hand counts), never against Signoff's
own output. Tampering is done on the dicts taken out of the real exported PDF, as in test_report_numbers.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pikepdf
import pytest
from numbers_world import build_numbers_world
from scipy import stats
from sklearn.metrics import roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar

from signoff.analysis.compare import ComparisonCounts, comparison_from_counts
from signoff.analysis.drift import DriftCounts, count_drift, drift_from_counts
from signoff.analysis.profiles import ValidationCounts, validation_from_counts
from signoff.services.report_numbers import NUMBERS_CHECK, PrintedTables, recompute
from signoff.services.report_offline import verify_report_offline


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_numbers_world(tmp_path_factory.mktemp("numbers_world"))


@pytest.fixture(scope="module")
def carried(world):
    """(report.json, count-tables.json) as the exported PDF carries them."""
    with pikepdf.open(world.report) as pdf:
        content = json.loads(pdf.attachments["report.json"].get_file().read_bytes())
        tables = json.loads(pdf.attachments["count-tables.json"].get_file().read_bytes())
    return content, tables


def entry_of(tables: dict, kind: str) -> dict:
    (entry,) = [e for e in tables["runs"] if e["kind"] == kind]
    return entry


def edit_cell(
    content: dict, caption: str, column: str, row: str, text: str, heading: str | None = None
) -> str:
    """Replace one printed cell of report.json's tables; returns what it said."""
    under = None
    for section in content["sections"]:
        for block in section["blocks"]:
            if block.get("kind") == "heading":
                under = block["text"]
            if block.get("kind") == "table" and block["caption"].startswith(caption):
                if heading is not None and under != heading:
                    continue
                at = block["columns"].index(column)
                for cells in block["rows"]:
                    if cells[0] == row:
                        was, cells[at] = cells[at], text
                        return was
    raise AssertionError(f"no cell {caption} / {column} / {row}")


def test_offline_verify_recomputes_the_comparison_validation_and_drift(world):
    # in a fresh process, as an auditor runs it: no pandas, and of scipy only scipy.special
    script = (
        "import sys\n"
        "from signoff.services.report_offline import verify_report_offline\n"
        "checks = {c.name: c for c in verify_report_offline(sys.argv[1]).checks}\n"
        "print(sorted(m for m in ('pandas', 'scipy.stats', 'shap', 'sqlalchemy') if m in sys.modules))\n"
        f"print(checks[{NUMBERS_CHECK!r}].detail)\n"
    )
    app = str(Path(__file__).resolve().parents[2] / "app")
    done = subprocess.run(
        [sys.executable, "-c", script, str(world.report)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": app},
        check=True,
    )
    heavy, detail = done.stdout.split("\n", 1)
    assert heavy == "[]", done.stdout
    check = {c.name: c for c in verify_report_offline(world.report).checks}[NUMBERS_CHECK]
    assert check.ok is True, check.detail
    assert check.detail == detail.strip()
    found = re.match(r"(\d+) numbers checked \((\d+) of them as printed\)", check.detail)
    assert found, check.detail
    assert int(found.group(2)) > 60
    assert "compare run" not in check.detail  # recomputed, so not listed as left out
    assert "range, mean, sd and quantiles of validation run(s)" in check.detail  # carried, not derived
    assert "policy run" not in check.detail  # every verdict judged again on the recomputed numbers
    assert "KS p-values of drift run" in check.detail


def test_the_comparison_tables_give_sklearns_aucs_statsmodels_mcnemar_and_hand_counts(carried, world):
    _, tables = carried
    counts = ComparisonCounts.from_dict(entry_of(tables, "compare")["tables"])
    assert counts.params["n_resamples"] == 200 and counts.design == "paired"
    result = comparison_from_counts(counts)
    rows = world.shadow
    overall = {m.metric: m for m in result.overall.metrics}
    assert overall["selection_rate"].champion == pytest.approx(rows["p1"].mean(), abs=1e-15)
    assert overall["selection_rate"].challenger == pytest.approx(rows["p2"].mean(), abs=1e-15)
    assert overall["roc_auc"].champion == pytest.approx(roc_auc_score(rows["y"], rows["s1"]), abs=1e-12)
    assert overall["roc_auc"].challenger == pytest.approx(roc_auc_score(rows["y"], rows["s2"]), abs=1e-12)
    right1, right2 = rows["p1"] == rows["y"], rows["p2"] == rows["y"]
    b, c = int((right1 & ~right2).sum()), int((~right1 & right2).sum())
    exact = b + c < 25
    oracle = mcnemar([[0, b], [c, 0]], exact=exact, correction=True)
    assert overall["accuracy"].p_value == pytest.approx(oracle.pvalue, rel=1e-9)
    (sex,) = result.segments
    female = next(g for g in sex.groups if g.group == "Female")
    women = rows[rows["sex"] == "Female"]
    assert female.changes.newly_declined == int(((women["p1"] == 1) & (women["p2"] == 0)).sum())
    assert female.changes.newly_approved == int(((women["p1"] == 0) & (women["p2"] == 1)).sum())
    assert female.metric("roc_auc").challenger == pytest.approx(
        roc_auc_score(women["y"], women["s2"]), abs=1e-12
    )


def test_a_changed_comparison_count_is_named(carried):
    content, tables = carried
    assert recompute(content, tables).differences == []
    changed = copy.deepcopy(tables)
    entry = entry_of(changed, "compare")
    entry["tables"]["confusion"]["counts"][0] += 3
    differences = recompute(content, changed).differences
    assert any(d.startswith(f"compare run {entry['run_id']} / ") for d in differences), differences
    # the printed tables are named too, with the printed text and what the counts give
    assert any(d.startswith("compare of log ") and "the counts give" in d for d in differences), differences
    assert any("/ metrics / accuracy / " in d for d in differences), differences


def test_a_changed_printed_comparison_number_is_named(carried):
    content, tables = carried
    changed = copy.deepcopy(content)
    heading = "credit v1 (champion) vs v2 (challenger)"
    was = edit_cell(changed, "Overall", "Champion", "selection_rate", "0.999", heading)
    assert PrintedTables(content["sections"]).cell("Overall", "Champion", "selection_rate", heading) == was
    (shadow,) = [
        log["id"] for log in content["payload"]["prediction_logs"] if log["mapping"]["prediction"] == "p2"
    ]
    assert recompute(changed, tables).differences == [
        f"compare of log {shadow} / overall / selection_rate / champion: report says 0.999, the counts give {was}"
    ]


def reference_validation(content: dict, tables: dict) -> tuple[int, dict]:
    """(the reference log's id, its validation's count tables entry): the policy check validated every log."""
    logs = content["payload"]["prediction_logs"]
    (log,) = [log for log in logs if log["source_name"] == "reference.csv"]
    runs = {r["id"]: r for r in content["payload"]["analysis_runs"]}
    (entry,) = [
        e
        for e in tables["runs"]
        if e["kind"] == "validation" and runs[e["run_id"]]["inputs"]["log"] == log["evidence_sha256"]
    ]
    return log["id"], entry


def test_the_validation_tables_give_the_hand_counted_missing_and_category_shares(carried, world):
    content, tables = carried
    _, entry = reference_validation(content, tables)
    result = validation_from_counts(ValidationCounts.from_dict(entry["tables"]))
    rows = world.reference
    assert result.report.rows_read == result.report.rows_kept == len(rows) == 150
    income = result.profile.column("income")
    assert income.missing == int(rows["income"].isna().sum()) == 1
    assert income.missing_share == pytest.approx(1 / 150, abs=1e-15)
    assert income.mean == pytest.approx(rows["income"].mean(), rel=1e-12)
    sex = result.profile.column("sex")
    shares = {c.value: c.share for c in sex.top_categories}
    for value, count in rows["sex"].value_counts().items():
        assert shares[value] == pytest.approx(count / 150, abs=1e-15)


def test_a_changed_validation_count_and_a_changed_printed_share_are_named(carried):
    content, tables = carried
    changed = copy.deepcopy(tables)
    reference, entry = reference_validation(content, changed)
    (income,) = [c for c in entry["tables"]["columns"] if c["name"] == "income"]
    income["missing"] = 2
    differences = recompute(content, changed).differences
    assert any(
        d.startswith(f"validation run {entry['run_id']} / profile / columns / income / missing_share")
        for d in differences
    ), differences
    assert any(
        d.startswith(f"validation of log {reference} / income / missing: report says 1 (0.7%)")
        for d in differences
    ), differences
    # the policy's rule on the missing share is judged again on the changed counts too
    assert any(d.startswith("policy run ") and "complete-income / income / value" in d for d in differences)
    printed = copy.deepcopy(content)
    caption = f"Column profile of log {reference} ("
    assert edit_cell(printed, caption, "Missing", "income", "1 (0.9%)") == "1 (0.7%)"
    assert recompute(printed, tables).differences == [
        f"validation of log {reference} / income / missing: report says 1 (0.9%), the counts give 1, 0.7"
    ]


def _psi_by_hand(reference: np.ndarray, current: np.ndarray, edges: np.ndarray) -> float:
    """PSI written out from its formula: shares of all rows in right-closed bins at ``edges`` and in a
    missing bin, a zero share replaced by 1e-4."""

    def shares(values: np.ndarray) -> list[float]:
        bounds = zip([-np.inf, *edges], [*edges, np.inf], strict=True)
        return [((values > low) & (values <= high)).mean() for low, high in bounds] + [
            np.isnan(values).mean()
        ]

    total = 0.0
    for p, q in zip(shares(reference), shares(current), strict=True):
        p, q = p or 1e-4, q or 1e-4
        total += (q - p) * math.log(q / p)
    return total


def test_the_drift_tables_give_scipys_ks_wasserstein_and_chi_square_and_the_hand_psi(carried, world):
    _, tables = carried
    result = drift_from_counts(DriftCounts.from_dict(entry_of(tables, "drift")["tables"]))
    columns = {c.column: c for c in result.columns}
    reference, current = world.reference, world.current
    for name in ("income", "tenure"):
        ref, cur = reference[name].dropna().to_numpy(float), current[name].dropna().to_numpy(float)
        got = columns[name]
        ks = stats.ks_2samp(ref, cur)
        assert got.ks_statistic == pytest.approx(ks.statistic, abs=1e-15)
        assert got.ks_p_value == pytest.approx(ks.pvalue, rel=1e-12)
        assert got.wasserstein == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-12)
        assert got.wasserstein_normalised == pytest.approx(
            stats.wasserstein_distance(ref, cur) / np.std(ref), rel=1e-12
        )
        edges = [b.upper for b in got.bins if b.upper is not None]
        assert edges == pytest.approx(np.unique(np.quantile(ref, np.arange(1, 10) / 10)), abs=0)
        by_hand = _psi_by_hand(
            reference[name].to_numpy(float), current[name].to_numpy(float), np.array(edges)
        )
        assert got.psi == pytest.approx(by_hand, rel=1e-12)
    assert columns["income"].reference_missing == 1  # its own bin in the PSI, as the convention says
    prediction = columns["p"]  # a classifier's prediction: a category, tested by chi-square
    table = pd.crosstab(pd.concat([reference["p"], current["p"]]), [0] * 150 + [1] * 120).to_numpy()
    chi = stats.chi2_contingency(table, correction=False)
    assert prediction.chi2_statistic == pytest.approx(chi.statistic, rel=1e-12)
    assert (prediction.chi2_dof, prediction.chi2_p_value) == (chi.dof, pytest.approx(chi.pvalue, rel=1e-12))


def test_a_changed_drift_count_and_a_changed_printed_statistic_are_named(carried):
    content, tables = carried
    changed = copy.deepcopy(tables)
    entry = entry_of(changed, "drift")
    (tenure,) = [c for c in entry["tables"]["columns"] if c["name"] == "tenure"]
    tenure["current"][0] += 1
    tenure["current"][-1] -= 1  # the same rows, one moved from the lowest value to the highest
    differences = recompute(content, changed).differences
    assert any(
        d.startswith(f"drift run {entry['run_id']} / columns / tenure / ks_statistic") for d in differences
    ), differences
    assert any(
        d.startswith(f"drift run {entry['run_id']} / columns / tenure / wasserstein") for d in differences
    ), differences
    printed = copy.deepcopy(content)
    was = edit_cell(printed, "Drift per column", "PSI", "income", "9.999")
    assert recompute(printed, tables).differences == [
        f"drift / income / PSI: report says 9.999, the counts give {was}"
    ]


def test_a_column_with_too_many_values_is_carried_binned_and_checked_within_its_bounds():
    """Over 50,000 distinct values: the count tables carry a histogram and the exact PSI bins; KS and
    Wasserstein of the rows (scipy) lie within the stated bounds of the histogram's, PSI is exact."""
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 40_000)})
    current = pd.DataFrame({"x": rng.normal(0.05, 1.1, 30_000)})
    counts = count_drift(reference, current, columns=["x"])
    exact = drift_from_counts(counts).columns[0]
    carried = json.loads(json.dumps(counts.to_dict()))
    assert len(carried["columns"][0]["values"]) <= 10_000 and carried["columns"][0]["resolutions"][0] > 0
    binned = drift_from_counts(DriftCounts.from_dict(carried)).columns[0]
    ref, cur = reference["x"].to_numpy(), current["x"].to_numpy()
    assert exact.ks_statistic == pytest.approx(stats.ks_2samp(ref, cur).statistic, abs=1e-15)
    assert abs(binned.ks_statistic - exact.ks_statistic) <= binned.error_bounds.ks_statistic
    assert abs(binned.wasserstein - stats.wasserstein_distance(ref, cur)) <= binned.error_bounds.wasserstein
    assert binned.psi == exact.psi  # the PSI bins are carried exactly
    run = {
        "id": 7,
        "kind": "drift",
        "inputs": {},
        "result": exact.__class__ and drift_from_counts(counts).to_dict(),
    }
    content = {"payload": {"analysis_runs": [run], "prediction_logs": []}, "sections": []}
    tables = {"runs": [{"run_id": 7, "kind": "drift", "tables": carried}]}
    done = recompute(content, tables)
    assert done.differences == [] and "KS and Wasserstein of x checked within bounds" in done.bounded[0]
    run["result"]["columns"][0]["ks_statistic"] += 2 * binned.error_bounds.ks_statistic
    differences = recompute(content, tables).differences
    assert differences[0].startswith("drift run 7 / x / ks_statistic (within ")


def test_policy_verdicts_are_judged_again_on_the_recomputed_numbers(carried, world):
    content, tables = carried
    (policy,) = [r for r in content["payload"]["analysis_runs"] if r["kind"] == "policy"]
    verdicts = {(v["rule_id"], v["scope"]): v for v in policy["result"]["verdicts"]}
    income = verdicts[("stable-columns", "income")]
    ref, cur = world.reference["income"].to_numpy(float), world.current["income"].to_numpy(float)
    edges = np.array([b["upper"] for b in _drift_bins(content, "income") if b["upper"] is not None])
    assert income["judged"] == pytest.approx(_psi_by_hand(ref, cur, edges), rel=1e-12)
    assert income["status"] == "fail"  # PSI over 0.2 by hand
    assert recompute(content, tables).differences == []
    where = f"policy run {policy['id']} / stable-columns / income"
    changed = copy.deepcopy(content)
    (run,) = [r for r in changed["payload"]["analysis_runs"] if r["kind"] == "policy"]
    (verdict,) = [
        v for v in run["result"]["verdicts"] if (v["rule_id"], v["scope"]) == ("stable-columns", "income")
    ]
    verdict["status"] = "pass"
    assert recompute(changed, tables).differences == [
        f"{where} / status: report says pass, the counts give fail"
    ]
    printed = copy.deepcopy(content)
    assert (
        edit_cell(printed, "Verdict per rule and scope", "Judged", "stable-columns\npsi", "0.100") == "0.305"
    )
    assert recompute(printed, tables).differences == [
        f"{where} / judged: report says 0.100, the counts give 0.305"
    ]


def _drift_bins(content: dict, column: str) -> list[dict]:
    (run,) = [r for r in content["payload"]["analysis_runs"] if r["kind"] == "drift"]
    (found,) = [c for c in run["result"]["columns"] if c["column"] == column]
    return found["bins"]


def test_a_report_exported_before_these_kinds_were_counted_still_verifies(carried):
    """An earlier export listed comparison, validation and drift runs as not counted, without a reason:
    they are named as not recomputed, not as differences."""
    content, tables = carried
    earlier = copy.deepcopy(tables)
    kinds = ("compare", "validation", "drift")
    earlier["not_counted"] += [
        {"run_id": e["run_id"], "kind": e["kind"]} for e in earlier["runs"] if e["kind"] in kinds
    ]
    earlier["runs"] = [e for e in earlier["runs"] if e["kind"] not in kinds]
    done = recompute(content, earlier)
    assert done.differences == []
    assert sum("exported before Signoff counted this kind" in n for n in done.not_recomputed) == len(
        [e for e in tables["runs"] if e["kind"] in kinds]
    )


@pytest.mark.parametrize(
    ("kind", "edit"),
    [
        ("compare", lambda t: t["scores"]["rows"].__setitem__(0, 10**12)),
        ("compare", lambda t: t.update(design="crossover")),
        ("drift", lambda t: t["columns"][0].update(steps=[5, -3, 1])),
        ("drift", lambda t: t["columns"][0]["reference"].append(1)),
        ("validation", lambda t: t["columns"][0].update(kind="picture")),
    ],
)
def test_hostile_count_tables_of_the_new_kinds_are_refused_with_a_reason(carried, kind, edit):
    content, tables = carried
    changed = copy.deepcopy(tables)
    entry = next(e for e in changed["runs"] if e["kind"] == kind)
    edit(entry["tables"])
    differences = recompute(content, changed).differences
    assert f"{kind} run {entry['run_id']}: its count tables cannot be read (" in " ".join(differences), (
        differences
    )
