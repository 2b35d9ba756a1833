"""The Drift page on a real database: drift and monitoring of imported logs, checked against scipy and
pandas computed on the source rows."""

from __future__ import annotations

import pandas as pd
import pytest
from analysis_world import build_world, wait_for_chart
from scipy.stats import chi2_contingency, ks_2samp

from signoff.services.audit import list_audit_events
from signoff.services.models import get_model_version
from signoff.ui.pages.drift_page import DriftPage


@pytest.fixture
def world(context, tmp_path):
    return build_world(context.db, tmp_path)


def _page(qtbot, context) -> DriftPage:
    page = DriftPage(context)
    qtbot.addWidget(page)
    page.resize(1200, 780)
    page.show()
    return page


def _row(model, column: str) -> int:
    return model.column_texts(model.columns[0]).index(column)


def test_drift_table_equals_scipy_and_monitoring_equals_pandas(
    qtbot, context, world, qtmodeltester, screenshots
):
    page = _page(qtbot, context)
    assert not page.run_button.isEnabled()
    context.select_version(get_model_version(context.db, "credit", "1"))
    assert page.reference.currentData() == world.reference_log_id
    assert page.current.currentData() == world.production_log_id
    assert "No drift analysis recorded yet" in page.drift_status.text()

    page.run_drift()
    qtbot.waitUntil(lambda: page.drift is not None, timeout=30000)
    model = page.drift_model
    qtmodeltester.check(model)
    assert model.column_texts("Column") == ["f0", "f1", "f2", "prediction"]
    for column in ("f0", "f1", "f2"):
        ks = ks_2samp(world.reference[column], world.production[column])
        row = _row(model, column)
        assert model.text(row, model.columns.index("Test")) == "Kolmogorov-Smirnov"
        assert float(model.text(row, model.columns.index("Statistic"))) == pytest.approx(
            ks.statistic, rel=1e-3
        )
        assert float(model.text(row, model.columns.index("p-value"))) == pytest.approx(ks.pvalue, rel=1e-3)
    verdicts = dict(zip(model.column_texts("Column"), model.column_texts("Verdict"), strict=True))
    assert verdicts["f0"] == "✘ drifted"  # moved half a standard deviation
    assert verdicts["f2"] == "✔ stable"  # drawn from the same distribution
    table = pd.crosstab(
        pd.concat([world.reference["prediction"], world.production["prediction"]]),
        [0] * len(world.reference) + [1] * len(world.production),
    ).to_numpy()
    row = _row(model, "prediction")
    assert model.text(row, model.columns.index("Test")) == "chi-square"
    assert float(model.text(row, model.columns.index("Statistic"))) == pytest.approx(
        chi2_contingency(table, correction=False).statistic, rel=1e-3
    )
    assert page.drift_table.currentIndex().row() == _row(model, "f0")  # the drifted column is shown
    wait_for_chart(qtbot, page.drift_chart)
    wait_for_chart(qtbot, page.bins_chart)
    assert page.grab().save(str(screenshots / "drift-1-columns.png"))

    page.tabs.setCurrentIndex(1)
    page.frequency.setCurrentText("week")
    page.run_monitoring()
    qtbot.waitUntil(lambda: page.monitoring is not None, timeout=30000)
    qtmodeltester.check(page.window_model)
    stamps = pd.to_datetime(world.production["ts"], utc=True)
    weeks = stamps.dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time.dt.strftime("%Y-%m-%d")
    by_week = world.production.groupby(weeks)["prediction"].agg(["count", "mean"])
    windows = page.window_model
    assert windows.column_texts("Window start") == list(by_week.index)
    assert [int(t.replace(",", "")) for t in windows.column_texts("Rows")] == list(by_week["count"])
    assert [float(t) for t in windows.column_texts("Positive rate")] == pytest.approx(
        list(by_week["mean"]), rel=1e-3
    )
    overall = world.production["prediction"].mean()
    outside = [
        "✘ outside" if abs(rate - overall) > 3 * (overall * (1 - overall) / n) ** 0.5 else "✔ inside"
        for n, rate in zip(by_week["count"], by_week["mean"], strict=True)
    ]
    assert windows.column_texts("Band") == outside and "✘ outside" in outside
    wait_for_chart(qtbot, page.monitoring_chart)
    assert page.grab().save(str(screenshots / "drift-2-monitoring.png"))

    # A page opened later shows the latest recorded runs of the version without running anything.
    events = len(list_audit_events(context.db))
    later = _page(qtbot, context)
    assert later.drift is not None and later.drift.run.id == page.drift.run.id
    assert later.monitoring is not None and later.monitoring.run.id == page.monitoring.run.id
    assert len(list_audit_events(context.db)) == events

    # A drift run recorded elsewhere (here: the service, as the CLI or a policy check would) is shown.
    from signoff.services.drift import analyze_drift

    elsewhere = analyze_drift(
        context.db,
        name="credit",
        version="1",
        reference_log_id=world.reference_log_id,
        current_log_id=world.production_log_id,
        bins=5,
    )
    qtbot.waitUntil(lambda: later.drift.run.id == elsewhere.run.id, timeout=10000)
    assert later.drift_result.bins == 5


def test_the_same_log_twice_is_refused_in_a_dialog_and_nothing_is_stored(qtbot, context, world):
    page = _page(qtbot, context)
    context.select_version(get_model_version(context.db, "credit", "1"))
    page.current.select(world.reference_log_id)
    events = len(list_audit_events(context.db))
    with qtbot.waitSignal(context.job_error, timeout=30000) as blocker:
        page.run_drift()
    _title, message, detail = blocker.args
    assert "the same log" in message and detail == ""
    assert "failed" in page.drift_status.text() and page.drift is None
    assert len(list_audit_events(context.db)) == events
