"""The Data page: the chosen model version's prediction logs, each as a table, with validation and profiles.

A log's rows are read from the evidence store in a job (a million rows take a moment) and shown through
the paging ``FrameTableModel``; the validation tab shows the import report and the latest recorded
validation run of the log, whose column profiles fill the profiles tab. Choosing a row tells the other
pages (``AppContext.pick_row``), e.g. for a local explanation.
"""

from __future__ import annotations

import pandas as pd
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.analysis_requests import ValidationRequest
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.prediction_log import ColumnMapping, PredictionLog, ValidationReport
from signoff.domain.profiles import ColumnKind, ColumnProfile
from signoff.domain.validation import ValidationAnalysis
from signoff.services import analyses
from signoff.services.analysis_runs import latest_analysis_of_log
from signoff.services.logs import list_logs, load_log_frame
from signoff.ui.context import AppContext
from signoff.ui.formatting import EMPTY, cell, column_type, when
from signoff.ui.frame_model import FrameTableModel
from signoff.ui.records_model import RECORD_ROLE, Record, RecordsModel
from signoff.ui.wizards.log_wizard import IssuesModel

LOG_HEADERS = ("Log", "Role", "Period", "Rows", "Evidence SHA-256")
PROFILE_HEADERS = (
    "Column",
    "Kind",
    "Type",
    "Missing",
    "Distinct",
    "Minimum",
    "Maximum",
    "Mean",
    "Std dev",
    "Values",
)
PROFILE_TIPS = (
    "",
    "numeric, categorical or datetime",
    "the stored column type (its technical name in the cell's tooltip)",
    "missing values among the kept rows",
    "distinct non-missing values",
    "",
    "",
    "over non-missing finite values",
    "sample standard deviation (n - 1)",
    "quartiles (type 7) of a number, or the most frequent categories with their share of all rows",
)


def log_record(log: PredictionLog) -> Record:
    return Record(
        texts=(f"#{log.id}", str(log.role), period_text(log), f"{log.rows:,}", log.evidence_sha256[:12]),
        values=(log.id, str(log.role), period_text(log), log.rows, log.evidence_sha256),
        item=log,
        tooltip=f"{log.source_name} · imported by {log.imported_by} · SHA-256 {log.evidence_sha256}",
    )


def period_text(log: PredictionLog) -> str:
    if log.period_start is None and log.period_end is None:
        return EMPTY
    start = log.period_start.date().isoformat() if log.period_start else "…"
    end = log.period_end.date().isoformat() if log.period_end else "…"
    return start if start == end else f"{start} – {end}"


def profile_record(profile: ColumnProfile) -> Record:
    if profile.kind == ColumnKind.NUMERIC:
        values = " · ".join(
            f"p{round(p * 100)} {cell(v, grouped=True)}"
            for p, v in profile.quantiles
            if p in (0.25, 0.5, 0.75)
        )
    else:
        values = " · ".join(f"{c.value} {c.share:.1%}" for c in profile.top_categories)
        if profile.other_categories:
            values += f" · {profile.other_categories:,} rows in other values"
    missing = f"{profile.missing:,} ({profile.missing_share:.1%})"
    kind = column_type(profile.dtype, categorical=profile.kind == ColumnKind.CATEGORICAL)
    return Record(
        texts=(
            profile.name,
            profile.kind.value,
            kind,
            missing,
            f"{profile.distinct:,}",
            cell(profile.minimum, grouped=True),
            cell(profile.maximum, grouped=True),
            cell(profile.mean, grouped=True),
            cell(profile.std, grouped=True),
            values,
        ),
        values=(
            profile.name,
            profile.kind.value,
            profile.dtype,
            profile.missing,
            profile.distinct,
            profile.minimum,
            profile.maximum,
            profile.mean,
            profile.std,
            values,
        ),
        item=profile,
        tooltips=("", "", f"stored as {profile.dtype}", "", "", "", "", "", "", ""),
    )


