"""The Compare page: the selected version as the challenger against a champion version of the same model.

Side by side per metric, difference bars with intervals per group of a segment, the decision-change
table and the verdict of the policy's comparison rules. The comparison runs as a job through
``services.compare.compare_versions`` and is recorded; choosing a version shows its latest comparison.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.comparison import COMPARED_METRICS, ComparisonResult, GroupComparison, SegmentComparison
from signoff.domain.policy import PolicyEvaluation
from signoff.domain.registry import ModelVersion
from signoff.services.analysis_runs import latest_analysis
from signoff.services.logs import list_logs
from signoff.services.models import list_model_versions
from signoff.ui.chart_view import ChartView
from signoff.ui.context import AppContext
from signoff.ui.formatting import fixed, full, p_value
from signoff.ui.pages.analysis_widgets import LatestJob, LogChooser, page_shortcut, records_table
from signoff.ui.records_model import Record, RecordsModel
from signoff.ui.workers import JobControl

NO_VERSION = (
    "Choose a model version on the Registry page: it is compared, as the challenger, with a champion."
)
OVERALL_COLUMNS = ("Metric", "Champion", "Challenger", "Difference", "Interval", "Test", "p", "p (Holm)")
GROUP_COLUMNS = ("Group", "Rows", "Champion", "Challenger", "Difference", "Interval", "p (Holm)", "")
CHANGE_COLUMNS = ("Group", "Rows", "Newly approved", "Newly declined", "Approval ratio", "Decline ratio")
RULE_COLUMNS = ("Rule", "Scope", "Verdict", "Judged", "Threshold", "Reason")
VERDICT_TONES = {
    "pass": "good",
    "fail": "bad",
    "waived": "warn",
    "insufficient_data": "neutral",
    "missing": "warn",
}


def _interval(ci: tuple[float | None, float | None]) -> str:
    return "—" if ci[0] is None or ci[1] is None else f"{ci[0]:+.3f} to {ci[1]:+.3f}"


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def difference_figure(segment: SegmentComparison, metric: str, level: float) -> dict[str, Any]:
    """Challenger - champion of ``metric`` per group as horizontal bars with their intervals (no Qt)."""
    groups = [g for g in segment.groups if g.champion_count or g.challenger_count]
    changes = [g.metric(metric) for g in groups]
    values = [c.difference if c.difference is not None else 0 for c in changes]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [g.group for g in groups],
                "x": values,
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        0 if c.ci[1] is None else c.ci[1] - v for c, v in zip(changes, values, strict=True)
                    ],
                    "arrayminus": [
                        0 if c.ci[0] is None else v - c.ci[0] for c, v in zip(changes, values, strict=True)
                    ],
                },
                "marker": {"color": ["#9e9e9e" if g.insufficient else "#3b6ea8" for g in groups]},
                "name": "challenger - champion",
            }
        ],
        "layout": {
            "title": {"text": f"{metric}: challenger - champion by {segment.name} ({level:.0%} interval)"},
            "xaxis": {"zeroline": True, "title": {"text": "difference"}},
            "margin": {"l": 140, "r": 20, "t": 50, "b": 50},
        },
    }


def metric_record(name: str, group: GroupComparison) -> Record:
    m = group.metric(name)
    return Record(
        (
            name,
            fixed(m.champion),
            fixed(m.challenger),
            _signed(m.difference),
            _interval(m.ci),
            m.test or "",
            p_value(m.p_value),
            p_value(m.p_holm),
        ),
        tooltips=(
            "",
            full(m.champion),
            full(m.challenger),
            full(m.difference),
            m.interval_method,
            "",
            "",
            "",
        ),
        item=m,
    )


class ComparePage(QWidget):
    title = "Compare"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.result: ComparisonResult | None = None
        self.run_id: int | None = None

        self.champion = QComboBox()
        self.champion.setAccessibleName("Champion version")
        self.champion.currentIndexChanged.connect(lambda _i: self._fill_champion_logs())
        self.champion_log = LogChooser("Champion's log")
        self.challenger_log = LogChooser("Challenger's log")
        # Shadow mode in one log: the challenger's log also holds the champion's decisions (and score).
        self.champion_column = QComboBox()
        self.champion_column.setAccessibleName("Champion's prediction column in the challenger's log")
        self.champion_column.setToolTip(
            "Choose a column when the challenger's log also holds the champion's decisions"
        )
        self.champion_score = QComboBox()
        self.champion_score.setAccessibleName("Champion's score column in the challenger's log")
        self.challenger_log.currentIndexChanged.connect(lambda _i: self._fill_columns())
        self.champion_column.currentIndexChanged.connect(lambda _i: self._update_mode())
        self.unpaired = QCheckBox("&Unpaired (A/B test)")
        self.unpaired.setToolTip("Each version served its own traffic: unpaired tests, no join by row id")
        self.run_button = QPushButton("&Compare")
        self.run_button.setToolTip("Compare the challenger with the champion (Ctrl+R)")
        self.run_button.clicked.connect(self.run_comparison)
        page_shortcut(self, "Ctrl+R", self.run_comparison)
        self.status = QLabel(NO_VERSION)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleName("Comparison status")
        self.jobs = LatestJob(context, self.status, "comparison")

        self.overall_model = RecordsModel(OVERALL_COLUMNS, numeric=(1, 2, 3, 6, 7), parent=self)
        self.overall_table = records_table(
            self.overall_model, "Overall: champion and challenger side by side"
        )
        self.segment = QComboBox()
        self.segment.setAccessibleName("Segment")
        self.metric_choice = QComboBox()
        self.metric_choice.setAccessibleName("Metric")
        self.metric_choice.addItems(COMPARED_METRICS)
        self.metric_choice.setCurrentText("selection_rate")
        for box in (self.segment, self.metric_choice):
            box.currentIndexChanged.connect(lambda _i: self._show_segment())
        self.group_model = RecordsModel(GROUP_COLUMNS, numeric=(1, 2, 3, 4, 6), parent=self)
        self.group_table = records_table(self.group_model, "Differences per group")
        self.chart = ChartView()
        self.change_model = RecordsModel(CHANGE_COLUMNS, numeric=(1, 2, 3, 4, 5), parent=self)
        self.change_table = records_table(self.change_model, "Decision changes per group")
        self.change_test = QLabel()
        self.change_test.setTextFormat(Qt.TextFormat.PlainText)
        self.change_test.setWordWrap(True)
        self.rule_model = RecordsModel(RULE_COLUMNS, parent=self)
        self.rule_table = records_table(self.rule_model, "Comparison rules of the latest policy check")
        self.families = QLabel()
        self.families.setTextFormat(Qt.TextFormat.PlainText)
        self.families.setWordWrap(True)

        bar = QHBoxLayout()
        for text, widget in (
            ("C&hampion", self.champion),
            ("Champion's &log", self.champion_log),
            ("Challenger's l&og", self.challenger_log),
            ("or champion's col&umn", self.champion_column),
            ("score", self.champion_score),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget)
        bar.addWidget(self.unpaired)
        bar.addWidget(self.run_button)
        bar.addStretch(1)
        chooser = QHBoxLayout()
        for text, widget in (("&Segment", self.segment), ("&Metric", self.metric_choice)):
            label = QLabel(text)
            label.setBuddy(widget)
            chooser.addWidget(label)
            chooser.addWidget(widget)
        chooser.addStretch(1)
        groups = QWidget()
        groups_layout = QVBoxLayout(groups)
        groups_layout.addLayout(chooser)
        groups_layout.addWidget(self.group_table)
        groups_layout.addWidget(self.change_table)
        groups_layout.addWidget(self.change_test)
        middle = QSplitter()
        middle.addWidget(groups)
        middle.addWidget(self.chart)
        middle.setSizes([620, 620])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.overall_table)
        split.addWidget(middle)
        split.addWidget(self.rule_table)
        split.setSizes([180, 420, 120])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addWidget(self.families)

        context.version_changed.connect(lambda _version: self.reload())
        context.evidence_changed.connect(self._maybe_reload)
        self.reload()

    @property
    def version(self) -> ModelVersion | None:
        return self.context.version

    def reload(self) -> None:
        version = self.version
        others = (
            []
            if version is None
            else [v for v in list_model_versions(self.context.db, name=version.name) if v.id != version.id]
        )
        self.champion.blockSignals(True)
        self.champion.clear()
        for other in others:
            self.champion.addItem(f"v{other.version}", other.id)
        self.champion.blockSignals(False)
        self._others = {v.id: v for v in others}
        logs = (
            [] if version is None else list_logs(self.context.db, model=version.name, version=version.version)
        )
        self.challenger_log.set_logs(logs)
        self._fill_champion_logs()
        if version is None:
            self.status.setText(NO_VERSION)
            self._show(None, None)
            return
        if not others:
            self.status.setText(f"{version.name} has no other version to compare v{version.version} with.")
        latest = latest_analysis(self.context.db, kind="compare", model_version_id=version.id)
        if latest is not None:
            champion_id = latest.parameters["champion"]["model_version_id"]
            self.champion.setCurrentIndex(max(self.champion.findData(champion_id), 0))
            self._show(ComparisonResult.from_dict(latest.result), latest.id)
        else:
            self._show(None, None)
            if others:
                self.status.setText(
                    "No comparison recorded yet: choose the champion and the logs, then Compare."
                )
        self._show_rules()

    def _fill_champion_logs(self) -> None:
        champion = self._others.get(self.champion.currentData()) if hasattr(self, "_others") else None
        logs = (
            []
            if champion is None
            else list_logs(self.context.db, model=champion.name, version=champion.version)
        )
        self.champion_log.set_logs(logs)
        self._fill_columns()

    def _fill_columns(self) -> None:
        log = self.challenger_log.log()
        own = (
            set()
            if log is None
            else {log.mapping.label, log.mapping.prediction, log.mapping.id, log.mapping.timestamp}
        )
        columns = [] if log is None else [c for c in log.mapping.mapped_columns() if c not in own]
        for box, empty in ((self.champion_column, "(its own log)"), (self.champion_score, "(no score)")):
            box.blockSignals(True)
            box.clear()
            box.addItem(empty, None)
            for column in columns:
                box.addItem(column, column)
            box.blockSignals(False)
        self._update_mode()

    def _update_mode(self) -> None:
        one_log = self.champion_column.currentData() is not None
        self.champion_log.setEnabled(not one_log)
        self.champion_score.setEnabled(one_log)
        self.unpaired.setEnabled(not one_log)
        ready = self.challenger_log.log() is not None and (one_log or self.champion_log.log() is not None)
        self.run_button.setEnabled(ready and bool(self.champion.count()))

    def _maybe_reload(self, event) -> None:
        relevant = event.action.startswith(("log.", "model.")) or event.action in (
            "analysis.recorded",
            "policy.evaluated",
        )
        if relevant and not self.jobs.running:
            self.reload()

    def run_comparison(self) -> None:
        version = self.version
        champion = self._others.get(self.champion.currentData()) if version is not None else None
        a, b = self.champion_log.log(), self.challenger_log.log()
        column, score = self.champion_column.currentData(), self.champion_score.currentData()
        if version is None or champion is None or b is None or (a is None and column is None):
            return
        db, actor, unpaired = self.context.db, self.context.actor, self.unpaired.isChecked()
        inputs: dict = {"log_ids": [a.id, b.id] if a is not None else [], "unpaired": unpaired}
        if column is not None:
            scores = b.mapping.scores
            inputs = {
                "log_ids": [b.id],
                "prediction_columns": (column, b.mapping.prediction),
                "score_columns": (score, scores[0]) if score is not None and len(scores) == 1 else None,
            }

        def work(control: JobControl) -> tuple[ComparisonResult, int]:
            from signoff.services.compare import compare_versions

            done = compare_versions(
                db,
                name=version.name,
                champion=champion.version,
                challenger=version.version,
                **inputs,
                actor=actor,
                progress=lambda fraction: control.progress(fraction, "comparing"),
                cancelled=control.cancelled,
            )
            return done.result, done.run.id

        self.jobs.start(
            f"Comparing v{version.version} with v{champion.version}", work, lambda done: self._show(*done)
        )

    def _show(self, result: ComparisonResult | None, run_id: int | None) -> None:
        self.result, self.run_id = result, run_id
        self.segment.blockSignals(True)
        self.segment.clear()
        if result is None:
            self.segment.blockSignals(False)
            for model in (self.overall_model, self.group_model, self.change_model):
                model.set_records([])
            self.families.setText("")
            self.change_test.setText("")
            return
        self.segment.addItems([s.name for s in result.segments])
        self.segment.blockSignals(False)
        self.overall_model.set_records(
            [metric_record(m.metric, result.overall) for m in result.overall.metrics]
        )
        self.overall_table.resizeColumnsToContents()
        cov = result.coverage
        text = f"Analysis run #{run_id}: {result.design} comparison of {cov.compared_rows:,} rows"
        if cov.joined_on:
            text += (
                f" joined on {cov.joined_on}; {cov.only_champion:,} rows only in the champion's log and "
                f"{cov.only_challenger:,} only in the challenger's were not compared"
            )
        self.status.setText(text + ".")
        self.families.setText("\n".join(f.description for f in result.families))
        self._show_segment()

    def _show_segment(self) -> None:
        result = self.result
        if result is None or not result.segments:
            return
        segment = next(
            (s for s in result.segments if s.name == self.segment.currentText()), result.segments[0]
        )
        metric = self.metric_choice.currentText()
        if metric not in [m.metric for m in result.overall.metrics]:
            metric = "selection_rate"
        records = []
        for g in segment.groups:
            m = g.metric(metric)
            records.append(
                Record(
                    (
                        g.group,
                        f"{min(g.champion_count, g.challenger_count):,}",
                        fixed(m.champion),
                        fixed(m.challenger),
                        _signed(m.difference),
                        _interval(m.ci),
                        p_value(m.p_holm),
                        "insufficient data" if g.insufficient else ("Unknown" if g.unknown else ""),
                    ),
                    muted=g.insufficient,
                    item=g,
                )
            )
        self.group_model.set_records(records)
        self.change_model.set_records(
            [
                Record(
                    (
                        g.group,
                        f"{g.champion_count:,}",
                        f"{g.changes.newly_approved:,}",
                        f"{g.changes.newly_declined:,}",
                        fixed(g.changes.approval_ratio),
                        fixed(g.changes.decline_ratio),
                    ),
                    tone="bad" if (g.changes.decline_ratio or 1) < 0.8 else None,
                    muted=g.insufficient,
                    item=g,
                )
                for g in segment.groups
                if g.changes is not None
            ]
        )
        test = segment.change_test
        self.change_test.setText(
            ""
            if test is None or test.p_value is None
            else f"Do the changes fall evenly on the groups of {segment.name}? Chi-square {test.statistic:.3g}, "
            f"{test.dof} degree(s) of freedom, p {p_value(test.p_value)}, Holm across segments {p_value(test.p_holm)}."
        )
        self.chart.show_figure(
            difference_figure(segment, metric, result.confidence_level), f"{metric} differences"
        )

    def _show_rules(self) -> None:
        version = self.version
        run = (
            None
            if version is None
            else latest_analysis(self.context.db, kind="policy", model_version_id=version.id)
        )
        verdicts = (
            []
            if run is None
            else [
                v
                for v in PolicyEvaluation.from_dict(run.result).verdicts
                if v.rule.metric.startswith("compare.")
            ]
        )
        self.rule_model.set_records(
            [
                Record(
                    (
                        v.rule.id,
                        v.scope,
                        v.status.value.replace("_", " "),
                        fixed(v.judged),
                        f"{v.rule.on.value} {v.rule.operator.value} {v.rule.threshold:g}",
                        v.reason,
                    ),
                    tone=VERDICT_TONES.get(v.status.value),
                    item=v,
                )
                for v in verdicts
            ]
        )
