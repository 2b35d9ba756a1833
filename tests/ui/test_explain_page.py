"""The Explain page on a real database: SHAP of a real gradient boosting model on imported logs, checked
against shap's TreeExplainer run directly on the source rows."""

from __future__ import annotations

import numpy as np
import pytest
import shap
from analysis_world import FEATURES, build_world, wait_for_chart
from PySide6.QtCore import Qt

from signoff.services.audit import list_audit_events
from signoff.services.models import get_model_version
from signoff.ui.pages.analysis_charts import importance_figure, waterfall_figure
from signoff.ui.pages.explain_page import ExplainPage


@pytest.fixture
def world(context, tmp_path):
    return build_world(context.db, tmp_path)


def _page(qtbot, context) -> ExplainPage:
    page = ExplainPage(context)
    qtbot.addWidget(page)
    page.resize(1200, 780)
    page.show()
    return page


def test_explain_page_shows_global_group_and_local_shap_equal_to_shap_itself(
    qtbot, context, world, qtmodeltester, screenshots
):
    page = _page(qtbot, context)
    assert not page.explain_button.isEnabled()  # no version chosen yet
    context.select_version(get_model_version(context.db, "credit", "1"))
    assert page.log_choice.currentData() == world.production_log_id  # production preferred
    assert page.explain_button.isEnabled()
    classes = [page.target_class.itemText(i) for i in range(page.target_class.count())]
    assert classes == ["model's default", "0", "1"]  # the log's label domain

    # A row picked in the Data page's table (0-based position 7) is explained at once.
    context.pick_row(world.production_log_id, 7)
    qtbot.waitUntil(lambda: page.run is not None, timeout=60000)
    assert page.row.value() == 8

    direct = shap.TreeExplainer(world.model).shap_values(world.production[list(FEATURES)].to_numpy())
    expected_importance = {f: float(np.abs(direct[:, i]).mean()) for i, f in enumerate(FEATURES)}
    shown = dict(
        zip(
            page.global_model.column_texts("Feature"),
            page.global_model.column_texts("Mean |SHAP|"),
            strict=True,
        )
    )
    assert {f: float(v) for f, v in shown.items()} == pytest.approx(expected_importance, rel=1e-3)
    # most important first
    assert page.global_model.column_texts("Feature")[0] == max(
        expected_importance, key=expected_importance.get
    )

    # Local: row 8 of the log is id "2-7"; its SHAP values equal shap's for that row.
    local = {page.local_model.text(r, 0): float(page.local_model.text(r, 2)) for r in range(3)}
    assert local == pytest.approx(dict(zip(FEATURES, direct[7], strict=True)), rel=1e-3)
    assert "Row 2-7" in page.local_summary.text()

    # Per group: the mean |SHAP| of f1 among women equals the mean over the women's rows.
    assert page.attribute.currentText() == "sex"
    women = (world.production["sex"] == "Female").to_numpy()
    header = [
        page.segment_model.headerData(c, Qt.Orientation.Horizontal)
        for c in range(page.segment_model.columnCount())
    ]
    female_column = next(c for c, title in enumerate(header) if title.startswith("Female"))
    assert f"n={women.sum():,}" in header[female_column]
    f1_row = page.segment_model.column_texts("Feature").index("f1")
    assert float(page.segment_model.text(f1_row, female_column)) == pytest.approx(
        np.abs(direct[women, 1]).mean(), rel=1e-3
    )

    settings = page.settings.text()
    assert "TreeExplainer" in settings and "400 of 400 rows" in settings
    assert "✔ within" in settings
    for model in (page.global_model, page.segment_model, page.local_model):
        qtmodeltester.check(model)

    for tab, name in ((0, "1-global"), (1, "2-groups"), (2, "3-local")):
        page.tabs.setCurrentIndex(tab)
        chart = (page.global_chart, page.segment_chart, page.local_chart)[tab]
        wait_for_chart(qtbot, chart)
        assert page.grab().save(str(screenshots / f"explain-{name}.png"))

    # The same request again is the stored run, not a second computation.
    recorded = len(list_audit_events(context.db, action="analysis.recorded"))
    page.explain()
    qtbot.waitUntil(lambda: page.run is not None and page.run.reused, timeout=60000)
    assert len(list_audit_events(context.db, action="analysis.recorded")) == recorded

    # A page opened later shows the latest recorded explanation of the version without computing.
    later = _page(qtbot, context)
    assert later.run is not None and later.run.run.id == page.run.run.id
    assert later.global_model.column_texts("Mean |SHAP|") == page.global_model.column_texts("Mean |SHAP|")
    assert later.local_summary.text() == page.local_summary.text()
    assert "latest recorded explanation" in later.status.text()
    assert len(list_audit_events(context.db, action="analysis.recorded")) == recorded


def test_a_version_without_a_model_file_reports_the_error_in_a_dialog(qtbot, context, world, tmp_path):
    from analysis_world import MAPPING, make_log

    from signoff.domain.prediction_log import LogRole
    from signoff.services.logs import import_log
    from signoff.services.models import add_model_version

    add_model_version(context.db, name="bare", version="1", actor="tester")
    path = tmp_path / "bare.csv"
    make_log(5, 100)[list(MAPPING.mapped_columns())].to_csv(path, index=False)
    import_log(context.db, path, model="bare", version="1", mapping=MAPPING, role=LogRole.VALIDATION)
    page = _page(qtbot, context)
    context.select_version(get_model_version(context.db, "bare", "1"))
    events_before = len(list_audit_events(context.db))
    with qtbot.waitSignal(context.job_error, timeout=30000) as blocker:
        page.explain()
    title, message, detail = blocker.args
    assert "bare" in title and message and detail == ""  # a user error: no traceback
    assert page.run is None and "failed" in page.status.text()
    assert len(list_audit_events(context.db)) == events_before


def test_figures_follow_the_explanation(context, world):
    from signoff.services.explain import explain_model_version

    result = explain_model_version(
        context.db, name="credit", version="1", log_id=world.production_log_id, rows=["2-3"]
    )
    explanation = result.explanation
    figure = importance_figure(explanation.global_importance, explanation.settings.output_space)
    bars = figure["data"][0]
    assert bars["y"][-1] == explanation.global_importance[0].feature  # top bar is the most important
    local = explanation.local[0]
    waterfall = waterfall_figure(local, explanation.settings.output_space)["data"][0]
    assert waterfall["measure"][0] == "absolute" and waterfall["measure"][-1] == "total"
    assert waterfall["x"][-1] == pytest.approx(local.model_output, abs=1e-6)


def test_a_cancelled_explanation_shows_nothing(qtbot, context, world):
    page = _page(qtbot, context)
    context.select_version(get_model_version(context.db, "credit", "1"))
    page.explain()
    page.jobs.job.cancel()  # what the status bar's Cancel button does
    qtbot.waitUntil(lambda: "cancelled" in page.status.text(), timeout=60000)
    assert page.run is None and page.jobs.job is None
