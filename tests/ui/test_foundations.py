"""The UI's generic parts: paging table model, workers with progress and cancel, offline charts."""

import threading
import time

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QEvent, Qt, QThreadPool
from PySide6.QtGui import QColor, QPixmap

from signoff.domain.errors import Cancelled, InputError
from signoff.domain.explanation import ExplanationCancelled
from signoff.ui.chart_view import ChartView
from signoff.ui.dialogs import JobDialog
from signoff.ui.formatting import EMPTY, cell, fixed, full, number, p_value, timestamp, when, words
from signoff.ui.frame_model import PAGE_ROWS, FrameTableModel
from signoff.ui.job_status import JobStatus
from signoff.ui.records_model import RECORD_ROLE, TONES, VALUE_ROLE, Record, RecordsModel
from signoff.ui.workers import Job, start_job


def test_frame_model_passes_qtmodeltester(qtmodeltester):
    frame = pd.DataFrame({"a": [1, 2, None], "b": ["x", None, "Zoë"], "c": [0.5, np.nan, 2.0]})
    qtmodeltester.check(FrameTableModel(frame))


def test_records_model_shows_each_records_texts_tips_tone_colours_and_icons(qtmodeltester):
    icon = QPixmap(4, 4)
    model = RecordsModel(("Name", "Score"), header_tips=("Who", ""), numeric=(1,))
    qtmodeltester.check(model)
    model.set_records(
        [
            Record(("a", "0.5"), values=("a", 0.5), item="A", tone="bad", tooltips=("", "0.5000001")),
            Record(("b", "—"), item="B", muted=True, tooltip="too few rows"),
            Record(("c", "1"), colours=(None, "#c0392b"), icons=(icon, None)),
        ]
    )
    qtmodeltester.check(model)

    def at(row, column, role=Qt.ItemDataRole.DisplayRole):
        return model.index(row, column).data(role)

    tip, fore, back = (
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.BackgroundRole,
    )
    assert [at(r, 0) for r in range(3)] == ["a", "b", "c"] and model.column_texts("Score") == [
        "0.5",
        "—",
        "1",
    ]
    assert (at(0, 1, VALUE_ROLE), at(1, 1, VALUE_ROLE), at(0, 0, RECORD_ROLE)) == (0.5, "—", "A")
    assert (at(0, 0, tip), at(0, 1, tip), at(1, 0, tip), at(2, 1, tip)) == (
        "a",
        "0.5000001",
        "too few rows",
        "1",
    )
    assert at(0, 0, back).color() == TONES["bad"] and at(2, 0, back) is None
    assert at(1, 0, fore) == QColor(Qt.GlobalColor.gray) and at(2, 1, fore).color() == QColor("#c0392b")
    assert at(2, 0, fore) is None and at(2, 0, Qt.ItemDataRole.DecorationRole).cacheKey() == icon.cacheKey()
    assert at(0, 1, Qt.ItemDataRole.TextAlignmentRole) and at(0, 0, Qt.ItemDataRole.TextAlignmentRole) is None
    assert model.headerData(0, Qt.Orientation.Horizontal, tip) == "Who"
    assert model.headerData(1, Qt.Orientation.Horizontal, tip) is None


def test_numbers_are_written_one_way_everywhere():
    nan = float("nan")
    assert [number(0.123456), number(123456.0), number(0.5, 6), number(None), number(nan)] == [
        "0.1235",
        "1.235e+05",
        "0.5",
        "—",
        "—",
    ]
    assert [fixed(0.8125), fixed(1.0, 1), fixed(None)] == ["0.812", "1.0", EMPTY]
    assert [p_value(0.0004), p_value(0.001), p_value(0.04567), p_value(None)] == [
        "< 0.001",
        "0.001",
        "0.046",
        "—",
    ]
    assert full(0.1 + 0.2) == "0.30000000000000004" and full(None) == "—"
    assert [cell(12345.5), cell(12345.5, grouped=True), cell(7), cell("Zoë"), cell(nan)] == [
        "12345.5",
        "12,345.5",
        "7",
        "Zoë",
        "—",
    ]


def test_a_million_rows_open_a_page_at_a_time():
    frame = pd.DataFrame({"score": np.linspace(0, 1, 1_000_000), "group": ["A", "B"] * 500_000})
    model = FrameTableModel(frame)
    assert model.rowCount() == PAGE_ROWS
    assert model.canFetchMore(model.index(-1, -1))
    model.fetchMore(model.index(-1, -1))
    assert model.rowCount() == 2 * PAGE_ROWS
    assert model.data(model.index(PAGE_ROWS, 1)) == frame.iat[PAGE_ROWS, 1]
    assert model.headerData(0, __import__("PySide6.QtCore").QtCore.Qt.Orientation.Horizontal) == "score"


