"""The Drift page: a current log against a reference log, column by column, and the positive rate over
time (monitoring) of one log.

Both build their request (``DriftRequest``, ``MonitoringRequest``) and run it as a job through
``services.analyses.run``, which records it; choosing a model version shows its latest recorded runs. The
verdict of a column is written out ("✘ drifted"), the colour only repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.analysis_requests import DriftRequest, MonitoringRequest
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.drift import ColumnDrift, ColumnType, DriftResult, DriftVerdict
from signoff.domain.fairness import MonitoringResult
from signoff.domain.prediction_log import LogRole
from signoff.domain.registry import ModelVersion
from signoff.services import analyses
from signoff.services.analysis_runs import get_analysis, latest_analysis
from signoff.services.logs import list_logs
from signoff.ui.chart_view import ChartView
from signoff.ui.context import AppContext
from signoff.ui.formatting import full, number
from signoff.ui.pages.analysis_charts import bins_figure, drift_figure, monitoring_figure
from signoff.ui.pages.analysis_widgets import (
    LatestJob,
    LogChooser,
    page_shortcut,
    records_table,
)
from signoff.ui.records_model import Record, RecordsModel
from signoff.ui.workers import JobControl

NO_VERSION = "Choose a model version on the Registry page to compare its logs."
Result = TypeVar("Result", DriftResult, MonitoringResult)


@dataclass(frozen=True)
class ShownRun(Generic[Result]):
    """A recorded analysis run and its result, as this page shows it (computed now or read back)."""

    run: AnalysisRun
    result: Result


VERDICT_TEXT = {
    DriftVerdict.STABLE: ("✔ stable", "good"),
    DriftVerdict.MODERATE: ("▲ moderate", "warn"),
    DriftVerdict.DRIFTED: ("✘ drifted", "bad"),
}
DRIFT_COLUMNS = (
    "Column",
    "Type",
    "Test",
    "Statistic",
    "p-value",
    "PSI",
    "Jensen-Shannon",
    "Wasserstein (σ)",
    "Missing ref / cur",
    "Verdict",
)
WINDOW_COLUMNS = ("Window start", "Rows", "Positives", "Positive rate", "Lower", "Upper", "Band")
FREQUENCIES = ("day", "week", "month")


def drift_record(column: ColumnDrift) -> Record:
    """One row of the drift table: the column's test is Kolmogorov-Smirnov for numbers, chi-square for
    categories."""
    if column.type is ColumnType.NUMERIC:
        test, statistic, p_value = "Kolmogorov-Smirnov", column.ks_statistic, column.ks_p_value
    else:
        test, statistic, p_value = "chi-square", column.chi2_statistic, column.chi2_p_value
    verdict, tone = VERDICT_TEXT[column.verdict]
    notes = "; ".join(column.notes)
    return Record(
        (
            column.column,
            column.type.value,
            test,
            number(statistic),
            number(p_value),
            number(column.psi),
            number(column.jensen_shannon),
            number(column.wasserstein_normalised),
            f"{column.reference_missing:,} / {column.current_missing:,}",
            verdict,
        ),
        tone=tone,
        tooltips=(
            "",
            "",
            "",
            full(statistic),
            full(p_value),
            full(column.psi),
            full(column.jensen_shannon),
            full(column.wasserstein_normalised),
            "",
            notes,
        ),
        item=column,
    )


class DriftPage(QWidget):
    title = "Drift"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.drift: ShownRun[DriftResult] | None = None
        self.monitoring: ShownRun[MonitoringResult] | None = None
        self.drift_result: DriftResult | None = None
        self.monitoring_result: MonitoringResult | None = None

        # --- drift ---
        self.reference = LogChooser("Reference log")
        self.current = LogChooser("Current log")
        self.run_button = QPushButton("&Run drift")
        self.run_button.setAccessibleName("Run the drift analysis")
        self.run_button.setToolTip("Compare the current log with the reference log (Ctrl+R)")
        self.run_button.clicked.connect(self.run_drift)
        page_shortcut(self, "Ctrl+R", self.run_drift)
        self.drift_status = QLabel(NO_VERSION)
        self.drift_status.setWordWrap(True)
        self.drift_status.setAccessibleName("Drift status")
        self.drift_jobs = LatestJob(context, self.drift_status, "drift analysis")
        self.drift_model = RecordsModel(DRIFT_COLUMNS, numeric=(3, 4, 5, 6, 7), parent=self)
        self.drift_table = records_table(self.drift_model, "Drift per column")
        self.drift_table.selectionModel().currentRowChanged.connect(lambda current, _prev: self._show_bins())
        self.drift_chart = ChartView()
        self.bins_chart = ChartView()
        self.conventions = QLabel()
        self.conventions.setWordWrap(True)
        self.conventions.setAccessibleName("Drift thresholds and conventions")

        drift_tab = QWidget()
        bar = QHBoxLayout()
        for text, widget in (("Re&ference", self.reference), ("C&urrent", self.current)):
            label = QLabel(text)
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget)
        bar.addWidget(self.run_button)
        bar.addStretch(1)
        charts = QSplitter()
        charts.addWidget(self.drift_chart)
        charts.addWidget(self.bins_chart)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.drift_table)
        split.addWidget(charts)
        split.setSizes([230, 400])
        drift_layout = QVBoxLayout(drift_tab)
        drift_layout.addLayout(bar)
        drift_layout.addWidget(self.drift_status)
        drift_layout.addWidget(split, 1)
        drift_layout.addWidget(self.conventions)

        # --- monitoring ---
        self.monitored = LogChooser("Log to monitor")
        self.frequency = QComboBox()
        self.frequency.setAccessibleName("Monitoring window")
        self.frequency.addItems(FREQUENCIES)
        self.frequency.setCurrentText("week")
        self.monitor_button = QPushButton("Run &monitoring")
        self.monitor_button.setAccessibleName("Run the monitoring analysis")
        self.monitor_button.setToolTip("Positive rate per window against its control band (Ctrl+M)")
        self.monitor_button.clicked.connect(self.run_monitoring)
        page_shortcut(self, "Ctrl+M", self.run_monitoring)
        self.monitoring_status = QLabel("No monitoring run yet for this model version.")
        self.monitoring_status.setWordWrap(True)
        self.monitoring_status.setAccessibleName("Monitoring status")
        self.monitoring_jobs = LatestJob(context, self.monitoring_status, "monitoring analysis")
        self.window_model = RecordsModel(WINDOW_COLUMNS, numeric=(1, 2, 3, 4, 5), parent=self)
        self.window_table = records_table(self.window_model, "Monitoring windows")
        self.monitoring_chart = ChartView()

        monitoring_tab = QWidget()
        monitoring_bar = QHBoxLayout()
        for text, widget in (("&Log", self.monitored), ("&Window", self.frequency)):
            label = QLabel(text)
            label.setBuddy(widget)
            monitoring_bar.addWidget(label)
            monitoring_bar.addWidget(widget)
        monitoring_bar.addWidget(self.monitor_button)
        monitoring_bar.addStretch(1)
        monitoring_split = QSplitter()
        monitoring_split.addWidget(self.window_table)
        monitoring_split.addWidget(self.monitoring_chart)
        monitoring_split.setSizes([520, 600])
        monitoring_layout = QVBoxLayout(monitoring_tab)
        monitoring_layout.addLayout(monitoring_bar)
        monitoring_layout.addWidget(self.monitoring_status)
        monitoring_layout.addWidget(monitoring_split, 1)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Drift and monitoring")
        self.tabs.addTab(drift_tab, "&Drift by column")
        self.tabs.addTab(monitoring_tab, "M&onitoring over time")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

        context.version_changed.connect(lambda _version: self.reload())
        context.evidence_changed.connect(self._maybe_reload)
        self.reload()

    @property
    def version(self) -> ModelVersion | None:
        return self.context.version

    def reload(self) -> None:
        """Refill the log lists and show the version's latest recorded drift and monitoring runs."""
        version = self.version
        logs = (
            [] if version is None else list_logs(self.context.db, model=version.name, version=version.version)
        )
        self.reference.set_logs(logs, prefer=(LogRole.REFERENCE,))
        self.current.set_logs(logs, prefer=(LogRole.PRODUCTION, LogRole.VALIDATION))
        self.monitored.set_logs(logs, prefer=(LogRole.PRODUCTION, LogRole.VALIDATION))
        self.run_button.setEnabled(len(logs) >= 2)
        self.monitor_button.setEnabled(bool(logs))
        for widget in (self.reference, self.current, self.monitored, self.frequency):
            widget.setEnabled(bool(logs))
        shown_version = version.id if version is not None else None
        if self.drift is not None and self.drift.run.model_version_id != shown_version:
            self._show_drift(None)
        if self.monitoring is not None and self.monitoring.run.model_version_id != shown_version:
            self._show_monitoring(None)
        if version is None:
            self.drift_status.setText(NO_VERSION)
            return
        if len(logs) < 2:
            self.drift_status.setText(
                f"{version.name} v{version.version} has {len(logs)} prediction log(s); drift needs a reference "
                "and a current log (File ▸ Import prediction log…)."
            )
        latest = (
            latest_analysis(self.context.db, kind="drift", model_version_id=version.id)
            if self.drift is None
            else None
        )
        if latest is not None:
            self.reference.select_hash(latest.inputs.get("reference_log", ""))
            self.current.select_hash(latest.inputs.get("current_log", ""))
            self._show_drift(ShownRun(latest, DriftResult.from_dict(latest.result)))
        elif self.drift is None and len(logs) >= 2:
            self.drift_status.setText(
                "No drift analysis recorded yet: choose the two logs and press Run drift."
            )
        latest = (
            latest_analysis(self.context.db, kind="monitoring", model_version_id=version.id)
            if self.monitoring is None
            else None
        )
        if latest is not None:
            self.monitored.select_hash(latest.inputs.get("log", ""))
            self._show_monitoring(ShownRun(latest, MonitoringResult.from_dict(latest.result)))

    def _maybe_reload(self, event) -> None:
        if event.action.startswith(("log.", "model.")):
            self.reload()
        elif event.action == "analysis.recorded":
            self._recorded_elsewhere(event)

    def _recorded_elsewhere(self, event) -> None:
        """A drift or monitoring run of this version recorded by anyone (a policy check, the CLI, a
        colleague on the shared database) becomes the one shown, unless this page is running its own."""
        version, kind = self.version, event.payload.get("kind")
        if version is None or event.payload.get("model_version_id") != version.id:
            return
        run_id = int(event.entity.split(":", 1)[1])
        if kind == "drift" and not self.drift_jobs.running:
            run = get_analysis(self.context.db, run_id)
            self.reference.select_hash(run.inputs.get("reference_log", ""))
            self.current.select_hash(run.inputs.get("current_log", ""))
            self._show_drift(ShownRun(run, DriftResult.from_dict(run.result)))
        elif kind == "monitoring" and not self.monitoring_jobs.running:
            run = get_analysis(self.context.db, run_id)
            self.monitored.select_hash(run.inputs.get("log", ""))
            self._show_monitoring(ShownRun(run, MonitoringResult.from_dict(run.result)))

    # --- drift ------------------------------------------------------------------------------------

    def run_drift(self) -> None:
        version, reference, current = self.version, self.reference.log(), self.current.log()
        if version is None or reference is None or current is None:
            return
        db, actor = self.context.db, self.context.actor

        def work(control: JobControl) -> ShownRun[DriftResult]:
            # The request is built here, so that its refusal (the same log twice) is the job's error dialog.
            request = DriftRequest(reference=reference, current=current)
            run = analyses.run(
                db,
                request,
                actor=actor,
                progress=lambda fraction: control.progress(fraction, "drift"),
                cancelled=control.cancelled,
            )
            return ShownRun(run, run.result_as(DriftResult))

        self.drift_jobs.start(
            f"Drift of log #{current.id} against log #{reference.id}", work, self._show_drift
        )

    def _show_drift(self, drift: ShownRun[DriftResult] | None) -> None:
        self.drift = drift
        self.drift_result = None if drift is None else drift.result
        if drift is None:
            self.drift_model.set_records([])
            self.conventions.setText("")
            return
        result = drift.result
        self.drift_model.set_records([drift_record(c) for c in result.columns])
        self.drift_table.resizeColumnsToContents()
        drifted = result.drifted_columns()
        self.drift_status.setText(
            f"Analysis run #{drift.run.id} by {drift.run.created_by}: {result.current_rows:,} current rows against "
            f"{result.reference_rows:,} reference rows; "
            + (f"drifted: {', '.join(drifted)}." if drifted else "no column drifted.")
        )
        t = result.thresholds
        self.conventions.setText(
            f"Thresholds: PSI moderate {t.psi_moderate:g}, significant {t.psi_significant:g}; tests at alpha "
            f"{t.p_value:g} count only with an effect of Wasserstein ≥ {t.wasserstein:g} σ or Jensen-Shannon ≥ "
            f"{t.jensen_shannon:g}; {result.bins} quantile bins. Hover here for the conventions."
        )
        self.conventions.setToolTip(result.conventions)
        self.drift_chart.show_figure(drift_figure(result), "PSI per column")
        worst = next(
            (r for r, c in enumerate(result.columns) if c.verdict is DriftVerdict.DRIFTED),
            0 if result.columns else -1,
        )
        if worst >= 0:
            self.drift_table.selectRow(worst)
        self._show_bins()

    def _show_bins(self) -> None:
        row = self.drift_table.currentIndex().row()
        if self.drift_result is None or not 0 <= row < self.drift_model.rowCount():
            return
        column: ColumnDrift = self.drift_model.record(row).item
        if column.bins:
            self.bins_chart.show_figure(bins_figure(column), f"Distribution of {column.column}")

    # --- monitoring -------------------------------------------------------------------------------

    def run_monitoring(self) -> None:
        version, log = self.version, self.monitored.log()
        if version is None or log is None:
            return
        db, actor, frequency = self.context.db, self.context.actor, self.frequency.currentText()

        def work(control: JobControl) -> ShownRun[MonitoringResult]:
            request = MonitoringRequest(log=log, frequency=frequency)
            run = analyses.run(
                db, request, actor=actor, progress=lambda fraction: control.progress(fraction, "monitoring")
            )
            return ShownRun(run, run.result_as(MonitoringResult))

        self.monitoring_jobs.start(f"Monitoring log #{log.id} per {frequency}", work, self._show_monitoring)

    def _show_monitoring(self, monitoring: ShownRun[MonitoringResult] | None) -> None:
        self.monitoring = monitoring
        self.monitoring_result = None if monitoring is None else monitoring.result
        if monitoring is None:
            self.window_model.set_records([])
            self.monitoring_status.setText("No monitoring run yet for this model version.")
            return
        result = monitoring.result
        self.frequency.setCurrentText(result.frequency)
        self.window_model.set_records(
            [
                Record(
                    (
                        w.start,
                        f"{w.count:,}",
                        f"{w.positives:,}",
                        number(w.rate),
                        number(w.lower),
                        number(w.upper),
                        "✘ outside" if w.flagged else "✔ inside",
                    ),
                    tone="bad" if w.flagged else None,
                    tooltips=("", "", "", full(w.rate), full(w.lower), full(w.upper), ""),
                    item=w,
                )
                for w in result.windows
            ]
        )
        self.window_table.resizeColumnsToContents()
        flagged = [w.start for w in result.windows if w.flagged]
        overall = number(result.overall_rate)
        self.monitoring_status.setText(
            f"Analysis run #{monitoring.run.id}: positive rate per {result.frequency} against the overall rate "
            f"{overall} ± {result.sigmas:g} sigma (p-chart); "
            + (f"outside the band: {', '.join(flagged)}." if flagged else "every window inside the band.")
        )
        self.monitoring_chart.show_figure(monitoring_figure(result), "Positive rate over time")
