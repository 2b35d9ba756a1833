"""The Review page's dialogs: open a review, write a finding, sign, revoke.

Each dialog does its work itself, in a job, and stays open until the work succeeded: a refused
password, a four-eyes refusal or a conflict is shown inside the dialog, with what was typed still
there, and nothing is stored. The sign dialog shows exactly what the signature binds.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from signoff.domain.decision import BLOCKING_VERDICTS, Verdict, approval_refusal, parse_condition
from signoff.domain.errors import SignoffError
from signoff.domain.evidence_bundle import ReviewStatus
from signoff.domain.palette import COLOURS, Tone
from signoff.domain.prediction_log import PredictionLog
from signoff.domain.registry import ModelVersion
from signoff.domain.review import (
    ACTION_FOR_MEANING,
    MEANING_ROLE,
    Finding,
    FindingStatus,
    FindingType,
    ReviewState,
    Severity,
    SignatureMeaning,
    check_allowed,
)
from signoff.domain.users import Role, User
from signoff.services import reviews
from signoff.services.users import list_users
from signoff.ui.context import AppContext
from signoff.ui.dialogs import JobDialog
from signoff.ui.formatting import words

WARNING_STYLE = f"color: {COLOURS[Tone.WARNING]};"


def plain_label(text: str = "") -> QLabel:
    """A label for text that came from a user, a file or a registry: never read as rich text."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def monospace_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label  # a hash has no spaces to wrap at: the label asks for its full width


class OpenReviewDialog(JobDialog):
    """Open a draft review of a model version over the chosen logs, with the signatures it needs."""

    def __init__(
        self,
        context: AppContext,
        user: User,
        version: ModelVersion,
        logs: list[PredictionLog],
        earlier: list[ReviewStatus],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            context, f"Open a review of {version.name} v{version.version}", "&Open review", parent
        )
        self.user = user
        self.version = version
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText(f"e.g. {version.name} v{version.version} release")
        self.title_edit.setAccessibleName("Review title")
        self.logs = QListWidget()
        self.logs.setAccessibleName("Prediction logs to include")
        for log in logs:
            period = ""
            if log.period_start and log.period_end:
                period = f", {log.period_start:%Y-%m-%d} to {log.period_end:%Y-%m-%d}"
            item = QListWidgetItem(f"#{log.id} {log.source_name} ({log.role}, {log.rows:,} rows{period})")
            item.setData(Qt.ItemDataRole.UserRole, log.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.logs.addItem(item)
        self.logs.setMaximumHeight(140)
        self.reviewers = QSpinBox()
        self.reviewers.setRange(0, 5)
        self.reviewers.setValue(1)
        self.reviewers.setAccessibleName("Reviewer signatures needed")
        self.approvers = QSpinBox()
        self.approvers.setRange(1, 5)
        self.approvers.setAccessibleName("Approver signatures needed")
        self.supersedes = QComboBox()
        self.supersedes.setAccessibleName("Review this one replaces")
        self.supersedes.addItem("(none)", None)
        for status in earlier:
            review = status.review
            if review.state not in (ReviewState.REVOKED, ReviewState.SUPERSEDED):
                self.supersedes.addItem(f"#{review.id} {review.title} ({words(review.state)})", review.id)
        self.form.addRow("&Title:", self.title_edit)
        self.form.addRow("&Logs:", self.logs)
        self.form.addRow("&Reviewer signatures:", self.reviewers)
        self.form.addRow("&Approver signatures:", self.approvers)
        self.form.addRow("&Supersedes:", self.supersedes)
        note = plain_label(
            "The review's evidence is this version, the chosen logs, the latest analyses over them, the "
            "policy evaluation and the findings you write: one SHA-256 that every signature binds."
        )
        note.setWordWrap(True)
        self.form.addRow(note)
        if not logs:
            self.show_message(
                f"{version.name} v{version.version} has no prediction logs: import one first (File menu)."
            )
            self.ok_button.setEnabled(False)
        self.finish_layout()

    def chosen_logs(self) -> list[int]:
        return [
            self.logs.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.logs.count())
            if self.logs.item(row).checkState() == Qt.CheckState.Checked
        ]

    def work(self):
        log_ids = self.chosen_logs()
        if not log_ids:
            self.show_message("Choose at least one prediction log: a review needs evidence.")
            return None
        required = [{"role": "approver", "count": self.approvers.value()}]
        if self.reviewers.value():
            required.insert(0, {"role": "reviewer", "count": self.reviewers.value()})
        db, user, version_id = self.context.db, self.user, self.version.id
        title, supersedes = self.title_edit.text(), self.supersedes.currentData()
        return "Opening a review", lambda control: reviews.open_review(
            db,
            user,
            model_version_id=version_id,
            log_ids=log_ids,
            title=title,
            required_signatures=required,
            supersedes=supersedes,
        )


