"""The Data page on a real database: a version's logs, rows loaded in a job, validation and profiles."""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
from group_log_world import MISSING_INCOME, build, import_million, incomes, rows
from PySide6.QtCore import QModelIndex, Qt

from signoff.domain.prediction_log import ColumnMapping
from signoff.services.analysis_runs import list_analyses
from signoff.services.audit import list_audit_events
from signoff.services.logs import LogReadOptions, import_log
from signoff.services.models import add_model_version
from signoff.ui.frame_model import PAGE_ROWS, FrameTableModel
from signoff.ui.main_window import MainWindow
from signoff.ui.pages.data_page import DataPage
from signoff.ui.records_model import RECORD_ROLE, VALUE_ROLE


def _column(model, name: str) -> int:
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    return headers.index(name)


def _open(qtbot, context, tmp_path):
    version, log = build(context.db, tmp_path)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.show_page("Data")
    page: DataPage = window.pages["data"]
    context.select_version(version)
    qtbot.waitUntil(lambda: page.rows_model.rowCount() > 0, timeout=15000)
    return window, page, log


def test_the_logs_of_the_version_and_their_rows(qtbot, context, tmp_path, qtmodeltester):
    _window, page, log = _open(qtbot, context, tmp_path)
    qtmodeltester.check(page.logs_model)
    qtmodeltester.check(page.rows_model)
    assert page.logs_model.rowCount() == 1
    texts = [page.logs_model.index(0, c).data() for c in range(page.logs_model.columnCount())]
    assert texts == [f"#{log.id}", "validation", "2026-01-01 – 2026-01-28", "210", log.evidence_sha256[:12]]
    assert page.logs_model.index(0, 0).data(RECORD_ROLE) == log

    expected = rows()
    assert page.rows_model.rowCount() == len(expected) == 210  # fewer than a page: all at once
    for row in (0, 7, 209):
        for name in ("request_id", "sex", "race"):
            assert page.rows_model.index(row, _column(page.rows_model, name)).data() == expected[row][name]
    income = _column(page.rows_model, "income")
    assert page.rows_model.index(0, income).data() == "—"  # missing, not 0 or "nan"
    assert page.rows_model.index(5, income).data() == "1050"
    assert "210 rows" in page.rows_status.text()


def test_loading_happens_in_a_job_and_only_when_the_page_is_shown(qtbot, context, tmp_path):
    version, _log = build(context.db, tmp_path)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()  # the Registry page is showing, not the Data page
    page = window.pages["data"]
    started = []
    context.job_started.connect(lambda _job, title: started.append(title))
    context.select_version(version)
    assert page.logs_model.rowCount() == 1
    assert started == [] and page.rows_model.rowCount() == 0
    window.show_page("Data")
    assert started == [f"Loading log #{_log.id}"]
    assert page.rows_model.rowCount() == 0  # the UI thread did not read it; the job will
    qtbot.waitUntil(lambda: page.rows_model.rowCount() == 210, timeout=15000)


def test_picking_a_row_tells_the_other_pages(qtbot, context, tmp_path):
    _window, page, log = _open(qtbot, context, tmp_path)
    with qtbot.waitSignal(context.row_picked) as picked:
        page.rows_view.setCurrentIndex(page.rows_model.index(42, 1))
    assert picked.args == [log.id, 42]
    with qtbot.waitSignal(context.row_picked) as picked:
        page.go_to_row(209)
    assert picked.args == [log.id, 209]


def test_validation_runs_as_a_job_and_fills_the_profiles(
    qtbot, context, tmp_path, qtmodeltester, screenshots
):
    window, page, log = _open(qtbot, context, tmp_path)
    assert "No validation recorded" in page.run_label.text()
    assert page.profiles_model.rowCount() == 0
    assert "210 rows read, 210 kept, 0 quarantined" in page.report_label.text()
    qtmodeltester.check(page.issues_model)
    window.grab().save(str(screenshots / "page-data-rows.png"))

    page.tabs.setCurrentIndex(1)
    page.validate_button.click()
    qtbot.waitUntil(lambda: page.profiles_model.rowCount() > 0, timeout=20000)
    runs = list_analyses(context.db, kind="validation")
    assert len(runs) == 1 and runs[0].inputs == {"log": log.evidence_sha256}
    assert f"Validation run #{runs[0].id}" in page.run_label.text()
    assert [e.action for e in list_audit_events(context.db) if e.entity == f"analysis_run:{runs[0].id}"] == [
        "analysis.recorded"
    ]
    window.grab().save(str(screenshots / "page-data-validation.png"))

    qtmodeltester.check(page.profiles_model)
    names = [page.profiles_model.index(r, 0).data() for r in range(page.profiles_model.rowCount())]
    income = page.profiles_model.index(names.index("income"), 0)
    values = [income.siblingAtColumn(c).data(VALUE_ROLE) for c in range(page.profiles_model.columnCount())]
    known = incomes()
    assert values[3] == MISSING_INCOME  # missing
    assert values[4] == len(known)  # distinct
    assert (values[5], values[6]) == (min(known), max(known))
    assert np.isclose(values[7], statistics.fmean(known))
    assert np.isclose(values[8], statistics.stdev(known))
    assert income.siblingAtColumn(3).data() == "5 (2.4%)"
    types = {n: page.profiles_model.index(r, 2).data() for r, n in enumerate(names)}
    # Canonical types (docs/architecture.md): sensitive attributes as text, timestamps as UTC, the
    # income feature as a float (it has gaps), label and prediction as whole-number classes.
    assert (types["sex"], types["income"], types["event_time"]) == (
        "category",
        "decimal number",
        "date and time, UTC",
    )
    assert types["y_true"] == types["prediction"] == "whole number"
    assert income.siblingAtColumn(2).data(Qt.ItemDataRole.ToolTipRole).startswith("stored as float")
    sex = page.profiles_model.index(names.index("sex"), 9).data()
    assert sex.startswith("F 57.1% · M 38.1% · X 4.8%")  # 120, 80, 10 of 210 rows
    page.tabs.setCurrentIndex(2)
    window.grab().save(str(screenshots / "page-data-profiles.png"))

    # Another page (a fresh one) shows the recorded run without running anything.
    again = DataPage(context)
    qtbot.addWidget(again)
    assert again.profiles_model.rowCount() == page.profiles_model.rowCount()