def report_text(report: ValidationReport, mapping: ColumnMapping | None = None) -> str:
    """The import report as the Data page shows it: counts, how the file was read, warnings, notes."""
    quarantined = report.rows_read - report.rows_kept
    share = quarantined / report.rows_read if report.rows_read else 0.0
    lines = [
        f"Import: {report.rows_read:,} rows read, {report.rows_kept:,} kept, "
        f"{quarantined:,} quarantined ({share:.1%}).",
        f"Task: {report.task}. Labels: {', '.join(report.label_domain) or '—'}. "
        f"Predictions: {', '.join(report.prediction_domain[:10]) or '—'}.",
    ]
    if mapping is not None:
        lines.extend(f"Read as: {line}." for line in mapping.interpretations())
    if report.rows_unlabelled:
        rows = "row has" if report.rows_unlabelled == 1 else "rows have"
        lines.append(f"{report.rows_unlabelled:,} {rows} no label yet (kept, unlabelled).")
    lines.extend(f"Warning: {warning.message}" for warning in report.warnings)
    lines.extend(report.notes)
    lines.append("Failed checks:" if report.issues else "No check failed at import.")
    return "\n".join(lines)


def run_text(run: AnalysisRun | None) -> str:
    if run is None:
        return "No validation recorded for this log yet: Run validation (Ctrl+Shift+V) profiles its columns."
    return f"Validation run #{run.id}, recorded {when(run.created_at)} by {run.created_by}."


