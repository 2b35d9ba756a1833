"""The Policy page: judge the selected model version against a policy, rule by rule, and grant waivers.

"Check" runs ``services.policy.check_policy`` as a job (it may run validation and drift first) and
shows every (rule, scope) verdict with the observed value, its interval and the threshold; the verdict
is written out ("✘ fail"), the colour only repeats it. A failed rule can be waived from a dialog
(``add_waiver``), after which the check runs again so the rule shows as waived.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.errors import NotFoundError, SignoffError
from signoff.domain.palette import COLOURS, Tone
from signoff.domain.policy import OverallStatus, PolicyEvaluation, RuleStatus, RuleVerdict, Waiver
from signoff.domain.registry import ModelVersion
from signoff.services.analysis_runs import latest_analysis
from signoff.services.policy import (
    MIN_JUSTIFICATION,
    PolicyCheck,
    add_waiver,
    binding_choices,
    check_policy,
    list_waivers,
    recorded_policy_file,
    shipped_policies,
)
from signoff.ui.context import AppContext
from signoff.ui.formatting import EMPTY, full, number
from signoff.ui.pages.analysis_widgets import (
    LatestJob,
    page_shortcut,
    records_table,
)
from signoff.ui.records_model import Record, RecordsModel
from signoff.ui.workers import JobControl

NO_VERSION = "Choose a model version on the Registry page to check it against a policy."
DEFAULT_WAIVER_DAYS = 90
NOT_IN_LOG = "(no such column)"
VERDICT_TEXT = {
    RuleStatus.PASS: ("✔ pass", "good"),
    RuleStatus.FAIL: ("✘ fail", "bad"),
    RuleStatus.WAIVED: ("⚑ waived", "warn"),
    RuleStatus.INSUFFICIENT_DATA: ("? insufficient data", "neutral"),
    RuleStatus.MISSING: ("∅ missing", "warn"),
}
OVERALL_TEXT = {
    OverallStatus.PASS: "✔ PASS",
    OverallStatus.FAIL: "✘ FAIL",
    OverallStatus.MISSING: "∅ MISSING EVIDENCE",
    OverallStatus.INSUFFICIENT_DATA: "? INSUFFICIENT DATA",
}
VERDICT_COLUMNS = (
    "Rule",
    "Metric",
    "Scope",
    "Verdict",
    "Observed",
    "95% interval",
    "Judged on",
    "Threshold",
    "n",
    "Reason / evidence",
)
WAIVER_COLUMNS = ("Rule", "Scope", "Until", "Granted by", "In force", "Justification")


def verdict_record(verdict: RuleVerdict) -> Record:
    text, tone = VERDICT_TEXT[verdict.status]
    rule = verdict.rule
    interval = (
        EMPTY
        if verdict.ci_low is None and verdict.ci_high is None
        else f"[{number(verdict.ci_low)}, {number(verdict.ci_high)}]"
    )
    reason = verdict.reason
    if verdict.waiver is not None:
        reason = f"{reason}. Justification: {verdict.waiver.justification}"
    # A pass has no reason; then the evidence it was judged on (which log, which convention) is shown.
    shown = reason or verdict.detail
    return Record(
        (
            rule.id,
            rule.metric,
            verdict.scope,
            text,
            number(verdict.value),
            interval,
            rule.on.value,
            f"{rule.operator.value} {rule.threshold:g}",
            EMPTY if verdict.n is None else f"{verdict.n:,}",
            shown,
        ),
        tone=tone,
        tooltips=(
            rule.description,
            "",
            "",
            "",
            full(verdict.value),
            f"{full(verdict.ci_low)} to {full(verdict.ci_high)}",
            "",
            "",
            "",
            "\n".join(t for t in (reason, verdict.detail) if t),
        ),
        item=verdict,
    )


def waiver_record(waiver: Waiver, today: date) -> Record:
    in_force = waiver.in_force(today)
    return Record(
        (
            waiver.rule_id,
            waiver.scope,
            waiver.until.isoformat(),
            waiver.granted_by,
            "✔ yes" if in_force else "✘ expired",
            waiver.justification,
        ),
        tone=None if in_force else "neutral",
        item=waiver,
    )


class WaiverDialog(QDialog):
    """Accept one failing rule as an exception: the scope, why, until when, granted by whom."""

    def __init__(self, page: PolicyPage, verdict: RuleVerdict) -> None:
        super().__init__(page)
        self.page = page
        self.verdict = verdict
        self.setWindowTitle(f"Waive rule {verdict.rule.id}")
        self.setAccessibleName("Add a waiver")
        self.rule = QLabel(
            f"{verdict.rule.id}: {verdict.rule.metric} {verdict.rule.operator.value} "
            f"{verdict.rule.threshold:g}"
        )
        self.failure = QLabel(verdict.reason)
        self.failure.setWordWrap(True)
        self.scope = QLineEdit(verdict.scope)
        self.scope.setAccessibleName("Scope of the waiver")
        self.scope.setToolTip("The scope this waiver covers; * covers every scope of the rule")
        self.justification = QPlainTextEdit()
        self.justification.setAccessibleName("Justification")
        self.justification.setPlaceholderText(
            f"Why is this failure accepted, and what will be done about it? (at least {MIN_JUSTIFICATION} "
            "characters)"
        )
        self.until = QDateEdit()
        self.until.setAccessibleName("Waived until (inclusive)")
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat("yyyy-MM-dd")
        today = datetime.now(UTC).date()
        self.until.setDate(QDate(today + timedelta(days=DEFAULT_WAIVER_DAYS)))
        # A waiver is a signed act of the signed-in approver or administrator: no free-text "granted by".
        user = page.context.user
        self.granted_by = QLabel(f"{user.full_name} ({user.username})" if user else "nobody is signed in")
        self.granted_by.setTextFormat(Qt.TextFormat.PlainText)
        self.granted_by.setAccessibleName("Granted by")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Your password, to sign the waiver")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Why the waiver was not added")
        self.error.setStyleSheet(f"color: {COLOURS[Tone.ALERT]}")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton("&Add waiver", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setAccessibleName("Add the waiver")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout(self)
        form.addRow("Rule", self.rule)
        form.addRow("Failure", self.failure)
        form.addRow("&Scope", self.scope)
        form.addRow("&Justification", self.justification)
        form.addRow("&Until", self.until)
        form.addRow("Granted by", self.granted_by)
        form.addRow("&Password", self.password)
        form.addRow(self.error)
        form.addRow(self.buttons)
        self.resize(560, 360)

    def submit(self) -> None:
        """Record the waiver in a job; the dialog closes only when it was stored."""
        self.add_button.setEnabled(False)
        self.error.setText("")
        self.page.add_waiver(
            self.verdict.rule.id,
            scope=self.scope.text(),
            justification=self.justification.toPlainText(),
            until=self.until.date().toPython(),
            password=self.password.text(),
            on_done=self._done,
        )

    def _done(self, error: str | None) -> None:
        self.add_button.setEnabled(True)
        if error is None:
            self.accept()
        else:
            self.error.setText(error)


POLICY_VERSION_ROLE = Qt.ItemDataRole.UserRole + 1  # the SHA-256 of a choice's file


class PolicyPage(QWidget):
    title = "Policy"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.check: PolicyCheck | None = None
        self.evaluation: PolicyEvaluation | None = None

        self.policy = QComboBox()
        self.policy.setAccessibleName("Policy")
        self.policy.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        # Each choice is known by the SHA-256 of its file (a policy's version), so the chooser can show
        # the very policy a recorded evaluation used, even one read from a file elsewhere.
        self._recorded = tempfile.TemporaryDirectory(prefix="signoff-policies-")
        self.destroyed.connect(lambda _=None, folder=self._recorded: folder.cleanup())
        for name, path in shipped_policies().items():
            self._add_choice(name, name, path)
        browse = QPushButton("Choose &file…")
        browse.setAccessibleName("Choose a policy file")
        browse.clicked.connect(self._browse)
        self.check_button = QPushButton("&Check")
        self.check_button.setAccessibleName("Check the model version against the policy")
        self.check_button.setToolTip("Evaluate every rule of the policy (Ctrl+R)")
        self.check_button.clicked.connect(self.run_check)
        page_shortcut(self, "Ctrl+R", self.run_check)
        bar = QHBoxLayout()
        label = QLabel("&Policy")
        label.setBuddy(self.policy)
        for widget in (label, self.policy, browse, self.check_button):
            bar.addWidget(widget)
        bar.addStretch(1)

        self.overall = QLabel()
        self.overall.setAccessibleName("Policy result")
        font = self.overall.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.overall.setFont(font)
        self.overall.setVisible(False)
        self.status = QLabel(NO_VERSION)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Policy status")
        self.jobs = LatestJob(context, self.status, "policy check")
        self.waiver_jobs = LatestJob(context, self.status, "waiver")

        self.verdict_model = RecordsModel(VERDICT_COLUMNS, numeric=(4, 8), parent=self)
        self.verdict_table = records_table(self.verdict_model, "Verdict per rule")
        self.verdict_table.selectionModel().currentRowChanged.connect(
            lambda _c, _p: self._selection_changed()
        )
        self.waive_button = QPushButton("Add &waiver…")
        self.waive_button.setAccessibleName("Waive the selected failed rule")
        self.waive_button.setToolTip("Accept the selected failure as an exception until a date (Ctrl+W)")
        self.waive_button.setEnabled(False)
        self.waive_button.clicked.connect(self.open_waiver_dialog)
        page_shortcut(self, "Ctrl+W", self.open_waiver_dialog)
        self.waiver_model = RecordsModel(WAIVER_COLUMNS, parent=self)
        self.waiver_table = records_table(self.waiver_model, "Waivers")

        # The policy's attributes (sex, race) and the log column each is read from (Gender, Ethnicity).
        self.binding_box = QGroupBox("Policy attributes and the log columns they are read from")
        self.binding_form = QFormLayout(self.binding_box)
        self.binding_combos: dict[str, QComboBox] = {}
        self.policy.currentIndexChanged.connect(lambda _index: self.refresh_binding())

        waivers = QGroupBox("Waivers of this model version")
        waivers_layout = QVBoxLayout(waivers)
        waivers_bar = QHBoxLayout()
        waivers_bar.addWidget(self.waive_button)
        waivers_bar.addStretch(1)
        waivers_layout.addLayout(waivers_bar)
        waivers_layout.addWidget(self.waiver_table)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.verdict_table)
        split.addWidget(waivers)
        split.setSizes([460, 200])

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.overall)
        layout.addWidget(self.status)
        layout.addWidget(self.binding_box)
        layout.addWidget(split, 1)

        context.version_changed.connect(lambda _version: self.reload())
        context.evidence_changed.connect(self._maybe_reload)
        self.reload()

    @property
    def version(self) -> ModelVersion | None:
        return self.context.version

    def _add_choice(self, text: str, policy_file: str, path: str | Path) -> int:
        """Offer a policy (``policy_file`` is what ``check_policy`` is given) unless the same file is
        already offered; return its row."""
        version = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        index = self.policy.findData(version, POLICY_VERSION_ROLE)
        if index < 0:
            self.policy.addItem(text, policy_file)
            index = self.policy.count() - 1
            self.policy.setItemData(index, str(path), Qt.ItemDataRole.ToolTipRole)
            self.policy.setItemData(index, version, POLICY_VERSION_ROLE)
        return index

    def add_policy_file(self, path: str | Path) -> None:
        """Offer a policy file from disk and choose it."""
        self.policy.setCurrentIndex(self._add_choice(Path(path).name, str(path), path))

    def choose_recorded_policy(self, evaluation: PolicyEvaluation) -> None:
        """Set the chooser to the policy ``evaluation`` was judged against (its stored file when it is
        not one of the offered ones), so Check and a waiver's re-check use that same policy."""
        index = self.policy.findData(evaluation.policy_version, POLICY_VERSION_ROLE)
        if index < 0:
            try:
                path = recorded_policy_file(
                    self.context.db, evaluation.policy_version, Path(self._recorded.name)
                )
            except NotFoundError:
                return  # an evaluation older than stored policy files: leave the choice to the reader
            index = self._add_choice(f"{evaluation.policy_name} (as recorded)", str(path), path)
        self.policy.setCurrentIndex(index)

    def _browse(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Choose a policy file", "", "Policy (*.yaml *.yml)")
        if path:
            self.add_policy_file(path)

    def reload(self) -> None:
        """Show the version's waivers and its latest stored evaluation (until a new check is run)."""
        version = self.version
        self.check_button.setEnabled(version is not None)
        self.refresh_binding()
        if self.evaluation is not None and (self.check is None or self.check.model_version != version):
            self._show_evaluation(None)
        if version is None:
            self.status.setText(NO_VERSION)
            self.waiver_model.set_records([])
            return
        self._show_waivers()
        if self.evaluation is None:
            latest = latest_analysis(self.context.db, kind="policy", model_version_id=version.id)
            if latest is not None:
                evaluation = PolicyEvaluation.from_dict(latest.result)
                self.choose_recorded_policy(evaluation)
                self._show_evaluation(evaluation)
                self.status.setText(
                    f"The latest recorded evaluation (analysis run #{latest.id} by {latest.created_by}); "
                    "press Check to evaluate again."
                )
            else:
                self.status.setText(
                    f"{version.name} v{version.version} has not been checked against a policy yet: choose one and "
                    "press Check."
                )

    def _maybe_reload(self, event) -> None:
        if event.action.startswith(("model.", "waiver.")):
            self._show_waivers()

    def _show_waivers(self) -> None:
        version = self.version
        if version is None:
            return
        today = datetime.now(UTC).date()
        waivers = list_waivers(self.context.db, name=version.name, version=version.version)
        self.waiver_model.set_records([waiver_record(w, today) for w in waivers])
        self.waiver_table.resizeColumnsToContents()

    def refresh_binding(self) -> None:
        """One row per attribute the chosen policy names, with the columns of the log it would read."""
        while self.binding_form.rowCount():
            self.binding_form.removeRow(0)
        self.binding_combos = {}
        version, policy_file = self.version, self.policy.currentData()
        if version is None or policy_file is None:
            self.binding_box.setVisible(False)
            return
        try:
            choices = binding_choices(
                self.context.db, name=version.name, version=version.version, policy_file=policy_file
            )
        except SignoffError:
            self.binding_box.setVisible(False)  # a broken file: Check says why
            return
        self.binding_box.setVisible(bool(choices.attributes))
        for attribute in choices.attributes:
            combo = QComboBox()
            combo.setAccessibleName(f"Column for the policy attribute {attribute}")
            combo.addItem(NOT_IN_LOG, None)
            for column in choices.columns:
                combo.addItem(column, column)
            proposed = choices.proposed.get(attribute)
            if proposed is not None:
                combo.setCurrentIndex(combo.findData(proposed))
            label = QLabel(f"{attribute}:")
            label.setTextFormat(Qt.TextFormat.PlainText)
            self.binding_form.addRow(label, combo)
            self.binding_combos[attribute] = combo

    def binding(self) -> dict[str, str]:
        return {a: c.currentData() for a, c in self.binding_combos.items() if c.currentData() is not None}

    # --- checking ---------------------------------------------------------------------------------

    def run_check(self, policy_file: str | None = None) -> None:
        """Check against ``policy_file``, by default the chosen one."""
        version = self.version
        policy_file = policy_file or self.policy.currentData()
        if version is None or policy_file is None:
            return
        db, actor, binding = self.context.db, self.context.actor, self.binding()

        def work(control: JobControl) -> PolicyCheck:
            control.progress(0.0, "analyses the policy needs")
            return check_policy(
                db,
                name=version.name,
                version=version.version,
                policy_file=policy_file,
                actor=actor,
                attributes=binding,
            )

        self.jobs.start(
            f"Checking {version.name} v{version.version} against {Path(policy_file).name}",
            work,
            self._checked,
        )

    def _checked(self, check: PolicyCheck) -> None:
        self.check = check
        self.choose_recorded_policy(check.evaluation)
        self._show_evaluation(check.evaluation)
        counts = ", ".join(
            f"{check.evaluation.count(s)} {s.value.replace('_', ' ')}"
            for s in RuleStatus
            if check.evaluation.count(s)
        )
        self.status.setText(
            f"Policy {check.policy.name} ({check.policy.title or check.source}), version "
            f"{check.policy.version[:12]}; analysis run #{check.run.id}: {counts}."
        )

    def _show_evaluation(self, evaluation: PolicyEvaluation | None) -> None:
        self.evaluation = evaluation
        self.overall.setVisible(evaluation is not None)
        if evaluation is None:
            self.check = None
            self.verdict_model.set_records([])
            self.overall.setText("")
            self._selection_changed()
            return
        self.verdict_model.set_records([verdict_record(v) for v in evaluation.verdicts])
        self.verdict_table.resizeColumnsToContents()
        missing = (
            f" — analyses missing: {', '.join(evaluation.missing_analyses)}"
            if evaluation.missing_analyses
            else ""
        )
        gate = "the gate passes" if evaluation.passed else "the gate fails"
        self.overall.setText(
            f"{OVERALL_TEXT[evaluation.status]}: {evaluation.policy_name}, evaluated on "
            f"{evaluation.evaluated_on.isoformat()}; {gate}{missing}"
        )
        self._selection_changed()

    # --- waivers ----------------------------------------------------------------------------------

    def selected_verdict(self) -> RuleVerdict | None:
        row = self.verdict_table.currentIndex().row()
        if not 0 <= row < self.verdict_model.rowCount():
            return None
        return self.verdict_model.record(row).item

    def _selection_changed(self) -> None:
        verdict = self.selected_verdict()
        self.waive_button.setEnabled(verdict is not None and verdict.status is RuleStatus.FAIL)

    def open_waiver_dialog(self) -> WaiverDialog | None:
        verdict = self.selected_verdict()
        if verdict is None or verdict.status is not RuleStatus.FAIL or self.version is None:
            return None
        dialog = WaiverDialog(self, verdict)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()  # window-modal without a nested event loop
        return dialog

    def add_waiver(
        self,
        rule_id: str,
        *,
        scope: str,
        justification: str,
        until: date,
        password: str,
        on_done,
    ) -> None:
        """Store a waiver in a job, then check again so the rule shows as waived. ``on_done(None)`` on
        success, ``on_done(message)`` when the waiver was refused (the message is also shown as a dialog)."""
        version = self.version
        if version is None:
            return
        db, user = self.context.db, self.context.user
        if user is None:
            on_done("sign in first (File › Sign in…): a waiver is signed by an approver or administrator")
            return

        def work(_control: JobControl) -> Waiver:
            return add_waiver(
                db,
                name=version.name,
                version=version.version,
                rule_id=rule_id,
                scope=scope,
                justification=justification,
                until=until,
                username=user.username,
                password=password,
            )

        shown = self.evaluation

        def stored(_waiver: Waiver) -> None:
            on_done(None)  # the table follows the waiver's audit event (_maybe_reload): no second read
            if shown is not None:  # the same policy whose result is on screen, whatever is chosen now
                self.choose_recorded_policy(shown)
                self.run_check()

        self.waiver_jobs.start(f"Waiving rule {rule_id}", work, stored, on_done)