def test_a_million_rows_page_in_without_a_view():
    frame = pd.DataFrame(
        {"score": np.arange(1_000_000) / 1_000_000, "group": np.where(np.arange(1_000_000) % 3, "A", "B")}
    )
    model = FrameTableModel(frame)
    root = QModelIndex()
    assert model.rowCount() == PAGE_ROWS
    assert model.canFetchMore(root)
    model.fetchMore(root)
    assert model.rowCount() == 2 * PAGE_ROWS
    model.load_up_to(999_999)
    assert model.rowCount() == 1_000_000
    assert not model.canFetchMore(root)
    assert model.data(model.index(999_999, 0)) == "0.999999"
    assert model.data(model.index(999_999, 1)) == "B"  # 999,999 is divisible by 3
    assert model.data(model.index(999_998, 1)) == "A"
    assert model.index(1_000_000, 0).data() is None


def test_no_version_chosen_says_what_to_do(qtbot, context):
    page = DataPage(context)
    qtbot.addWidget(page)
    assert "Registry page" in page.heading.text()
    assert page.logs_model.rowCount() == 0
    assert not page.validate_button.isEnabled()


def test_a_million_row_log_on_the_page(qtbot, context, tmp_path):
    version = add_model_version(context.db, name="credit", version="1", actor="tester")
    log = import_million(context.db, tmp_path)
    page = DataPage(context)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    context.select_version(version)
    assert page.rows_model.rowCount() == 0  # read by the job, not here
    qtbot.waitUntil(lambda: len(page.rows_model.frame) == 1_000_000, timeout=30000)
    assert page.rows_model.rowCount() == PAGE_ROWS
    with qtbot.waitSignal(context.row_picked) as picked:
        page.go_to_row(999_999)
    assert picked.args == [log.id, 999_999]
    assert page.rows_model.rowCount() == 1_000_000
    model = page.rows_model
    last = {
        name: model.index(999_999, _column(model, name)).data()
        for name in ("y", "prediction", "sex", "source_row")
    }
    assert last == {"y": "1", "prediction": "1", "sex": "M", "source_row": "1000000"}  # 999,999 = 3 x 333,333


def test_a_new_log_appears_and_the_chosen_one_stays(qtbot, context, tmp_path):
    _window, page, log = _open(qtbot, context, tmp_path)
    started = []
    context.job_started.connect(lambda _job, title: started.append(title))
    big = import_million(context.db, tmp_path)
    qtbot.waitUntil(lambda: page.logs_model.rowCount() == 2, timeout=5000)
    assert page.log.id == log.id and started == []  # nothing reloaded
    page.logs_view.setCurrentIndex(page.logs_model.index(1, 2))
    assert page.log.id == big.id and started == [f"Loading log #{big.id}"]
    qtbot.waitUntil(lambda: len(page.rows_model.frame) == 1_000_000, timeout=30000)


def test_cancelling_the_load_says_so(qtbot, context, tmp_path):
    version = add_model_version(context.db, name="credit", version="1", actor="tester")
    import_million(context.db, tmp_path)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    window.show_page("Data")
    page = window.pages["data"]
    context.select_version(version)
    with qtbot.waitSignal(page._load_job.signals.cancelled, timeout=30000):
        window.job_status.cancel_button.click()
    assert "loading was cancelled" in page.rows_status.text()
    assert page.rows_model.rowCount() == 0


def test_quarantined_rows_show_their_failed_checks(qtbot, context, tmp_path):
    version = add_model_version(context.db, name="credit", version="1", actor="tester")
    path = tmp_path / "bad.csv"
    lines = ["request_id,y_true,prediction,score,sex"] + [
        f"r{i},{i % 2},{(i // 2) % 2},{'1.5' if i in (3, 7) else '0.5'},{'F' if i % 3 else 'M'}"
        for i in range(40)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = ColumnMapping(label="y_true", prediction="prediction", scores=("score",), sensitive=("sex",))
    import_log(
        context.db,
        path,
        model="credit",
        version="1",
        mapping=mapping,
        options=LogReadOptions(quarantine_invalid=True),
        actor="tester",
    )
    page = DataPage(context)
    qtbot.addWidget(page)
    context.select_version(version)
    assert "40 rows read, 38 kept, 2 quarantined (5.0%)" in page.report_label.text()
    assert "Failed checks:" in page.report_label.text()
    assert not page.issues_view.isHidden()
    assert page.issues_model.rowCount() == 1
    row = [page.issues_model.index(0, c).data() for c in range(page.issues_model.columnCount())]
    assert row[:4] == ["score_range", "score", "2", "4, 8"]  # data rows are 1-based
