"""The Explain page: SHAP for the selected model version on one of its logs, globally, per group of a
sensitive attribute, and for one row.

The row comes from the spin box or from a row picked in the Data page's table (``context.row_picked``).
One run of ``services.explain.explain_model_version`` gives all three views; an identical request is
answered from the stored run. The page shows how the numbers were made: explainer, output space,
background, sample size and the measured additivity error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.analysis_run import SHAP_KIND, AnalysisRun
from signoff.domain.explanation import Explanation, GroupImportance
from signoff.domain.prediction_log import LogRole
from signoff.domain.registry import ModelVersion
from signoff.services import Database
from signoff.services.analysis_runs import latest_analysis
from signoff.services.logs import get_log, list_logs, load_log_frame
from signoff.ui.chart_view import ChartView
from signoff.ui.context import AppContext
from signoff.ui.formatting import full, number, time_left
from signoff.ui.pages.analysis_charts import importance_figure, segment_figure, waterfall_figure
from signoff.ui.pages.analysis_widgets import (
    LatestJob,
    LogChooser,
    page_shortcut,
    records_table,
)
from signoff.ui.records_model import Record, RecordsModel
from signoff.ui.workers import JobControl

if TYPE_CHECKING:
    from signoff.services.explain import ExplanationRun


@dataclass(frozen=True)
class RecordedExplanation:
    """A stored explanation run read back for display, shaped like ``ExplanationRun``."""

    run: AnalysisRun
    explanation: Explanation
    reused: bool = True


NO_VERSION = "Choose a model version on the Registry page to explain it."


def row_id_at(db: Database, log_id: int, position: int) -> str:
    """The id the explanation uses for the row at 0-based ``position`` of the stored log: the value of
    the log's id column, or the 1-based row number when the log maps none."""
    log = get_log(db, log_id)
    if log.mapping.id is None:
        return str(position + 1)
    return str(load_log_frame(db, log_id)[log.mapping.id].tolist()[position])


