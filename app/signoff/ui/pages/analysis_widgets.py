"""Pieces the analysis pages (Explain, Drift, Policy) share: a table view over ``RecordsModel``, a
chooser of the model version's prediction logs and ``LatestJob`` (the newest
request wins).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QLabel, QTableView, QWidget

from signoff.domain.prediction_log import LogRole, PredictionLog
from signoff.ui.context import AppContext
from signoff.ui.records_model import RecordsModel
from signoff.ui.workers import Job, JobControl


def records_table(model: RecordsModel, name: str) -> QTableView:
    table = QTableView()
    table.setAccessibleName(name)
    table.setModel(model)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def log_label(log: PredictionLog) -> str:
    # The file name last: where a narrow panel cuts the label short, what tells logs apart stays.
    return f"#{log.id} {log.role.value} · {log.rows:,} rows · {log.source_name}"


class LogChooser(QComboBox):
    """The logs of the model version being looked at; the log id is each entry's data."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(name)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.logs: list[PredictionLog] = []
        # where a narrow panel cuts the chosen log's name short, hovering shows all of it
        self.currentTextChanged.connect(self.setToolTip)

    def set_logs(self, logs: Sequence[PredictionLog], *, prefer: Sequence[LogRole] = ()) -> None:
        """Fill with ``logs``; keep the chosen log if it is still there, else choose the newest log of
        the first role in ``prefer`` that has one."""
        self._fill(logs, prefer)
        # The first entry becomes current while signals are blocked, so no change announces it.
        self.setToolTip(self.currentText())

    def _fill(self, logs: Sequence[PredictionLog], prefer: Sequence[LogRole]) -> None:
        previous = self.currentData()
        self.logs = list(logs)
        self.blockSignals(True)
        self.clear()
        for log in self.logs:
            self.addItem(log_label(log), log.id)
        # The open list is as wide as its longest entry, even where the closed box is narrower.
        widest = max((self.fontMetrics().horizontalAdvance(log_label(log)) for log in self.logs), default=0)
        self.view().setMinimumWidth(widest + 2 * self.iconSize().width())
        self.blockSignals(False)
        if previous is not None and self.select(previous):
            return
        for role in prefer:
            chosen = [log for log in self.logs if log.role is role]
            if chosen:
                self.select(chosen[-1].id)
                return
        if self.logs:
            self.setCurrentIndex(len(self.logs) - 1)

    def select(self, log_id: int) -> bool:
        index = self.findData(log_id)
        if index >= 0:
            self.setCurrentIndex(index)
        return index >= 0

    def log(self) -> PredictionLog | None:
        log_id = self.currentData()
        return next((log for log in self.logs if log.id == log_id), None)

    def select_hash(self, sha256: str) -> bool:
        """Choose the log whose evidence has this SHA-256 (as an analysis run names its inputs)."""
        found = next((log for log in self.logs if log.evidence_sha256 == sha256), None)
        return found is not None and self.select(found.id)


def page_shortcut(page: QWidget, keys: str, action: Callable[[], None]) -> QShortcut:
    """A window-wide shortcut that acts only while ``page`` is the page shown: Qt ignores the shortcuts
    of hidden widgets, so every page can use the same keys for its main action."""
    shortcut = QShortcut(QKeySequence(keys), page)
    shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
    shortcut.activated.connect(action)
    return shortcut


class LatestJob:
    """One kind of job a page runs (an explanation, a drift run, a policy check), of which only the
    newest counts: starting another cancels the one still running and drops its answer, so a slow old
    request never overwrites a newer one. Progress and failure are written to ``status``."""

    def __init__(self, context: AppContext, status: QLabel, what: str) -> None:
        self.context = context
        self.status = status
        self.what = what
        self.job: Job | None = None

    @property
    def running(self) -> bool:
        return self.job is not None

    def start(
        self,
        title: str,
        work: Callable[[JobControl], Any],
        on_success: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
    ) -> Job:
        """Run ``work``; ``on_success(result)`` or ``on_error(message)`` follow on the UI thread, only
        for the newest job. (Callbacks are given here, not connected afterwards: a job that fails at
        once would otherwise signal before anyone listens.)"""
        if self.job is not None:
            self.job.cancel()
        self.status.setText(f"{title} …")
        job = self.context.run_job(
            title,
            work,
            lambda result: self._succeeded(job, result, on_success),
            on_error=lambda message, _detail: self._failed(job, message, on_error),
        )
        job.signals.cancelled.connect(lambda: self._cancelled(job))
        self.job = job
        return job

    def _succeeded(self, job: Job, result: Any, on_success: Callable[[Any], None]) -> None:
        if job is self.job:
            self.job = None
            on_success(result)

    def _failed(self, job: Job, message: str, on_error: Callable[[str], None] | None) -> None:
        if job is self.job:
            self.job = None
            self.status.setText(f"The {self.what} failed: {message}")
            if on_error is not None:
                on_error(message)

    def _cancelled(self, job: Job) -> None:
        if job is self.job:
            self.job = None
            self.status.setText(f"The {self.what} was cancelled.")
