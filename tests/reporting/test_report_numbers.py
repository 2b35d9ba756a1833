"""Every number the exported report gives, derived again from the count tables it carries.

The report world's log is small enough to count by hand (report_world.GROUPS); the oracles are that
hand count, Fairlearn's MetricFrame and statsmodels' Wilson interval on the raw rows, never Signoff's
own output. Tampering is done on the dicts taken out of the real exported PDF: one count in the tables,
one printed number in report.json (a re-signed PDF is impossible without the workspace key).
"""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pandas as pd
import pikepdf
import pytest
from fairlearn.metrics import MetricFrame, demographic_parity_difference, selection_rate
from report_world import GROUPS
from sklearn.metrics import accuracy_score, roc_auc_score
from statsmodels.stats.proportion import proportion_confint

from signoff.analysis.fairness import FairnessCounts, fairness_from_counts
from signoff.analysis.performance import PerformanceCounts, performance_from_counts
from signoff.services.report_numbers import NUMBERS_CHECK, PrintedTables, recompute
from signoff.services.report_offline import verify_report_offline


@pytest.fixture(scope="module")
def carried(exported):
    """(report.json, count-tables.json) as the exported PDF carries them."""
    path, _, _ = exported
    with pikepdf.open(path) as pdf:
        content = json.loads(pdf.attachments["report.json"].get_file().read_bytes())
        tables = json.loads(pdf.attachments["count-tables.json"].get_file().read_bytes())
    return content, tables


@pytest.fixture(scope="module")
def raw_log() -> pd.DataFrame:
    """The report world's rows, rebuilt from its recipe (the hand-countable table)."""
    rows = []
    for group, (n, positives) in GROUPS.items():
        for i in range(n):
            predicted = int(i < positives)
            label = predicted if i % 5 else 1 - predicted  # every fifth row is wrong
            rows.append(
                {"sex": group or "Unknown", "p": predicted, "y": label, "score": 0.8 if predicted else 0.2}
            )
    return pd.DataFrame(rows)


def entry_of(tables: dict, kind: str = "fairness") -> dict:
    (entry,) = [e for e in tables["runs"] if e["kind"] == kind]
    return entry


def test_offline_verify_recomputes_the_numbers_and_finds_them_as_printed(exported):
    path, _, _ = exported
    checks = {c.name: c for c in verify_report_offline(path).checks}
    check = checks[NUMBERS_CHECK]
    assert check.ok is True, check.detail
    found = re.match(r"(\d+) numbers checked \((\d+) of them as printed\)", check.detail)
    assert found, check.detail
    checked, printed = int(found.group(1)), int(found.group(2))
    # fairness: 4 groups x (n, rate, Wilson bounds, impact ratio ...) and 6 comparisons x 3 numbers;
    # performance: every overall metric and the groups' table, beside the full results
    assert printed > 100 and checked > 500


def test_the_tables_give_the_hand_counted_rates_fairlearn_and_wilson(carried, raw_log):
    _, tables = carried
    entry = entry_of(tables)
    counts = FairnessCounts.from_dict(entry["tables"])
    assert counts.params["seed"] == 0 and counts.params["n_resamples"] == 200
    result = fairness_from_counts(counts)
    (sex,) = [s for s in result.segments if s.name == "sex"]
    by_group = {g.group: g for g in sex.groups}
    frame = MetricFrame(
        metrics=selection_rate, y_true=raw_log["p"], y_pred=raw_log["p"], sensitive_features=raw_log["sex"]
    )
    for group, (n, positives) in GROUPS.items():
        label = group or "Unknown"
        got = by_group[label]
        assert got.count == n
        assert got.metrics["selection_rate"] == pytest.approx(positives / n, abs=1e-15)
        assert got.metrics["selection_rate"] == pytest.approx(frame.by_group[label], abs=1e-15)
        low, high = proportion_confint(positives, n, alpha=0.05, method="wilson")
        assert got.wilson["selection_rate"] == pytest.approx((low, high), abs=1e-12)
    ratios = {r.group: r for r in sex.impact_ratios}
    assert ratios["Female"].impact_ratio == pytest.approx(0.300 / 0.500, abs=1e-15)
    assert ratios["Other"].excluded  # 1% of rows: under the 2% share
    # Fairlearn's demographic parity difference over the judged groups: Female and Male (Unknown and
    # Other have fewer rows than the minimum group size, 30)
    judged = raw_log[raw_log["sex"].isin(["Female", "Male"])]
    expected = demographic_parity_difference(judged["p"], judged["p"], sensitive_features=judged["sex"])
    (dp,) = [c for c in sex.comparisons if c.name == "demographic_parity_difference" and c.group is None]
    assert dp.value == pytest.approx(expected, abs=1e-15)