class DataPage(QWidget):
    title = "Data"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.log: PredictionLog | None = None
        self.validation: ValidationAnalysis | None = None
        self.shown_run_id: int | None = None  # the validation run on screen
        self._load_job = None
        self._pending_load = False

        self.heading = QLabel()
        self.logs_model = RecordsModel(LOG_HEADERS, numeric=(0, 3))
        self.logs_view = _table(self.logs_model, "Prediction logs of the model version")
        self.logs_view.setMaximumHeight(150)
        self.logs_view.selectionModel().currentRowChanged.connect(self._log_row_changed)

        self.rows_model = FrameTableModel(parent=self)
        self.rows_view = _table(self.rows_model, "Rows of the chosen log")
        self.rows_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.rows_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.rows_view.selectionModel().currentRowChanged.connect(self._row_changed)
        self.rows_status = QLabel()
        self.goto_row = QSpinBox()
        self.goto_row.setAccessibleName("Row number to go to")
        self.goto_row.setMinimum(1)
        self.goto_button = QPushButton("&Go to row")
        self.goto_button.setShortcut(QKeySequence("Ctrl+G"))
        self.goto_button.setToolTip("Show the row with this number (Ctrl+G)")
        self.goto_button.setAccessibleName("Go to row")
        self.goto_button.clicked.connect(lambda: self.go_to_row(self.goto_row.value() - 1))
        rows_tab = QWidget()
        rows_layout = QVBoxLayout(rows_tab)
        bar = QHBoxLayout()
        bar.addWidget(self.rows_status, 1)
        bar.addWidget(self.goto_row)
        bar.addWidget(self.goto_button)
        rows_layout.addLayout(bar)
        rows_layout.addWidget(self.rows_view)

        self.run_label = QLabel()
        self.run_label.setWordWrap(True)
        self.report_label = QLabel()
        self.report_label.setTextFormat(Qt.TextFormat.PlainText)  # values from the file are shown in it
        self.report_label.setWordWrap(True)
        self.report_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.issues_model = IssuesModel(parent=self)
        self.issues_view = _table(self.issues_model, "Checks that failed at import")
        self.validate_button = QPushButton("Run &validation")
        self.validate_button.setShortcut(QKeySequence("Ctrl+Shift+V"))
        self.validate_button.setToolTip("Profile every column and record the validation (Ctrl+Shift+V)")
        self.validate_button.setAccessibleName("Run validation")
        self.validate_button.clicked.connect(self.run_validation)
        validation_tab = QWidget()
        validation_layout = QVBoxLayout(validation_tab)
        top = QHBoxLayout()
        top.addWidget(self.run_label, 1)
        top.addWidget(self.validate_button)
        validation_layout.addLayout(top)
        validation_layout.addWidget(self.report_label)
        validation_layout.addWidget(self.issues_view, 1)
        validation_layout.addStretch(0)

        self.profiles_model = RecordsModel(PROFILE_HEADERS, header_tips=PROFILE_TIPS, numeric=(4, 5, 6, 7, 8))
        self.profiles_view = _table(self.profiles_model, "Column profiles")
        self.profiles_label = QLabel()
        self.profiles_label.setWordWrap(True)
        profiles_tab = QWidget()
        profiles_layout = QVBoxLayout(profiles_tab)
        profiles_layout.addWidget(self.profiles_label)
        profiles_layout.addWidget(self.profiles_view, 1)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Log views")
        self.tabs.addTab(rows_tab, "&Rows")
        self.tabs.addTab(validation_tab, "Va&lidation")
        self.tabs.addTab(profiles_tab, "&Profiles")

        logs_box = QWidget()
        logs_layout = QVBoxLayout(logs_box)
        logs_layout.setContentsMargins(0, 0, 0, 0)
        logs_layout.addWidget(self.heading)
        logs_layout.addWidget(self.logs_view)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(logs_box)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([140, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        context.version_changed.connect(lambda _version: self.reload())
        context.evidence_changed.connect(self._evidence_changed)
        self.reload()

    # -- the logs of the version -------------------------------------------------------------------

    def reload(self) -> None:
        version = self.context.version
        keep = self.log.id if self.log is not None else None
        if version is None:
            self.heading.setText("Choose a model version on the Registry page to see its prediction logs.")
            logs: list[PredictionLog] = []
        else:
            # One indexed read of a few rows: no job needed.
            logs = list_logs(self.context.db, model=version.name, version=version.version)
            self.heading.setText(
                f"Prediction logs of {version.name} v{version.version}: {len(logs)}"
                + ("" if logs else " — import one with File › Import prediction log (Ctrl+I).")
            )
        self.logs_model.set_records([log_record(log) for log in logs])
        self.logs_view.resizeColumnsToContents()
        rows = [r for r in range(len(logs)) if logs[r].id == keep] or ([0] if logs else [])
        if rows:
            self.logs_view.selectionModel().setCurrentIndex(
                self.logs_model.index(rows[0], 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )
        if not logs:
            self._choose(None)

    def _log_row_changed(self, current, _previous) -> None:
        if not current.isValid():
            return  # a model reset on reload; reload() chooses again (or clears when no log is left)
        log = current.siblingAtColumn(0).data(RECORD_ROLE)
        if self.log is None or log.id != self.log.id:
            self._choose(log)

    def _choose(self, log: PredictionLog | None) -> None:
        self.log = log
        if self._load_job is not None:
            self._load_job.cancel()
            self._load_job = None
        self.rows_model.set_frame(_empty_frame())
        self.validate_button.setEnabled(log is not None)
        self.goto_button.setEnabled(False)
        self.show_validation()
        if log is None:
            self.rows_status.setText("No log chosen.")
            return
        self.rows_status.setText(f"Log #{log.id}: {log.rows:,} rows, loading…")
        self._pending_load = True
        if self.isVisible():
            self._load_rows()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._pending_load:
            self._load_rows()

    # -- the rows, loaded in a job -----------------------------------------------------------------

    def _load_rows(self) -> None:
        log = self.log
        self._pending_load = False
        if log is None:
            return
        db = self.context.db
        self._load_job = self.context.run_job(
            f"Loading log #{log.id}",
            lambda _control: load_log_frame(db, log.id),
            lambda frame: self._rows_loaded(log.id, frame),
            on_error=lambda message, _detail: self._rows_failed(log.id, message),
        )
        self._load_job.signals.cancelled.connect(lambda: self._rows_failed(log.id, "loading was cancelled"))

    def _rows_failed(self, log_id: int, message: str) -> None:
        if self.log is not None and self.log.id == log_id:
            self._load_job = None
            self._pending_load = False
            self.rows_status.setText(f"Log #{log_id} not shown: {message}")

    def _rows_loaded(self, log_id: int, frame) -> None:
        if self.log is None or self.log.id != log_id:
            return  # the user chose another log meanwhile
        self._load_job = None
        self.rows_model.set_frame(frame)
        self.goto_row.setMaximum(max(1, len(frame)))
        self.goto_button.setEnabled(len(frame) > 0)
        self.rows_status.setText(
            f"Log #{log_id}: {len(frame):,} rows × {len(frame.columns)} columns; rows load as you scroll."
        )
        self.rows_view.resizeColumnsToContents()

    def go_to_row(self, row: int) -> None:
        """Scroll to row ``row`` (0-based), paging it in first, and make it the current row."""
        if row < 0 or row >= len(self.rows_model.frame):
            return
        self.rows_model.load_up_to(row)
        index = self.rows_model.index(row, 0)
        self.rows_view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self.rows_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )

    def _row_changed(self, current, _previous) -> None:
        if current.isValid() and self.log is not None:
            self.context.pick_row(self.log.id, current.row())

    # -- validation and profiles -------------------------------------------------------------------

    def show_validation(self) -> None:
        log = self.log
        if log is None:
            self.run_label.setText("")
            self.report_label.setText("")
            self.issues_model = _replace_model(self.issues_view, IssuesModel(parent=self))
            self.profiles_model.set_records([])
            self.profiles_label.setText("")
            return
        run = latest_analysis_of_log(self.context.db, kind="validation", log=log)
        self._show_run(log, run, ValidationAnalysis.from_dict(run.result) if run is not None else None)

    def _show_run(
        self, log: PredictionLog, run: AnalysisRun | None, validation: ValidationAnalysis | None
    ) -> None:
        self.shown_run_id = run.id if run is not None else None
        self.validation = validation
        self.run_label.setText(run_text(run))
        self.report_label.setText(report_text(log.validation, log.mapping))
        self.issues_model = _replace_model(self.issues_view, IssuesModel(log.validation, parent=self))
        self.issues_view.setVisible(bool(log.validation.issues))
        if self.validation is None:
            self.profiles_model.set_records([])
            self.profiles_label.setText(
                "No profiles yet: they are part of the validation run (Validation tab, Ctrl+Shift+V)."
            )
        else:
            profile = self.validation.profile
            self.profiles_model.set_records([profile_record(c) for c in profile.columns])
            self.profiles_label.setText(
                f"{len(profile.columns)} columns over {profile.rows:,} kept rows. {run_text(run)}"
            )
            self.profiles_view.resizeColumnsToContents()

    def run_validation(self) -> None:
        log, version = self.log, self.context.version
        if log is None or version is None:
            return
        db, actor = self.context.db, self.context.actor
        self.validate_button.setEnabled(False)

        def done(outcome: AnalysisRun) -> None:
            self.validate_button.setEnabled(self.log is not None)
            # The audit event of a new run may have shown it already; otherwise the job's answer
            # (a stored run reused, or the event still on its way) is shown without reading it again.
            if self.log is not None and self.log.id == log.id and self.shown_run_id != outcome.id:
                self._show_run(self.log, outcome, outcome.result_as(ValidationAnalysis))

        self.context.run_job(
            f"Validating log #{log.id}",
            lambda _control: analyses.run(db, ValidationRequest(log=log), actor=actor),
            done,
            on_error=lambda _message, _detail: self.validate_button.setEnabled(self.log is not None),
        )

    def _evidence_changed(self, event) -> None:
        if event.action == "log.imported":
            self.reload()
        elif (
            event.action == "analysis.recorded"
            and event.payload.get("kind") == "validation"
            and event.entity != f"analysis_run:{self.shown_run_id}"  # not the run this page just showed
        ):
            self.show_validation()


def _table(model, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    return view


def _replace_model(view: QTableView, model):
    old, old_selection = view.model(), view.selectionModel()
    view.setModel(model)  # Qt leaves the old selection model to its owner
    if old is not None and old is not model:
        old.deleteLater()
    if old_selection is not None:
        old_selection.deleteLater()
    view.resizeColumnsToContents()
    return model


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame()