class ExplainPage(QWidget):
    title = "Explain"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.run: ExplanationRun | RecordedExplanation | None = None
        self._explain_when_shown = False  # a row was picked while this page was hidden

        self.log_choice = LogChooser("Log to explain")
        self.log_choice.currentIndexChanged.connect(self._log_changed)
        self.sample = QSpinBox()
        self.sample.setAccessibleName("Sample size")
        self.sample.setRange(0, 10_000_000)
        self.sample.setSingleStep(500)
        self.sample.setSpecialValueText("automatic")
        self.sample.setToolTip(
            "Rows to explain for the global and per-group views; automatic keeps a run under ~30 s."
        )
        self.row = QSpinBox()
        self.row.setAccessibleName("Row to explain locally (position in the log)")
        self.row.setRange(1, 1)
        self.row.setToolTip("Position of the row in the log (1 = first), or pick a row on the Data page")
        self.target_class = QComboBox()
        self.target_class.setAccessibleName("Class to explain")
        self.target_class.setToolTip(
            "The class whose score is explained; a binary model's default is its second class, a "
            "multiclass model needs a choice"
        )
        self.explain_button = QPushButton("&Explain")
        self.explain_button.setAccessibleName("Run the explanation")
        self.explain_button.setToolTip("Run SHAP for the chosen log and row (Ctrl+R)")
        self.explain_button.clicked.connect(self.explain)
        page_shortcut(self, "Ctrl+R", self.explain)

        controls = QHBoxLayout()
        form = QFormLayout()
        form.addRow("&Log", self.log_choice)
        controls.addLayout(form)
        for text, widget in (
            ("&Sample size", self.sample),
            ("Ro&w", self.row),
            ("Cl&ass", self.target_class),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            controls.addWidget(label)
            controls.addWidget(widget)
        controls.addWidget(self.explain_button)
        controls.addStretch(1)

        self.status = QLabel(NO_VERSION)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Explanation status")
        self.jobs = LatestJob(context, self.status, "explanation")
        self.settings = QLabel()
        self.settings.setWordWrap(True)
        self.settings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings.setAccessibleName("How the explanation was computed")

        # Global importance
        self.global_model = RecordsModel(
            ("Feature", "Mean |SHAP|", "95% low", "95% high", "Direction"), numeric=(1, 2, 3), parent=self
        )
        self.global_table = records_table(self.global_model, "Global importance")
        self.global_chart = ChartView()
        # Per segment
        self.attribute = QComboBox()
        self.attribute.setAccessibleName("Sensitive attribute to compare")
        self.attribute.currentIndexChanged.connect(self._show_segments)
        self.segment_model = RecordsModel(("Feature",), parent=self)
        self.segment_table = records_table(self.segment_model, "Mean |SHAP| per group")
        self.segment_chart = ChartView()
        self.gaps = QLabel()
        self.gaps.setWordWrap(True)
        self.gaps.setAccessibleName("Differences between groups")
        # Local
        self.local_summary = QLabel("Run the explanation to see the chosen row.")
        self.local_summary.setWordWrap(True)
        self.local_summary.setAccessibleName("Local explanation summary")
        self.local_model = RecordsModel(("Feature", "Value", "SHAP"), numeric=(1, 2), parent=self)
        self.local_table = records_table(self.local_model, "Local explanation")
        self.local_chart = ChartView()

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Explanation views")
        self.tabs.addTab(self._split(self.global_table, self.global_chart), "&Global importance")
        segment_page = QWidget()
        segment_layout = QVBoxLayout(segment_page)
        attribute_row = QHBoxLayout()
        attribute_label = QLabel("Sensitive &attribute")
        attribute_label.setBuddy(self.attribute)
        attribute_row.addWidget(attribute_label)
        attribute_row.addWidget(self.attribute)
        attribute_row.addStretch(1)
        segment_layout.addLayout(attribute_row)
        segment_layout.addWidget(self._split(self.segment_table, self.segment_chart), 1)
        segment_layout.addWidget(self.gaps)
        self.tabs.addTab(segment_page, "&By group")
        local_page = QWidget()
        local_layout = QVBoxLayout(local_page)
        local_layout.addWidget(self.local_summary)
        local_layout.addWidget(self._split(self.local_table, self.local_chart), 1)
        self.tabs.addTab(local_page, "L&ocal explanation")

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.settings)
        layout.addWidget(self.tabs, 1)

        context.version_changed.connect(lambda _version: self.reload())
        context.evidence_changed.connect(self._maybe_reload)
        context.row_picked.connect(self.pick_row)
        self.reload()

    @staticmethod
    def _split(table: QWidget, chart: QWidget) -> QSplitter:
        splitter = QSplitter()
        splitter.addWidget(table)
        splitter.addWidget(chart)
        splitter.setSizes([420, 600])
        return splitter

    # --- choosing what to explain ----------------------------------------------------------------

    @property
    def version(self) -> ModelVersion | None:
        return self.context.version

    def reload(self) -> None:
        """Refill the log list for the selected version; results of another version are cleared."""
        version = self.version
        logs = (
            [] if version is None else list_logs(self.context.db, model=version.name, version=version.version)
        )
        self.log_choice.set_logs(logs, prefer=(LogRole.PRODUCTION, LogRole.VALIDATION, LogRole.REFERENCE))
        has_logs = bool(logs)
        for widget in (self.log_choice, self.sample, self.row, self.target_class, self.explain_button):
            widget.setEnabled(has_logs)
        if self.run is not None and (version is None or self.run.run.model_version_id != version.id):
            self._clear()
        if version is None:
            self.status.setText(NO_VERSION)
        elif not has_logs:
            self.status.setText(
                f"{version.name} v{version.version} has no prediction logs; import one (File ▸ Import "
                "prediction log…) with the model's input columns mapped as features."
            )
        elif self.run is None:
            latest = latest_analysis(self.context.db, kind=SHAP_KIND, model_version_id=version.id)
            if latest is not None:
                self.log_choice.select_hash(latest.inputs.get("log", ""))
                self.show_run(RecordedExplanation(latest, Explanation.from_dict(latest.result)))
                self.status.setText(
                    f"The latest recorded explanation (analysis run #{latest.id} by {latest.created_by}); "
                    "press Explain (Ctrl+R) to explain another log, row or sample."
                )
            else:
                self.status.setText(
                    f"Explain {version.name} v{version.version}: choose a log and press Explain (Ctrl+R)."
                )
        self._log_changed()

    def _maybe_reload(self, event) -> None:
        if event.action.startswith(("log.", "model.")):
            self.reload()

    def _log_changed(self) -> None:
        log = self.log_choice.log()
        self.row.setRange(1, max(1, log.rows if log is not None else 1))
        chosen = self.target_class.currentData()
        self.target_class.clear()
        multiclass = log is not None and log.validation.task == "multiclass"
        self.target_class.addItem("choose a class" if multiclass else "model's default", None)
        for label in () if log is None else log.validation.label_domain:
            self.target_class.addItem(label, label)
        if chosen is not None and self.target_class.findData(chosen) >= 0:
            self.target_class.setCurrentIndex(self.target_class.findData(chosen))

    def pick_row(self, log_id: int, position: int) -> None:
        """A row picked in a data table: explain it, if the log is one of this version's."""
        if not self.log_choice.select(log_id):
            self.status.setText(
                f"The picked row is in log #{log_id}, which is not a log of this model version."
            )
            return
        self.row.setValue(position + 1)
        # Picked in the Data page (every arrow key there picks a row): explain once this page is shown.
        self._explain_when_shown = not self.isVisible()
        if not self._explain_when_shown:
            self.explain()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._explain_when_shown:
            self._explain_when_shown = False
            self.explain()

    # --- running ----------------------------------------------------------------------------------

    def explain(self) -> None:
        version, log = self.version, self.log_choice.log()
        if version is None or log is None:
            return
        db, actor = self.context.db, self.context.actor
        sample = self.sample.value() or None
        position = self.row.value() - 1
        target_class = self.target_class.currentData()

        def work(control: JobControl) -> ExplanationRun:
            # Imported here, in the worker: shap and scikit-learn take seconds to import, and the window
            # must open without them.
            from signoff.services.explain import explain_model_version

            control.progress(0.0, "reading the log")
            row_id = row_id_at(db, log.id, position)
            started = time.monotonic()

            def shap_progress(fraction: float) -> None:
                left = time_left(time.monotonic() - started, fraction)
                control.progress(fraction, f"SHAP, {left}" if left else "SHAP")

            return explain_model_version(
                db,
                name=version.name,
                version=version.version,
                log_id=log.id,
                sample_size=sample,
                rows=[row_id],
                target_class=target_class,
                actor=actor,
                progress=shap_progress,
                cancelled=control.cancelled,
            )

        self.jobs.start(f"Explaining {version.name} v{version.version} on log #{log.id}", work, self.show_run)

    # --- showing ----------------------------------------------------------------------------------

    def _clear(self) -> None:
        self.run = None
        self.settings.setText("")
        for model in (self.global_model, self.segment_model, self.local_model):
            model.set_records([])
        self.attribute.clear()
        self.gaps.setText("")
        self.local_summary.setText("Run the explanation to see the chosen row.")

    def show_run(self, result: ExplanationRun | RecordedExplanation) -> None:
        self.run = result
        explanation = result.explanation
        reused = "the stored result of an identical earlier request" if result.reused else "computed now"
        self.status.setText(
            f"Analysis run #{result.run.id} ({reused}) by {result.run.created_by}; "
            f"log #{self.log_choice.currentData()}."
        )
        self.settings.setText(settings_text(explanation))
        self._show_global(explanation)
        attributes = list(dict.fromkeys(s.attribute for s in explanation.segments))
        self.attribute.blockSignals(True)
        self.attribute.clear()
        self.attribute.addItems(attributes)
        self.attribute.blockSignals(False)
        self._show_segments()
        self._show_local(explanation)

    def _show_global(self, explanation: Explanation) -> None:
        trend = {d.feature: d.trend for d in explanation.directions}
        self.global_model.set_records(
            [
                Record(
                    (
                        i.feature,
                        number(i.mean_abs_shap),
                        number(i.ci_low),
                        number(i.ci_high),
                        trend.get(i.feature, ""),
                    ),
                    tooltips=("", full(i.mean_abs_shap), full(i.ci_low), full(i.ci_high), ""),
                    item=i,
                )
                for i in explanation.global_importance
            ]
        )
        self.global_table.resizeColumnsToContents()
        output = explanation.settings.output_space
        self.global_chart.show_figure(
            importance_figure(explanation.global_importance, output), "Global importance chart"
        )

    def groups(self, attribute: str) -> list[GroupImportance]:
        if self.run is None:
            return []
        return [s for s in self.run.explanation.segments if s.attribute == attribute]

    def _show_segments(self) -> None:
        if self.run is None:
            return
        explanation = self.run.explanation
        attribute = self.attribute.currentText()
        groups = self.groups(attribute)
        features = [i.feature for i in explanation.global_importance]
        columns = ["Feature"] + [
            f"{g.group} (n={g.n:,})" + (" insufficient" if g.insufficient else "") for g in groups
        ]
        records = []
        for feature in features:
            cells, tips = [feature], [""]
            for group in groups:
                found = next((i for i in group.importances if i.feature == feature), None)
                cells.append(number(None if found is None else found.mean_abs_shap))
                tips.append(
                    ""
                    if found is None
                    else f"{full(found.mean_abs_shap)} (95% {number(found.ci_low)} to {number(found.ci_high)})"
                )
            records.append(Record(tuple(cells), tooltips=tuple(tips), item=feature))
        self.segment_model.set_records(records, headers=columns, numeric=range(1, len(columns)))
        self.segment_table.resizeColumnsToContents()
        if not groups:
            self.gaps.setText("The log maps no sensitive attributes, so there are no groups to compare.")
            return
        output = explanation.settings.output_space
        gaps = [g for g in explanation.gaps if g.attribute == attribute]
        clear = [g.sentence(output) for g in gaps if g.clear][:5]
        self.gaps.setText(
            "\n".join(clear)
            if clear
            else f"No clear difference in how the model relies on a feature between groups of {attribute}"
            " (every interval of a difference includes zero)."
        )
        self.segment_chart.show_figure(
            segment_figure(features, groups, output), f"Mean |SHAP| per group of {attribute}"
        )

    def _show_local(self, explanation: Explanation) -> None:
        if not explanation.local:
            self.local_model.set_records([])
            self.local_summary.setText("No row was explained.")
            return
        local = explanation.local[0]
        output = explanation.settings.output_space
        contributions = sorted(local.contributions, key=lambda c: abs(c.shap), reverse=True)
        self.local_model.set_records(
            [
                Record(
                    (c.feature, number(c.value, 6), number(c.shap)),
                    tooltips=("", full(c.value), full(c.shap)),
                    item=c,
                )
                for c in contributions
            ]
        )
        self.local_table.resizeColumnsToContents()
        total = local.base_value + sum(c.shap for c in local.contributions)
        model_says = (
            "" if local.model_output is None else f"; the model's own output is {local.model_output:.6g}"
        )
        error = "" if local.additivity_error is None else f" (additivity error {local.additivity_error:.2e})"
        self.local_summary.setText(
            f"Row {local.row_id}: base value {local.base_value:.6g} "
            f"+ SHAP values {total - local.base_value:+.6g} = {total:.6g} {output}{model_says}{error}."
        )
        self.local_chart.show_figure(
            waterfall_figure(local, output), f"Local explanation of row {local.row_id}"
        )


