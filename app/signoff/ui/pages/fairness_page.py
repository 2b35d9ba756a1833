"""The Fairness page: choose a log, attributes, intersections and reference; analyse; read table and charts.

"Analyse" runs its ``FairnessRequest`` through ``services.analyses.run`` in a job (progress and Cancel
in the status bar), which records the run, or returns the stored run of an identical request. The page always shows the
latest recorded run of the chosen log. The metric and segment choices only change what is shown; the
analysis computes every metric of every segment once.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.analysis_requests import (
    DEFAULT_MIN_GROUP_SHARE,
    DEFAULT_SIGNIFICANCE_LEVEL,
    FairnessRequest,
)
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.errors import SignoffError
from signoff.domain.fairness import FairnessResult, GroupMetrics, ImpactRatio, SegmentResult
from signoff.domain.prediction_log import PredictionLog
from signoff.services import analyses
from signoff.services.analysis_runs import latest_analysis_of_log
from signoff.services.logs import list_logs
from signoff.ui.chart_view import ChartView
from signoff.ui.context import AppContext
from signoff.ui.dialogs import show_error
from signoff.ui.formatting import EMPTY, fixed, p_value, when
from signoff.ui.pages.analysis_widgets import LogChooser
from signoff.ui.pages.fairness_charts import (
    heatmap_figure,
    impact_figure,
    metric_interval,
    metric_title,
    rates_figure,
    shown_groups,
)
from signoff.ui.records_model import Record, RecordsModel

METRIC_ORDER = (
    "selection_rate",
    "tpr",
    "fpr",
    "ppv",
    "npv",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "base_rate",
    "tnr",
    "fnr",
    "fdr",
    "for",
    "roc_auc",
    "brier",
    "ece",
)
REFERENCE_RULES = (("Largest group", "largest"), ("Highest selection rate", "most_favoured"))
ATTRIBUTE_ROLE = Qt.ItemDataRole.UserRole + 1
_GROUP_KEY = "\x1f"  # a chosen reference group is kept in its combo box as "segment<US>group"


def table_headers(metric: str) -> tuple[str, ...]:
    return (
        "Group",
        "n",
        metric_title(metric),
        "95% low",
        "95% high",
        "p (selection vs reference)",
        "Significant",
        "Impact ratio",
        "Flags",
    )


HEADER_TIPS = (
    "",
    "rows in the group",
    "the chosen metric",
    "Wilson score interval for a proportion, bootstrap percentile interval otherwise",
    "",
    "two-sided: two-proportion z-test, or Fisher's exact test when an expected cell is below 5",
    f"p below {DEFAULT_SIGNIFICANCE_LEVEL} (unless the run asked for another level)",
    "selection rate over the highest included group's (NYC Local Law 144, EEOC four-fifths rule)",
    "",
)


def fairness_records(
    segment: SegmentResult,
    metric: str,
    excluded_share: float = DEFAULT_MIN_GROUP_SHARE,
    significance_level: float = DEFAULT_SIGNIFICANCE_LEVEL,
) -> list[Record]:
    """One row per group with rows: the metric and its interval, significance, impact ratio and flags.

    ``excluded_share`` (below it a group takes no part in the impact ratio) and ``significance_level``
    are the run's request's (``FairnessRequest``).
    """
    ratios: dict[str, ImpactRatio] = {r.group: r for r in segment.impact_ratios}
    out = []
    for group in shown_groups(segment):
        value = group.metrics.get(metric)
        (low, high), _how = metric_interval(group, metric)
        p = group.significance.p_value if group.significance is not None else None
        ratio = ratios.get(group.group)
        impact = ratio.impact_ratio if ratio is not None else None
        out.append(
            Record(
                texts=(
                    group.group,
                    f"{group.count:,}",
                    fixed(value),
                    fixed(low),
                    fixed(high),
                    p_value(p),
                    _significant(group, segment.reference, significance_level),
                    "excluded" if ratio is not None and ratio.excluded else fixed(impact),
                    ", ".join(_flags(group, ratio, segment.reference, excluded_share)),
                ),
                values=(group.group, group.count, value, low, high, p, None, impact, None),
                item=group,
                muted=group.insufficient,
                tooltip=_test_text(group),
            )
        )
    return out


def _significant(group: GroupMetrics, reference: str | None, level: float) -> str:
    if group.group == reference:
        return "reference"
    if group.significance is None or group.significance.p_value is None:
        return EMPTY
    if group.insufficient:
        return "not judged"
    return "yes" if group.significance.p_value < level else "no"


def _flags(
    group: GroupMetrics, ratio: ImpactRatio | None, reference: str | None, excluded_share: float
) -> list[str]:
    flags = []
    if group.group == reference:
        flags.append("reference")
    if group.insufficient:
        flags.append("insufficient data")
    if group.unknown:
        flags.append("unknown value")
    if ratio is not None and ratio.excluded and not group.unknown:
        flags.append(f"under {excluded_share:.0%} of rows")
    return flags


def _test_text(group: GroupMetrics) -> str:
    sig = group.significance
    if sig is None or sig.statistic is None:
        return group.group
    name = "z" if sig.test == "two_proportion_z" else "odds ratio"
    return f"{group.group}: {sig.test} vs {sig.reference}, {name} = {sig.statistic:.3f}"


def run_text(run: AnalysisRun, result: FairnessResult, request: FairnessRequest) -> str:
    reference = request.reference
    if isinstance(reference, Mapping):
        reference = ", ".join(f"{k} = {v}" for k, v in reference.items())
    return (
        f"Run #{run.id}, recorded {when(run.created_at)} by {run.created_by}: "
        f"{result.n_rows:,} rows, attributes {', '.join(request.attributes)}, "
        f"intersections {'on' if request.intersections else 'off'}, reference {reference}, "
        f"positive label {result.positive_label}, {request.n_resamples} bootstrap resamples, "
        f"groups under {request.min_group_size} rows not judged."
    )


class FairnessPage(QWidget):
    title = "Fairness"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.log: PredictionLog | None = None
        self.run: AnalysisRun | None = None
        self.result: FairnessResult | None = None
        self.request: FairnessRequest | None = None
        self.job = None
        self._charts_stale = False

        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.log_combo = LogChooser("Prediction log to analyse")
        self.log_combo.currentIndexChanged.connect(self._log_changed)
        self.attributes_model = QStandardItemModel(self)
        self.attributes_view = QListView()
        self.attributes_view.setModel(self.attributes_model)
        self.attributes_view.setAccessibleName("Sensitive attributes to analyse")
        self.attributes_view.setMaximumHeight(110)
        self.intersections = QCheckBox("&Intersections (2- and 3-way)")
        self.intersections.setChecked(True)
        self.intersections.setAccessibleName("Analyse intersections of the attributes")
        self.reference_combo = QComboBox()
        self.reference_combo.setAccessibleName("Reference group")
        self.reference_combo.setToolTip(
            "The group others are compared with (significance, AIF360 differences); a chosen group "
            "applies to its attribute, the largest group serves the other segments"
        )
        self.positive_combo = QComboBox()
        self.positive_combo.setAccessibleName("Positive (favourable) outcome")
        self.positive_combo.setToolTip("The outcome counted as selected; automatic means 1 or True")
        self.metric_combo = QComboBox()
        self.metric_combo.setAccessibleName("Metric shown")
        self.metric_combo.currentIndexChanged.connect(lambda _i: self._redraw())
        self.analyse_button = QPushButton("&Analyse")
        self.analyse_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.analyse_button.setToolTip("Run the fairness analysis and record it (Ctrl+Enter)")
        self.analyse_button.setAccessibleName("Analyse fairness")
        self.analyse_button.clicked.connect(self.analyse)
        self.run_label = QLabel()
        self.run_label.setWordWrap(True)
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        controls = QWidget()
        form = QFormLayout(controls)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.heading)
        form.addRow("&Log", self.log_combo)
        form.addRow("Attributes", self.attributes_view)
        form.addRow("", self.intersections)
        form.addRow("&Reference", self.reference_combo)
        form.addRow("&Positive", self.positive_combo)
        form.addRow("&Metric", self.metric_combo)
        form.addRow("", self.analyse_button)
        form.addRow(self.run_label)
        controls.setMaximumWidth(330)
        controls_box = QWidget()
        controls_layout = QVBoxLayout(controls_box)
        controls_layout.setContentsMargins(0, 0, 0, 0)
        controls_layout.addWidget(controls)
        controls_layout.addStretch(1)
        controls_box.setMaximumWidth(330)

        self.segment_combo = QComboBox()
        self.segment_combo.setAccessibleName("Segment shown")
        self.segment_combo.currentIndexChanged.connect(lambda _i: self._redraw())
        self.table_model = RecordsModel(
            table_headers("selection_rate"), header_tips=HEADER_TIPS, numeric=(1, 2, 3, 4, 5, 7)
        )
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setAccessibleName("Fairness by group")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.rates_chart = ChartView()
        self.impact_chart = ChartView()
        self.heatmap_chart = ChartView()
        charts = QSplitter()
        for chart in (self.rates_chart, self.impact_chart, self.heatmap_chart):
            chart.setMinimumWidth(200)
            charts.addWidget(chart)

        segment_bar = QHBoxLayout()
        segment_label = QLabel("&Segment")
        segment_label.setBuddy(self.segment_combo)
        segment_bar.addWidget(segment_label)
        segment_bar.addWidget(self.segment_combo, 1)
        results = QWidget()
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addLayout(segment_bar)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.table)
        body.addWidget(charts)
        body.setSizes([170, 520])
        results_layout.addWidget(body, 1)

        splitter = QSplitter()
        splitter.addWidget(controls_box)
        splitter.addWidget(results)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        context.version_changed.connect(lambda _version: self.reload())
        context.evidence_changed.connect(self._evidence_changed)
        self.reload()

    # -- choices -----------------------------------------------------------------------------------

    def reload(self) -> None:
        version = self.context.version
        logs = (
            [] if version is None else list_logs(self.context.db, model=version.name, version=version.version)
        )
        if version is None:
            self.heading.setText("Choose a model version on the Registry page.")
        else:
            self.heading.setText(
                f"{version.name} v{version.version}"
                + ("" if logs else ": no prediction logs yet (File › Import prediction log, Ctrl+I).")
            )
        # Keeps the log shown; else opens on the newest one, where a reviewer's latest analysis usually is.
        self.log_combo.blockSignals(True)
        self.log_combo.set_logs(logs)
        self.log_combo.blockSignals(False)
        self._log_changed(self.log_combo.currentIndex())

    def _log_changed(self, _index: int) -> None:
        log = self.log_combo.log()
        same = log is not None and self.log is not None and log.id == self.log.id
        self.log = log
        if not same:
            self.attributes_model.clear()
            for name in log.mapping.sensitive if log is not None else ():
                item = QStandardItem(name)
                item.setCheckable(True)
                item.setCheckState(Qt.CheckState.Checked)
                item.setEditable(False)
                item.setData(name, ATTRIBUTE_ROLE)
                self.attributes_model.appendRow(item)
            self.positive_combo.clear()
            self.positive_combo.addItem("Automatic (1 or True)", None)
            for value in log.validation.label_domain if log is not None else ():
                self.positive_combo.addItem(value, value)
        self.analyse_button.setEnabled(log is not None)
        self.show_latest()

    def checked_attributes(self) -> list[str]:
        model = self.attributes_model
        return [
            model.item(row).data(ATTRIBUTE_ROLE)
            for row in range(model.rowCount())
            if model.item(row).checkState() == Qt.CheckState.Checked
        ]

    def set_attributes(self, names: list[str]) -> None:
        for row in range(self.attributes_model.rowCount()):
            item = self.attributes_model.item(row)
            checked = item.data(ATTRIBUTE_ROLE) in names
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def reference(self) -> str | dict[str, str]:
        """A rule ("largest", "most_favoured") or one segment's chosen reference group."""
        data = self.reference_combo.currentData() or "largest"
        if _GROUP_KEY in data:
            segment, group = data.split(_GROUP_KEY, 1)
            return {segment: group}
        return data

    def metric(self) -> str:
        return self.metric_combo.currentData() or "selection_rate"

    def segment(self) -> SegmentResult | None:
        if self.result is None or not self.result.segments:
            return None
        name = self.segment_combo.currentData()
        for segment in self.result.segments:
            if segment.name == name:
                return segment
        return self.result.segments[0]

    # -- running -----------------------------------------------------------------------------------

    def analyse(self) -> None:
        log, version = self.log, self.context.version
        if log is None or version is None:
            return
        sensitive = self.checked_attributes()
        if not sensitive:
            show_error(self, "Fairness", "Tick at least one sensitive attribute to analyse.")
            return
        db, actor = self.context.db, self.context.actor
        intersections = self.intersections.isChecked() and len(sensitive) > 1
        reference = self.reference()
        positive = self.positive_combo.currentData()
        self.analyse_button.setEnabled(False)

        request = FairnessRequest(
            log=log,
            sensitive=tuple(sensitive),
            intersections=intersections,
            reference=reference,
            positive_label=positive,
        )

        def work(control) -> AnalysisRun:
            # control.progress raises JobCancelled once Cancel was pressed: the analysis stops at its
            # next stage and nothing is recorded.
            return analyses.run(
                db, request, actor=actor, progress=lambda fraction: control.progress(fraction, "Analysing")
            )

        def done(outcome: AnalysisRun) -> None:
            self.analyse_button.setEnabled(self.log is not None)
            if self.log is not None and self.log.id == log.id:
                self.show_run(outcome, outcome.result_as(FairnessResult))

        self.job = self.context.run_job(
            f"Fairness of log #{log.id}",
            work,
            done,
            on_error=lambda _message, _detail: self.analyse_button.setEnabled(self.log is not None),
        )
        self.job.signals.cancelled.connect(lambda: self.analyse_button.setEnabled(self.log is not None))

    # -- showing -----------------------------------------------------------------------------------

    def show_latest(self) -> None:
        log = self.log
        run = latest_analysis_of_log(self.context.db, kind="fairness", log=log) if log is not None else None
        try:
            result = run.result_as(FairnessResult) if run is not None else None
        except (KeyError, TypeError, ValueError):
            # A run this version of Signoff cannot read (another engine's format): show none, never fail
            # the window; the run itself stays in the evidence, and the CLI prints its raw JSON.
            run, result = None, None
        self.show_run(run, result)

    def show_run(self, run: AnalysisRun | None, result: FairnessResult | None) -> None:
        if run is not None and self.run is not None and run.id == self.run.id:
            return  # already shown (the job's result and its audit event both arrive)
        self.run, self.result = run, result
        # The shown run's own request: its thresholds decide the table's flags, not the page's.
        self.request = None
        if run is not None and self.log is not None:
            try:
                request = FairnessRequest.from_parameters(self.log, run.parameters)
                request.parameters()  # resolves everything the page shows from it
                self.request = request
            except SignoffError:  # a run recorded with settings this version refuses: default flags
                self.request = None
        if run is None or result is None:
            if self.log is None:
                self.run_label.setText("")
            elif not self.log.mapping.sensitive:
                self.run_label.setText(
                    "This log maps no sensitive attributes: import it again with its sensitive columns "
                    "marked (File › Import prediction log)."
                )
            else:
                self.run_label.setText(
                    "No fairness analysis recorded for this log yet: choose attributes and press Analyse."
                )
        elif self.request is not None:
            self.run_label.setText(run_text(run, result, self.request))
        else:
            self.run_label.setText(f"Run #{run.id}, recorded {when(run.created_at)} by {run.created_by}.")
        self._fill_choices()
        if self.request is not None:
            self._reflect(self.request)
        self._redraw()

    def _reflect(self, request: FairnessRequest) -> None:
        """Set the controls to the shown run's request, so Analyse asks for it again unless changed."""
        self.set_attributes(request.attributes)
        self.intersections.setChecked(bool(request.intersections))
        reference = request.reference
        if isinstance(reference, Mapping) and len(reference) == 1:
            ((segment, group),) = reference.items()
            reference = f"{segment}{_GROUP_KEY}{group}"
        index = self.reference_combo.findData(reference)
        if index >= 0:
            self.reference_combo.setCurrentIndex(index)
        index = self.positive_combo.findData(request.positive_label)
        if index >= 0:
            self.positive_combo.setCurrentIndex(index)

    def _fill_choices(self) -> None:
        metric, segment_name = self.metric(), self.segment_combo.currentData()
        reference = self.reference_combo.currentData()
        for combo in (self.metric_combo, self.segment_combo, self.reference_combo):
            combo.blockSignals(True)
            combo.clear()
        available = set(self.result.overall.metrics) if self.result is not None else {"selection_rate"}
        for name in METRIC_ORDER:
            if name in available:
                self.metric_combo.addItem(metric_title(name), name)
        self.metric_combo.setCurrentIndex(max(0, self.metric_combo.findData(metric)))
        for label, rule in REFERENCE_RULES:
            self.reference_combo.addItem(label, rule)
        if self.result is not None:
            for segment in self.result.segments:
                self.segment_combo.addItem(_segment_label(segment), segment.name)
                if len(segment.attributes) == 1:
                    for group in segment.groups:
                        if group.count > 0 and not group.unknown:
                            self.reference_combo.addItem(
                                f"{segment.name} = {group.group}", f"{segment.name}{_GROUP_KEY}{group.group}"
                            )
        self.segment_combo.setCurrentIndex(max(0, self.segment_combo.findData(segment_name)))
        self.reference_combo.setCurrentIndex(max(0, self.reference_combo.findData(reference)))
        for combo in (self.metric_combo, self.segment_combo, self.reference_combo):
            combo.blockSignals(False)

    def _redraw(self) -> None:
        segment, metric = self.segment(), self.metric()
        headers = table_headers(metric)
        if segment is None or self.result is None:
            self.table_model.set_records([], headers=headers)
        else:
            request = self.request
            records = (
                fairness_records(segment, metric, request.excluded_share, request.significance_level)
                if request is not None
                else fairness_records(segment, metric)
            )
            self.table_model.set_records(records, headers=headers)
            self.table.resizeColumnsToContents()
        # Each chart loads plotly.js afresh: only draw what is on screen; showEvent draws the rest.
        self._charts_stale = True
        if self.isVisible():
            self._draw_charts()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._charts_stale:
            self._draw_charts()

    def _draw_charts(self) -> None:
        self._charts_stale = False
        segment, metric = self.segment(), self.metric()
        if segment is None or self.result is None:
            for chart in (self.rates_chart, self.impact_chart, self.heatmap_chart):
                chart.clear()
            return
        self.rates_chart.show_figure(
            rates_figure(segment, metric, self.result.overall), f"{metric_title(metric)} by {segment.name}"
        )
        self.impact_chart.show_figure(impact_figure(segment), f"Impact ratio by {segment.name}")
        pair = segment if len(segment.attributes) == 2 else _first_pair(self.result)
        self.heatmap_chart.show_figure(
            heatmap_figure(pair, metric),
            f"{metric_title(metric)} by {pair.name}" if pair is not None else "No intersection",
        )

    def _evidence_changed(self, event) -> None:
        if event.action == "log.imported":
            self.reload()
        elif (
            event.action == "analysis.recorded"
            and event.payload.get("kind") == "fairness"
            and self.log is not None
            and event.payload.get("inputs", {}).get("log") == self.log.evidence_sha256
        ):
            self.show_latest()


def _segment_label(segment: SegmentResult) -> str:
    reference = (
        f", reference {segment.reference}" if segment.reference else ", no reference (too little data)"
    )
    return f"{segment.name.replace('&', ' × ')}{reference}"


def _first_pair(result: FairnessResult) -> SegmentResult | None:
    return next((s for s in result.segments if len(s.attributes) == 2), None)