def test_times_are_shown_in_utc_to_the_minute():
    from datetime import UTC, datetime, timedelta, timezone

    berlin = timezone(timedelta(hours=1))
    assert when(datetime(2026, 12, 3, 13, 49, 10, 281155, tzinfo=berlin)) == "2026-12-03 12:49 UTC"
    assert when(datetime(2026, 12, 3, 12, 49, tzinfo=UTC)) == "2026-12-03 12:49 UTC"
    assert when(None) == EMPTY
    assert timestamp(datetime(2026, 12, 3, 13, 49, 10, 281155, tzinfo=berlin)) == "2026-12-03 12:49:10"
    assert words("approved_with_conditions") == "approved with conditions"


def test_worker_delivers_result_progress_and_user_errors(qtbot):
    progress, results, errors = [], [], []

    def job(control):
        control.progress(0.5, "half")
        return threading.get_ident()

    start_job(
        job,
        on_success=results.append,
        on_error=lambda m, d: errors.append(m),
        on_progress=lambda f, m: progress.append(f),
    )
    qtbot.waitUntil(lambda: bool(results or errors), timeout=5000)
    assert results and results[0] != threading.get_ident()
    assert progress == [0.5]

    def bad(control):
        raise InputError("no such column", file="log.csv", column="label")

    start_job(bad, on_success=results.append, on_error=lambda m, d: errors.append((m, d)))
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors[0] == ("file log.csv, column 'label': no such column", "")


def test_worker_can_be_cancelled(qtbot):
    started, outcome = threading.Event(), []

    def long_job(control):
        started.set()
        while True:
            control.progress(0.1)

    job = start_job(
        long_job,
        on_success=outcome.append,
        on_error=lambda m, d: outcome.append(m),
        on_cancelled=lambda: outcome.append("cancelled"),
    )
    assert started.wait(5)
    job.cancel()
    qtbot.waitUntil(lambda: bool(outcome), timeout=5000)
    assert outcome == ["cancelled"]


@pytest.mark.parametrize("error", [Cancelled, ExplanationCancelled])
def test_a_jobs_own_cancelled_error_after_cancel_is_a_cancellation_not_a_failure(qtbot, error):
    started, outcome = threading.Event(), []

    def analysis(control):
        started.set()
        while not control.cancelled():  # the work checks for itself, without a progress report
            time.sleep(0.005)
        raise error("the analysis was cancelled; nothing was stored")

    job = start_job(
        analysis,
        on_success=outcome.append,
        on_error=lambda m, d: outcome.append(("failed", m)),
        on_cancelled=lambda: outcome.append("cancelled"),
    )
    assert started.wait(5)
    job.cancel()
    qtbot.waitUntil(lambda: bool(outcome), timeout=5000)
    assert outcome == ["cancelled"]

    def stopped_elsewhere(control):
        raise error("stopped elsewhere")

    # Not cancelled here: a failure with its message, not swallowed.
    start_job(
        stopped_elsewhere,
        on_success=outcome.append,
        on_error=lambda m, d: outcome.append(("failed", m)),
        on_cancelled=lambda: outcome.append("cancelled"),
    )
    qtbot.waitUntil(lambda: len(outcome) == 2, timeout=5000)
    assert outcome[1] == ("failed", "stopped elsewhere")


def test_a_dialog_whose_work_committed_before_a_late_cancel_shows_it_done(qtbot, context):
    jobs, results = [], []
    context.job_started.connect(lambda job, title: jobs.append(job))
    committed, release = threading.Event(), threading.Event()

    class CommitDialog(JobDialog):
        def work(self):
            def run(control):
                committed.set()  # say, the signature is in the database now
                release.wait(5)  # ... and Cancel is pressed before the function has returned
                return "signature 7"

            return "Signing", run

    dialog = CommitDialog(context, "Sign", "&Sign")
    qtbot.addWidget(dialog)
    dialog.finish_layout()
    dialog.succeeded.connect(results.append)
    dialog.open()
    dialog.ok_button.click()
    assert committed.wait(5)
    jobs[0].cancel()
    release.set()
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results == ["signature 7"] and not dialog.isVisible()

    # A read keeps its old meaning: a Cancel after the work returned drops the answer.
    outcome = []
    read = start_job(
        lambda control: release.wait(5) and "rows",
        on_success=outcome.append,
        on_error=lambda m, d: outcome.append(m),
        on_cancelled=lambda: outcome.append("cancelled"),
    )
    read.cancel()
    qtbot.waitUntil(lambda: bool(outcome), timeout=5000)
    assert outcome == ["cancelled"]


