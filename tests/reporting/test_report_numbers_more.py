"""The numbers of a report's comparison, validation and drift sections, derived again offline from the
count tables the PDF carries, checked against oracles on the raw rows that wrote the logs (scikit-learn's
AUC, statsmodels' McNemar test, scipy's KS and Wasserstein distances, hand counts), never against Signoff's
own output. Tampering is done on the dicts taken out of the real exported PDF, as in test_report_numbers.
"""

from __future__ import annotations

import copy
import json
import re

import pikepdf
import pytest
from numbers_world import build_numbers_world
from sklearn.metrics import roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar

from signoff.analysis.compare import ComparisonCounts, comparison_from_counts
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
    checks = {c.name: c for c in verify_report_offline(world.report).checks}
    check = checks[NUMBERS_CHECK]
    assert check.ok is True, check.detail
    found = re.match(r"(\d+) numbers checked \((\d+) of them as printed\)", check.detail)
    assert found, check.detail
    assert int(found.group(2)) > 60
    assert "compare run" not in check.detail  # recomputed, so not listed as left out


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


def test_the_validation_tables_give_the_hand_counted_missing_and_category_shares(carried, world):
    _, tables = carried
    result = validation_from_counts(ValidationCounts.from_dict(entry_of(tables, "validation")["tables"]))
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
    entry = entry_of(changed, "validation")
    (income,) = [c for c in entry["tables"]["columns"] if c["name"] == "income"]
    income["missing"] = 2
    differences = recompute(content, changed).differences
    assert any(
        d.startswith(f"validation run {entry['run_id']} / profile / columns / income / missing_share")
        for d in differences
    ), differences
    log_id = next(r for r in content["payload"]["analysis_runs"] if r["kind"] == "validation")["inputs"][
        "log"
    ]
    (reference,) = [
        log["id"] for log in content["payload"]["prediction_logs"] if log["evidence_sha256"] == log_id
    ]
    assert any(
        d.startswith(f"validation of log {reference} / income / missing: report says 1 (0.7%)")
        for d in differences
    ), differences
    printed = copy.deepcopy(content)
    caption = f"Column profile of log {reference} ("
    assert edit_cell(printed, caption, "Missing", "income", "1 (0.9%)") == "1 (0.7%)"
    assert recompute(printed, tables).differences == [
        f"validation of log {reference} / income / missing: report says 1 (0.9%), the counts give 1, 0.7"
    ]