def settings_text(explanation: Explanation) -> str:
    """The facts a reviewer needs to trust the numbers, in one paragraph."""
    s = explanation.settings
    if s.background_size:
        background = f"{s.background_size:,} rows of {s.background_source}"
    else:
        background = "none needed (path-dependent TreeSHAP uses the trees' own cover)"
    additivity = explanation.additivity
    if additivity.max_error is None:
        check = "not checked (no model output to compare with)"
    else:
        verdict = {True: "✔ within", False: "✘ exceeds", None: "no bound for"}[additivity.ok]
        bound = "" if additivity.tolerance is None else f" the tolerance {additivity.tolerance:.1e}"
        check = (
            f"max error {additivity.max_error:.2e} over {additivity.rows_checked:,} rows, {verdict}{bound}"
        )
    target = f"; class explained: {s.target_class}" if s.target_class else ""
    return (
        f"Explainer: {s.method} ({s.explainer.value}), shap {s.shap_version}; model {s.model_class}; "
        f"output space: {s.output_space}{target}.\n"
        f"Sample: {s.sample_size:,} of {s.rows_available:,} rows (seed {s.seed}); background: {background}; "
        f"intervals: {s.bootstrap_resamples} bootstrap resamples, {s.confidence:.0%}.\n"
        f"Additivity (base value + SHAP values = model output): {check}."
    )