def test_the_performance_tables_give_scikit_learns_accuracy_and_auc(carried, raw_log):
    _, tables = carried
    result = performance_from_counts(PerformanceCounts.from_dict(entry_of(tables, "performance")["tables"]))
    assert result.n_rows == len(raw_log) == 100
    assert result.overall.metrics["accuracy"] == pytest.approx(
        accuracy_score(raw_log["y"], raw_log["p"]), abs=1e-15
    )
    assert result.overall.metrics["roc_auc"] == pytest.approx(
        roc_auc_score(raw_log["y"], raw_log["score"]), abs=1e-12
    )
    (sex,) = [s for s in result.segments if s.name == "sex"]
    female = raw_log[raw_log["sex"] == "Female"]
    (group,) = [g for g in sex.groups if g.group == "Female"]
    assert group.metrics["roc_auc"] == pytest.approx(roc_auc_score(female["y"], female["score"]), abs=1e-12)


def test_one_changed_count_is_named(carried):
    content, tables = carried
    assert recompute(content, tables).differences == []
    changed = copy.deepcopy(tables)
    confusion = entry_of(changed)["tables"]["confusion"]
    confusion["counts"][0] += 7
    differences = recompute(content, changed).differences
    assert differences
    assert any(d.startswith(f"fairness run {entry_of(tables)['run_id']} / n_rows") for d in differences)
    # the printed counts table is named too, with the printed text and what the counts give
    assert any("fairness of log " in d and "/ sex /" in d and "the counts give" in d for d in differences)


def test_one_changed_printed_number_is_named(carried):
    content, tables = carried
    changed = copy.deepcopy(content)
    log_id = content["payload"]["prediction_logs"][0]["id"]
    caption = f"Counts and selection rates by sex (log {log_id})"
    assert PrintedTables(changed["sections"]).cell(caption, "Selection rate", "Female") == "0.300"
    for section in changed["sections"]:
        for block in section["blocks"]:
            if block.get("kind") == "table" and block["caption"].startswith(caption):
                column = block["columns"].index("Selection rate")
                for row in block["rows"]:
                    if row[0] == "Female":
                        row[column] = "0.412"
    assert recompute(changed, tables).differences == [
        f"fairness of log {log_id} / sex / Female / selection rate: report says 0.412, the counts give 0.300"
    ]


def test_one_changed_full_precision_number_is_named(carried):
    content, tables = carried
    changed = copy.deepcopy(content)
    run_id = entry_of(tables)["run_id"]
    (run,) = [r for r in changed["payload"]["analysis_runs"] if r["id"] == run_id]
    (sex,) = [s for s in run["result"]["segments"] if s["name"] == "sex"]
    (male,) = [g for g in sex["groups"] if g["group"] == "Male"]
    male["metrics"]["tpr"] = float(np.nextafter(male["metrics"]["tpr"], 2.0)) + 1e-9
    (difference,) = recompute(changed, tables).differences
    assert difference.startswith(
        f"fairness run {run_id} / segments / sex / groups / Male / metrics / tpr: report says"
    )


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t["params"].update(n_resamples=10**12), "1,000,000,000,000 bootstrap resamples"),
        (lambda t: t.update(confusion="not a table"), "cannot be read"),
        (lambda t: t["attributes"][0].update(labels=[]), "cannot be read"),
    ],
)
def test_hostile_count_tables_are_refused_with_a_reason_not_a_traceback(carried, edit, reason):
    content, tables = carried
    changed = copy.deepcopy(tables)
    edit(entry_of(changed)["tables"])
    differences = recompute(content, changed).differences
    assert any(
        f"fairness run {entry_of(tables)['run_id']}: its count tables cannot be read" in d
        for d in differences
    )
    assert any(reason in d for d in differences)


def test_a_changed_printed_performance_number_is_named(carried):
    content, tables = carried
    changed = copy.deepcopy(content)
    (table,) = [
        block
        for section in changed["sections"]
        for block in section["blocks"]
        if block.get("kind") == "table" and block["caption"].startswith("Overall performance")
    ]
    (row,) = [row for row in table["rows"] if row[0] == "accuracy"]
    assert row[1].startswith("0.790 [")  # 79 of the 100 rows are right (every fifth is wrong)
    row[1] = "0.810" + row[1][len("0.790") :]
    (difference,) = recompute(changed, tables).differences
    log_id = content["payload"]["prediction_logs"][0]["id"]
    assert difference.startswith(f"performance of log {log_id} / overall / accuracy: report says 0.810 [")
    assert "the counts give 0.790, " in difference  # then the interval's bounds as printed
