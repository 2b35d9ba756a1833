"""The Compare page on a real database: two versions' logs imported through the real importer, compared
in a job, the tables checked against pandas on the source rows and the comparison rules' verdict shown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from analysis_world import wait_for_chart

from signoff.domain.prediction_log import ColumnMapping
from signoff.services.logs import import_log
from signoff.services.models import add_model_version, get_model_version
from signoff.services.policy import check_policy
from signoff.ui.pages.compare_page import ComparePage

POLICY = """\
format: signoff-policy/1
name: challenger-gate
rules:
  - id: no-group-loses-approvals
    metric: compare.selection_rate_difference
    scope: "sex=*"
    operator: ">="
    threshold: -0.05
"""


@pytest.fixture
def rows(context, tmp_path) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 600
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "sex": rng.choice(["Female", "Male"], n)})
    frame["label"] = (rng.random(n) < 0.4).astype(int)
    frame["p1"] = (rng.random(n) < 0.45).astype(int)
    # The challenger approves fewer women: a quarter of the champion's approvals for women are withdrawn.
    withdrawn = (frame.sex == "Female") & (frame.p1 == 1) & (rng.random(n) < 0.25)
    frame["p2"] = np.where(withdrawn, 0, frame.p1)
    for version, column in (("1", "p1"), ("2", "p2")):
        add_model_version(context.db, name="credit", version=version, actor="tester")
        path = tmp_path / f"v{version}.csv"
        frame[["id", "label", column, "sex"]].rename(columns={column: "prediction"}).to_csv(path, index=False)
        mapping = ColumnMapping(label="label", prediction="prediction", sensitive=("sex",), id="id")
        import_log(context.db, path, model="credit", version=version, mapping=mapping, actor="tester")
    return frame


def test_compare_page_shows_differences_changes_and_rule_verdicts(
    qtbot, context, rows, tmp_path, qtmodeltester, screenshots
) -> None:
    page = ComparePage(context)
    qtbot.addWidget(page)
    page.resize(1300, 850)
    page.show()
    assert not page.run_button.isEnabled()
    context.select_version(get_model_version(context.db, "credit", "2"))
    assert page.champion.currentText() == "v1" and page.run_button.isEnabled()
    assert "No comparison recorded yet" in page.status.text()

    page.run_comparison()
    qtbot.waitUntil(lambda: page.result is not None, timeout=60000)
    for model in (page.overall_model, page.group_model, page.change_model):
        qtmodeltester.check(model)
    overall = dict(zip(page.overall_model.column_texts("Metric"), range(10), strict=False))
    row = overall["selection_rate"]
    expected = rows.p2.mean() - rows.p1.mean()
    assert page.overall_model.text(row, OVERALL_DIFFERENCE) == f"{expected:+.3f}"
    assert "paired comparison of 600 rows joined on id" in page.status.text()

    page.segment.setCurrentText("sex")
    page.metric_choice.setCurrentText("selection_rate")
    groups = page.group_model.column_texts("Group")
    assert groups == ["Female", "Male"]
    for i, sex in enumerate(groups):
        part = rows[rows.sex == sex]
        assert page.group_model.text(i, 4) == f"{part.p2.mean() - part.p1.mean():+.3f}"
        declined = int(((part.p1 == 1) & (part.p2 == 0)).sum())
        assert page.change_model.text(i, 3) == f"{declined:,}"
        assert page.change_model.text(i, 2) == "0"
    assert "Chi-square" in page.change_test.text()
    wait_for_chart(qtbot, page.chart)
    assert page.grab().save(str(screenshots / "compare-page.png"))

    policy = tmp_path / "gate.yaml"
    policy.write_text(POLICY)
    check_policy(context.db, name="credit", version="2", policy_file=policy)
    qtbot.waitUntil(lambda: page.rule_model.rowCount() == 2, timeout=10000)
    verdicts = dict(
        zip(page.rule_model.column_texts("Scope"), page.rule_model.column_texts("Verdict"), strict=True)
    )
    female = rows[rows.sex == "Female"]
    assert verdicts["sex=Female"] == ("fail" if female.p2.mean() - female.p1.mean() < -0.05 else "pass")
    assert verdicts["sex=Male"] == "pass"  # the challenger changed nothing for men


OVERALL_DIFFERENCE = 3


def test_one_log_holding_both_versions_decisions(qtbot, context, rows, tmp_path) -> None:
    path = tmp_path / "shadow.csv"
    rows[["id", "label", "p1", "p2", "sex"]].to_csv(path, index=False)
    mapping = ColumnMapping(label="label", prediction="p2", features=("p1",), sensitive=("sex",), id="id")
    shadow = import_log(context.db, path, model="credit", version="2", mapping=mapping, actor="tester").log
    page = ComparePage(context)
    qtbot.addWidget(page)
    context.select_version(get_model_version(context.db, "credit", "2"))
    assert page.challenger_log.select(shadow.id)
    page.champion_column.setCurrentIndex(page.champion_column.findData("p1"))
    assert not page.champion_log.isEnabled() and page.run_button.isEnabled()
    page.run_comparison()
    qtbot.waitUntil(lambda: page.result is not None, timeout=60000)
    assert page.result.params["champion"]["prediction"] == "p1"
    assert page.status.text().startswith(f"Analysis run #{page.run_id}: paired comparison of 600 rows.")
    row = page.overall_model.column_texts("Metric").index("selection_rate")
    assert page.overall_model.text(row, OVERALL_DIFFERENCE) == f"{rows.p2.mean() - rows.p1.mean():+.3f}"