class FindingDialog(JobDialog):
    """Add a finding, or edit one (status and resolution included): the evidence bundle changes."""

    def __init__(
        self,
        context: AppContext,
        user: User,
        status: ReviewStatus,
        finding: Finding | None = None,
        *,
        resolve: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        review = status.review
        if finding is None:
            heading, ok = f"Add a finding to review #{review.id}", "&Add finding"
        else:
            heading, ok = f"Finding {finding.number} of review #{review.id}", "&Save finding"
        super().__init__(context, heading, ok, parent)
        self.user = user
        self.status = status
        self.finding = finding
        self.title_edit = QLineEdit(finding.title if finding else "")
        self.title_edit.setAccessibleName("Finding title")
        self.type_box = QComboBox()
        self.type_box.setAccessibleName("Finding type")
        for kind in FindingType:
            self.type_box.addItem(words(kind.value), kind.value)
        self.severity_box = QComboBox()
        self.severity_box.setAccessibleName("Severity")
        for severity in Severity:
            self.severity_box.addItem(severity.value, severity.value)
        self.severity_box.setCurrentIndex(self.severity_box.findData(Severity.MEDIUM.value))
        self.description = QPlainTextEdit(finding.description if finding else "")
        self.description.setAccessibleName("Finding text")
        self.description.setTabChangesFocus(True)
        self.description.setMaximumHeight(110)
        self.form.addRow("&Title:", self.title_edit)
        self.form.addRow("T&ype:", self.type_box)
        self.form.addRow("Se&verity:", self.severity_box)
        self.form.addRow("Te&xt:", self.description)
        self.status_box = QComboBox()
        self.status_box.setAccessibleName("Finding status")
        self.resolution = QPlainTextEdit()
        self.resolution.setAccessibleName("Resolution")
        self.resolution.setTabChangesFocus(True)
        self.resolution.setMaximumHeight(90)
        if finding is not None:
            self.type_box.setCurrentIndex(self.type_box.findData(finding.type.value))
            self.type_box.setEnabled(False)  # the type is fixed once written; the service edits the rest
            self.severity_box.setCurrentIndex(self.severity_box.findData(finding.severity.value))
            for value in FindingStatus:
                self.status_box.addItem(value.value, value.value)
            self.status_box.setCurrentIndex(self.status_box.findData(finding.status.value))
            self.resolution.setPlainText(finding.resolution)
            self.form.addRow("&Status:", self.status_box)
            self.form.addRow("&Resolution:", self.resolution)
            hint = plain_label("Resolved or accepted needs a resolution; accepting a risk needs an approver.")
            hint.setWordWrap(True)
            self.form.addRow(hint)
            if resolve:
                self.status_box.setCurrentIndex(self.status_box.findData(FindingStatus.RESOLVED.value))
                self.resolution.setFocus()
        if review.signatures:
            warning = plain_label(
                "Findings are part of the signed evidence: saving makes the signatures given so far stale."
            )
            warning.setWordWrap(True)
            warning.setStyleSheet(WARNING_STYLE)
            self.form.addRow(warning)
        self.finish_layout()

    def work(self):
        if not self.title_edit.text().strip():
            self.show_message("A finding needs a title.")
            return None
        db, user, review = self.context.db, self.user, self.status.review
        title = self.title_edit.text()
        severity = self.severity_box.currentData()
        description = self.description.toPlainText()
        if self.finding is None:
            kind = self.type_box.currentData()
            return "Adding a finding", lambda control: reviews.add_finding(
                db,
                user,
                review.id,
                type=kind,
                severity=severity,
                title=title,
                description=description,
                expected_version=review.version,
            )
        number, status = self.finding.number, self.status_box.currentData()
        resolution = self.resolution.toPlainText()
        return "Saving a finding", lambda control: reviews.update_finding(
            db,
            user,
            review.id,
            number,
            status=status,
            resolution=resolution,
            severity=severity,
            title=title,
            description=description,
            expected_version=review.version,
        )


def four_eyes_text(status: ReviewStatus) -> str:
    """The four-eyes rule as ``domain.review.check_allowed`` enforces it, with this review's names."""
    review = status.review
    analysts = ", ".join(sorted(review.analysts)) or "nobody so far"
    return (
        f"Four-eyes rule: the person who opened this review ({review.opened_by}) and whoever produced "
        f"analyses in its evidence ({analysts}) cannot sign it as approver; one person cannot give two "
        "of the required signatures (as reviewer and as approver)."
    )


def meaning_text(meaning: SignatureMeaning) -> str:
    return f"{meaning.label} (as {MEANING_ROLE[meaning].value})"


class SignDialog(JobDialog):
    """Shows exactly what is signed and asks for the password again (username too if nobody signed in)."""

    def __init__(
        self,
        context: AppContext,
        status: ReviewStatus,
        version: ModelVersion,
        parent: QWidget | None = None,
    ) -> None:
        review = status.review
        super().__init__(context, f"Sign review #{review.id}", "&Sign", parent)
        self.status = status
        self.user = context.user
        self.setMinimumWidth(680)
        self.users = {u.username: u for u in list_users(context.db)} if self.user is None else {}
        intro = plain_label(
            "Your signature binds your name, your role, the meaning and the time to exactly this evidence "
            "bundle. If the evidence changes later the signature is kept but no longer counts (stale)."
        )
        self.form.addRow(intro)
        # Every label showing a name, title or finding is plain text: a model called
        # "<b>already approved by Compliance</b>" must read as exactly that (issue 18).
        model_label = plain_label(f"{version.name} v{version.version} (id {version.id})")
        model_label.setAccessibleName("Model version")
        self.form.addRow("Model version:", model_label)
        title = f" “{review.title}”" if review.title else ""
        review_label = plain_label(
            f"#{review.id}{title}, {words(review.state)}, opened by {review.opened_by}"
        )
        self.form.addRow("Review:", review_label)
        self.verdict = plain_label("\n".join(status.verdict.lines()))
        self.verdict.setAccessibleName("Policy verdict")
        if status.verdict.verdict in BLOCKING_VERDICTS:
            self.verdict.setStyleSheet(f"color: {COLOURS[Tone.ALERT]};")
        elif status.verdict.verdict is Verdict.PASS:
            self.verdict.setStyleSheet(f"color: {COLOURS[Tone.GOOD]};")
        self.form.addRow("Policy verdict:", self.verdict)
        self.meaning = QComboBox()
        self.meaning.setAccessibleName("Meaning of the signature")
        for meaning in SignatureMeaning:
            self.meaning.addItem(meaning_text(meaning), meaning.value)
        self.form.addRow("&Meaning:", self.meaning)
        self.bundle_label = monospace_label(status.bundle.hash)
        self.bundle_label.setAccessibleName("Evidence bundle SHA-256")
        self.form.addRow("Evidence (SHA-256):", self.bundle_label)
        self.username = QLineEdit()
        self.username.setAccessibleName("Username")
        if self.user is None:
            self.form.addRow("&Username:", self.username)
            self.username.textChanged.connect(self._username_changed)
        self.signer = plain_label()
        self.signer.setWordWrap(True)
        self.signer.setTextFormat(Qt.TextFormat.PlainText)
        self.signer.setAccessibleName("Signer")
        self.form.addRow("Signer:", self.signer)
        self.rule = plain_label(four_eyes_text(status))
        self.rule.setWordWrap(True)
        self.rule.setTextFormat(Qt.TextFormat.PlainText)
        self.rule.setAccessibleName("Four-eyes rule")
        self.form.addRow(self.rule)
        self.warning = plain_label()
        self.warning.setWordWrap(True)
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.warning.setAccessibleName("Warning")
        self.form.addRow(self.warning)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        # An approval with conditions signs why, and the obligations it sets (what, owner, due date).
        self.justification = QPlainTextEdit()
        self.justification.setAccessibleName("Justification")
        self.justification.setPlaceholderText("Why may the model be used while these conditions are open?")
        self.justification.setMaximumHeight(80)
        self.conditions = QTableWidget(1, 3)
        self.conditions.setAccessibleName("Conditions")
        self.conditions.setHorizontalHeaderLabels(["Condition", "Owner (username)", "Due (YYYY-MM-DD)"])
        self.conditions.horizontalHeader().setStretchLastSection(True)
        self.conditions.setColumnWidth(0, 300)
        self.conditions.setMaximumHeight(140)
        self.add_condition = QPushButton("Add &condition")
        self.add_condition.clicked.connect(lambda: self.conditions.insertRow(self.conditions.rowCount()))
        self.form.addRow("&Justification:", self.justification)
        self.form.addRow("Conditions:", self.conditions)
        self.form.addRow("", self.add_condition)
        self.form.addRow("&Password:", self.password)
        self.meaning.currentIndexChanged.connect(self._update_signer)
        self.meaning_chosen = False  # once the signer picks a meaning, it is never changed for them
        self.meaning.activated.connect(lambda _row: setattr(self, "meaning_chosen", True))
        self._choose_default_meaning()
        self._update_signer()
        (self.password if self.user is not None else self.username).setFocus()
        self.finish_layout()

    def _signing_user(self) -> User | None:
        if self.user is not None:
            return self.user
        return self.users.get(self.username.text().strip().lower())

    def _choose_default_meaning(self) -> None:
        """Preselect what the signer most likely came to give: a missing signature of a role they hold."""
        user = self._signing_user()
        roles = user.roles if user is not None else frozenset(Role)
        missing = [r.role for r in self.status.review.outstanding()]
        meaning = SignatureMeaning.REVIEWED
        for role in [*missing, Role.REVIEWER, Role.APPROVER]:
            if role in roles:
                meaning = SignatureMeaning.REVIEWED if role is Role.REVIEWER else SignatureMeaning.APPROVED
                break
        self.meaning.setCurrentIndex(self.meaning.findData(meaning.value))

    def _username_changed(self) -> None:
        if not self.meaning_chosen:
            self._choose_default_meaning()
        self._update_signer()

    def chosen_meaning(self) -> SignatureMeaning:
        return SignatureMeaning(self.meaning.currentData())

    def _update_signer(self) -> None:
        role = MEANING_ROLE[self.chosen_meaning()]
        with_conditions = self.chosen_meaning() is SignatureMeaning.APPROVED_WITH_CONDITIONS
        for widget in (self.justification, self.conditions, self.add_condition):
            widget.setVisible(with_conditions)
            label = self.form.labelForField(widget)
            if label is not None:
                label.setVisible(with_conditions)
        user = self._signing_user()
        if user is None:
            self.signer.setText(f"(type your username) · signs as {role.value}")
            self.warning.setVisible(False)
            return
        self.signer.setText(f"{user.full_name} ({user.username}) · signs as {role.value}")
        # The domain's own rule, asked before the password is typed: the warning is the refusal the
        # service would give (roles, four eyes, two roles, already signed), never a paraphrase of it.
        try:
            check_allowed(self.status.review, ACTION_FOR_MEANING[self.chosen_meaning()], user)
            if self.chosen_meaning() is SignatureMeaning.APPROVED:
                refusal = approval_refusal(
                    self.status.review.id, self.status.verdict, self.status.review.findings
                )
                if refusal is not None:
                    raise SignoffError(refusal)
        except SignoffError as refusal:
            self.warning.setText(f"Signoff will refuse this signature: {refusal}.")
            self.warning.setVisible(True)
        else:
            self.warning.setText("")
            self.warning.setVisible(False)

    def work(self):
        username = self.user.username if self.user is not None else self.username.text().strip()
        if not username:
            self.show_message("Type your username.")
            return None
        if not self.password.text():
            self.show_message("Type your password: every signature asks for it again.")
            return None
        db, review_id, password = self.context.db, self.status.review.id, self.password.text()
        meaning, version, bundle = self.chosen_meaning(), self.status.review.version, self.status.bundle.hash
        justification, conditions = None, []
        if meaning is SignatureMeaning.APPROVED_WITH_CONDITIONS:
            justification = self.justification.toPlainText()
            try:
                conditions = self.typed_conditions()
            except SignoffError as error:
                self.show_message(str(error))
                return None
        return f"Signing review #{review_id}", lambda control: reviews.sign(
            db,
            review_id,
            username=username,
            password=password,
            meaning=meaning,
            expected_version=version,
            bundle_hash=bundle,
            justification=justification,
            conditions=conditions,
        )

    def typed_conditions(self) -> list:
        """The rows of the conditions table that hold anything, as the terms the service checks."""
        found = []
        for row in range(self.conditions.rowCount()):
            cells = [self.conditions.item(row, column) for column in range(3)]
            text, owner, due = (c.text().strip() if c is not None else "" for c in cells)
            if text or owner or due:
                found.append(parse_condition(f"{text}|owner={owner}|due={due}"))
        return found

    def set_condition(self, row: int, text: str, owner: str, due: str) -> None:
        """Fill one row of the conditions table (adding rows as needed)."""
        while self.conditions.rowCount() <= row:
            self.conditions.insertRow(self.conditions.rowCount())
        for column, value in enumerate((text, owner, due)):
            self.conditions.setItem(row, column, QTableWidgetItem(value))

    def failed(self, message: str) -> None:
        self.password.clear()
        self.password.setFocus()


class RevokeDialog(JobDialog):
    """Withdraw an approval, with the reason recorded (approver or administrator)."""

    def __init__(self, context: AppContext, user: User, status: ReviewStatus, parent: QWidget | None = None):
        review = status.review
        super().__init__(context, f"Revoke review #{review.id}", "&Revoke approval", parent)
        self.user = user
        self.status = status
        explanation = plain_label(
            f"Review #{review.id} is {words(review.state)}. Revoking withdraws the approval for good; the "
            "signatures stay on record. The reason is kept in the audit trail."
        )
        explanation.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setAccessibleName("Reason for revoking")
        self.reason.setTabChangesFocus(True)
        self.reason.setMaximumHeight(100)
        self.form.addRow(explanation)
        self.form.addRow("&Reason:", self.reason)
        self.finish_layout()

    def work(self):
        reason = self.reason.toPlainText()
        if not reason.strip():
            self.show_message("Give the reason for revoking.")
            return None
        db, user, review = self.context.db, self.user, self.status.review
        return f"Revoking review #{review.id}", lambda control: reviews.revoke(
            db, user, review.id, reason=reason, expected_version=review.version
        )