def test_a_job_dialog_cancelled_from_the_status_bar_can_be_used_again(qtbot, context):
    jobs = []
    context.job_started.connect(lambda job, title: jobs.append((job, title)))

    class SlowDialog(JobDialog):
        def work(self):
            def run(control):
                while True:
                    control.progress(0.1)
                    time.sleep(0.01)

            return "Slow work", run

    dialog = SlowDialog(context, "Slow", "&Go")
    qtbot.addWidget(dialog)
    dialog.finish_layout()
    dialog.open()
    dialog.ok_button.click()
    [(job, title)] = jobs
    assert title == "Slow work" and not dialog.ok_button.isEnabled()
    dialog.reject()  # Escape while the job runs: ignored
    assert dialog.isVisible()
    with qtbot.waitSignal(job.signals.cancelled, timeout=5000):
        job.cancel()  # the status strip's Cancel
    assert dialog.ok_button.isEnabled() and dialog.message.text() == "Cancelled." and dialog.isVisible()
    dialog.reject()
    assert not dialog.isVisible()


def test_the_status_strip_hides_for_a_job_that_ended_before_it_was_tracked(qtbot):
    job = Job(lambda control: 42)
    job.run()  # here, at once: its finished signal is gone before anyone connects to it
    strip = JobStatus()
    qtbot.addWidget(strip)
    strip.show()
    strip.track(job, "Quick job")
    assert not strip.isVisible()

    slow = Job(lambda control: 43)
    strip.track(slow, "Slower job")  # not run yet: it shows until its finished signal arrives
    assert strip.isVisible() and strip.label.text() == "Slower job"
    with qtbot.waitSignal(slow.signals.finished, timeout=5000):
        QThreadPool.globalInstance().start(slow)
    qtbot.waitUntil(lambda: not strip.isVisible(), timeout=5000)


def test_a_job_that_ends_after_its_status_strip_was_deleted_touches_nothing(qtbot, qapp):
    # The fault CI once caught at a test's teardown: a window closed while a cancelled job was still
    # reading, and the job's late "finished" reached the deleted strip (a RuntimeError in Qt's loop).
    release = threading.Event()
    job = start_job(lambda control: release.wait(10), on_success=lambda _r: None, on_error=lambda m, d: None)
    strip = JobStatus()
    strip.track(job, "Outlives its strip")
    strip.deleteLater()
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    with qtbot.waitSignal(job.signals.finished, timeout=5000):
        release.set()
    qapp.processEvents()  # pytest-qt fails the test on any exception raised in here


def test_closing_the_window_cancels_and_waits_for_running_jobs(qtbot, context):
    from signoff.ui.main_window import MainWindow

    started, steps = threading.Event(), []

    def endless(control):
        started.set()
        while True:
            steps.append(1)
            control.progress(0.5)
            time.sleep(0.01)

    window = MainWindow(context)
    qtbot.addWidget(window)
    job = start_job(endless, on_success=lambda _r: None, on_error=lambda m, d: None)
    assert started.wait(5)
    window.close()
    assert job.done.is_set()  # close() returned after the job stopped, not before


def test_chart_renders_offline_with_local_plotly(qtbot, tmp_path):
    view = ChartView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    with qtbot.waitSignal(view.loadFinished, timeout=20000) as blocker:
        view.show_figure(
            {"data": [{"type": "bar", "x": ["A", "B"], "y": [0.4, 0.3]}], "layout": {"title": {"text": "t"}}}
        )
    assert blocker.args == [True]
    has_plot = []
    view.page().runJavaScript("document.querySelectorAll('.main-svg').length", 0, has_plot.append)
    qtbot.waitUntil(lambda: bool(has_plot), timeout=10000)
    assert has_plot[0] > 0, "plotly.js did not load from the local package"


def test_a_long_progress_stage_is_shown_whole_in_the_status_bar(qtbot, context):
    from signoff.ui.main_window import MainWindow

    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    release = threading.Event()
    stage = "reading rows 1,240,000 of 2,480,000 from adult-income-production-2026-11.parquet"

    def work(control):
        control.progress(0.5, stage)
        release.wait(10)

    job = start_job(work, on_success=lambda _r: None, on_error=lambda m, d: None)
    window.job_status.track(job, "Importing a prediction log")
    strip = window.job_status
    qtbot.waitUntil(lambda: stage in strip.label.text(), timeout=5000)
    assert strip.label.text() == f"Importing a prediction log: {stage}"
    assert strip.bar.text() == "50%"  # the bar carries only the percentage
    # Laid out whole: the label got at least the width its text needs.
    needed = strip.label.fontMetrics().horizontalAdvance(strip.label.text())
    qtbot.waitUntil(lambda: strip.label.width() >= needed, timeout=10000)
    with qtbot.waitSignal(job.signals.finished, timeout=5000):
        release.set()
