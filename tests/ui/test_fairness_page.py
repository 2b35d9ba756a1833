"""The Fairness page on a real database: analyse in a job, a table equal to hand-computed numbers, charts."""

from __future__ import annotations

import math

import pytest
from group_log_world import COUNTS, SELECTED, build, import_million, import_multiclass
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from scipy import stats

from signoff.domain.fairness import GroupMetrics, ImpactRatio, SegmentResult
from signoff.services.analysis_runs import list_analyses
from signoff.ui.main_window import MainWindow
from signoff.ui.pages.fairness_charts import FOUR_FIFTHS, heatmap_figure, impact_figure, rates_figure
from signoff.ui.pages.fairness_page import FairnessPage, fairness_records
from signoff.ui.records_model import VALUE_ROLE

Z = stats.norm.ppf(0.975)


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, written out from its textbook formula."""
    p = k / n
    denominator = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denominator
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / denominator
    return centre - half, centre + half


def pooled_z_p(k1: int, n1: int, k0: int, n0: int) -> float:
    pooled = (k1 + k0) / (n1 + n0)
    z = (k1 / n1 - k0 / n0) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return 2 * stats.norm.sf(abs(z))


def _table(page) -> dict[str, list]:
    model = page.table_model
    return {
        model.index(r, 0).data(): [model.index(r, c).data(VALUE_ROLE) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    }


def _texts(page) -> dict[str, list[str]]:
    model = page.table_model
    return {
        model.index(r, 0).data(): [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    }


@pytest.fixture
def window(qtbot, context, tmp_path):
    version, log = build(context.db, tmp_path)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1280, 860)
    window.show()
    window.show_page("Fairness")
    context.select_version(version)
    window.log = log
    return window


def _analyse(qtbot, page) -> None:
    before = page.run.id if page.run is not None else None
    assert page.analyse_button.isEnabled(), "the previous analysis has not finished"
    page.analyse_button.click()
    # The recorded run reaches the page twice: the audit event shows it, then the job's result, which
    # re-enables Analyse. Done means both, or a second click falls on a disabled button.
    qtbot.waitUntil(
        lambda: page.run is not None and page.run.id != before and page.analyse_button.isEnabled(),
        timeout=30000,
    )


def test_the_table_equals_the_hand_computed_fairness_table(
    qtbot, window, context, qtmodeltester, screenshots
):
    page: FairnessPage = window.pages["fairness"]
    assert page.checked_attributes() == ["sex", "race"]
    assert "No fairness analysis recorded" in page.run_label.text()
    qtmodeltester.check(page.attributes_model)
    charts = [page.rates_chart, page.impact_chart, page.heatmap_chart]
    with qtbot.waitSignals([c.loadFinished for c in charts], timeout=60000):
        _analyse(qtbot, page)
    qtmodeltester.check(page.table_model)
    runs = list_analyses(context.db, kind="fairness")
    assert [r.id for r in runs] == [page.run.id]
    assert runs[0].inputs == {"log": window.log.evidence_sha256}

    assert page.segment().name == "sex"
    assert page.segment().reference == "F"  # the largest group
    table = _table(page)
    assert list(table) == ["F", "M", "X"]
    for group, (k, n) in {"F": (36, 120), "M": (40, 80), "X": (3, 10)}.items():
        _name, count, rate, low, high, _p, _sig, impact, _flags = table[group]
        assert count == n == COUNTS[group]
        assert rate == pytest.approx(k / n) == pytest.approx(SELECTED[group])
        assert (low, high) == pytest.approx(wilson(k, n))
        assert impact == pytest.approx((k / n) / 0.5)  # M's 0.5 is the highest included rate
    assert table["M"][5] == pytest.approx(pooled_z_p(40, 80, 36, 120))
    assert table["X"][5] == pytest.approx(
        stats.fisher_exact([[3, 7], [36, 84]]).pvalue
    )  # expected cell 3 < 5

    texts = _texts(page)
    assert texts["F"][2:5] == ["0.300", f"{wilson(36, 120)[0]:.3f}", f"{wilson(36, 120)[1]:.3f}"]
    assert texts["F"][6] == "reference"
    assert texts["M"][6] == "yes"  # p = 0.004
    assert texts["X"][6] == "not judged"
    assert texts["X"][8] == "insufficient data"
    assert texts["F"][7] == "0.600"
    assert page.table_model.index(2, 0).data(Qt.ItemDataRole.ForegroundRole) is not None  # X drawn grey

    # Intersections: the hand-made cells, X & B (no rows) left out.
    page.segment_combo.setCurrentIndex(page.segment_combo.findData("sex&race"))
    table = _table(page)
    assert {g: row[2] for g, row in table.items()} == pytest.approx(
        {"F & A": 0.2, "F & B": 0.4, "M & A": 0.6, "M & B": 0.4, "X & A": 0.3}
    )

    with qtbot.waitSignals([c.loadFinished for c in charts], timeout=60000):
        page.segment_combo.setCurrentIndex(page.segment_combo.findData("sex"))
    qtbot.wait(500)
    window.grab().save(str(screenshots / "page-fairness-analysed.png"))
    for chart in charts:
        drawn = []
        chart.page().runJavaScript("document.querySelectorAll('.main-svg').length", 0, drawn.append)
        qtbot.waitUntil(lambda d=drawn: bool(d), timeout=10000)
        assert drawn[0] > 0, "plotly did not draw offline"
    assert window.grab().save(str(screenshots / "page-fairness-analysed.png"))


def test_charts_carry_the_numbers(qtbot, window):
    page: FairnessPage = window.pages["fairness"]
    _analyse(qtbot, page)
    sex = page.result.segment("sex")
    rates = rates_figure(sex, "selection_rate", page.result.overall)
    bar = rates["data"][0]
    assert bar["x"] == ["F", "M", "X"]
    assert bar["y"] == pytest.approx([0.3, 0.5, 0.3])
    low, high = wilson(40, 80)
    assert bar["error_y"]["array"][1] == pytest.approx(high - 0.5)
    assert bar["error_y"]["arrayminus"][1] == pytest.approx(0.5 - low)
    assert rates["layout"]["shapes"][0]["y0"] == pytest.approx(79 / 210)  # overall selection rate

    impact = impact_figure(sex)
    assert impact["data"][0]["y"] == pytest.approx([0.6, 1.0, 0.6])
    assert impact["layout"]["shapes"][0]["y0"] == FOUR_FIFTHS

    heat = heatmap_figure(page.result.segment("sex&race"), "selection_rate")["data"][0]
    assert (heat["y"], heat["x"]) == (["F", "M", "X"], ["A", "B"])
    assert heat["z"][:2] == [pytest.approx([0.2, 0.4]), pytest.approx([0.6, 0.4])]
    assert heat["z"][2] == [None, None]  # X & A has too few rows to colour; X & B none at all
    assert heat["text"][2][0] == "0.300<br>n=10"  # blank (z None) says "too few", as the subtitle states
    assert heatmap_figure(None, "selection_rate")["data"] == []


def test_a_chosen_reference_group_and_metric(qtbot, window, context):
    page: FairnessPage = window.pages["fairness"]
    _analyse(qtbot, page)
    page.reference_combo.setCurrentIndex(page.reference_combo.findText("sex = M"))
    page.intersections.setChecked(False)
    _analyse(qtbot, page)
    assert page.run.parameters["reference"] == {"sex": "M"}
    assert [s.name for s in page.result.segments] == ["sex", "race"]
    assert page.segment().reference == "M"
    table = _table(page)
    assert table["F"][5] == pytest.approx(pooled_z_p(36, 120, 40, 80))
    assert _texts(page)["M"][6] == "reference"
    assert len(list_analyses(context.db, kind="fairness")) == 2

    page.metric_combo.setCurrentIndex(page.metric_combo.findData("accuracy"))
    assert page.table_model.headerData(2, Qt.Orientation.Horizontal) == "Accuracy"
    # y_true alternates with the row number; the hand count of correct predictions in F:
    from group_log_world import rows

    f_rows = [r for r in rows() if r["sex"] == "F"]
    correct = sum(r["y_true"] == r["prediction"] for r in f_rows)
    assert _table(page)["F"][2] == pytest.approx(correct / len(f_rows))

    # A fresh page shows the latest recorded run without analysing again.
    again = FairnessPage(context)
    qtbot.addWidget(again)
    assert again.run.id == page.run.id
    assert "Run #" in again.run_label.text()
    # ... with its controls set to that run's request, so Analyse asks for the same run again.
    assert again.reference() == {"sex": "M"}
    assert not again.intersections.isChecked()
    assert again.checked_attributes() == ["sex", "race"]


def test_a_failing_analysis_shows_an_error_not_a_traceback(qtbot, window, context, tmp_path):
    page: FairnessPage = window.pages["fairness"]
    multiclass = import_multiclass(context.db, tmp_path)
    qtbot.waitUntil(lambda: page.log_combo.count() == 2, timeout=5000)
    page.log_combo.setCurrentIndex(page.log_combo.findData(multiclass.id))
    assert page.checked_attributes() == ["sex"]
    with qtbot.waitSignal(context.job_error, timeout=30000) as failed:
        page.analyse_button.click()
    title, message, detail = failed.args
    assert title == f"Fairness of log #{multiclass.id}"
    assert "two outcome values" in message
    assert detail == ""  # a user error, not a bug: no traceback
    assert list_analyses(context.db, kind="fairness") == []
    qtbot.waitUntil(page.analyse_button.isEnabled, timeout=5000)
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "two outcome values" in boxes[-1].text()
    for box in boxes:
        box.close()

    page.set_attributes([])
    page.analyse_button.click()
    boxes = [b for b in page.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "Tick at least one" in boxes[-1].text()
    assert list_analyses(context.db, kind="fairness") == []


def test_no_version_chosen(qtbot, context, qtmodeltester):
    page = FairnessPage(context)
    qtbot.addWidget(page)
    assert "Registry page" in page.heading.text()
    assert not page.analyse_button.isEnabled()
    qtmodeltester.check(page.table_model)


def test_cancelling_an_analysis_records_nothing(qtbot, window, context, tmp_path):
    page: FairnessPage = window.pages["fairness"]
    big = import_million(context.db, tmp_path)
    qtbot.waitUntil(lambda: page.log_combo.findData(big.id) >= 0, timeout=5000)
    page.log_combo.setCurrentIndex(page.log_combo.findData(big.id))
    page.analyse_button.click()
    assert not page.analyse_button.isEnabled()
    with qtbot.waitSignal(page.job.signals.cancelled, timeout=30000):
        window.job_status.cancel_button.click()  # reading a million rows leaves time to press Cancel
    qtbot.waitUntil(page.analyse_button.isEnabled, timeout=5000)
    assert list_analyses(context.db, kind="fairness") == []
    assert page.run is None


def test_charts_are_drawn_only_when_the_page_is_shown(qtbot, context, tmp_path):
    version, _log = build(context.db, tmp_path)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()  # the Registry page is showing
    page: FairnessPage = window.pages["fairness"]
    loads = []
    page.rates_chart.loadStarted.connect(lambda: loads.append(1))
    context.select_version(version)
    assert page.log is not None and loads == []
    with qtbot.waitSignal(page.rates_chart.loadFinished, timeout=30000):
        window.show_page("Fairness")


def test_records_flag_small_unknown_and_empty_groups():
    segment = SegmentResult(
        name="sex",
        attributes=("sex",),
        reference="F",
        groups=(
            GroupMetrics("F", 100, {"selection_rate": 0.3}),
            GroupMetrics("Z", 1, {"selection_rate": 1.0}, insufficient=True),
            GroupMetrics("Unknown", 5, {"selection_rate": 0.2}, unknown=True),
            GroupMetrics("unused", 0, {"selection_rate": None}),
        ),
        comparisons=(),
        impact_ratios=(
            ImpactRatio("F", 100, 0.3, 1.0),
            ImpactRatio("Z", 1, 1.0, None, excluded=True, insufficient=True),
            ImpactRatio("Unknown", 5, 0.2, None, excluded=True),
        ),
    )
    records = {r.texts[0]: r.texts for r in fairness_records(segment, "selection_rate", 0.05)}
    assert list(records) == ["F", "Z", "Unknown"]  # a group without rows has nothing to show
    # F is the chosen reference and, as the only included group, the one the impact ratios divide by.
    assert records["F"][6:] == ("reference", "1.000", "reference, highest selection rate (impact ratio base)")
    assert records["Z"][6:] == ("—", "excluded", "insufficient data, excluded: under 5% of rows")
    assert records["Unknown"][6:] == ("—", "excluded", "excluded: unknown value")
    assert records["Z"][3:6] == ("—", "—", "—")  # no interval, no test: shown as such, not as 0


def test_at_1280_the_log_chooser_shows_what_tells_logs_apart_and_its_list_shows_all(qtbot, window):
    """The source file's name comes last in a log's label: a narrow box cuts only it, and the open
    list is wide enough for the whole label."""
    chooser = window.pages["fairness"].log_combo
    log = window.log
    label = chooser.currentText()
    essential = f"#{log.id} {log.role.value} · {log.rows:,} rows"
    assert label == f"{essential} · {log.source_name}"
    arrow = chooser.style().pixelMetric(chooser.style().PixelMetric.PM_ScrollBarExtent)
    assert chooser.fontMetrics().horizontalAdvance(essential) < chooser.width() - arrow
    assert chooser.view().minimumWidth() >= chooser.fontMetrics().horizontalAdvance(label)
    assert chooser.toolTip() == label
