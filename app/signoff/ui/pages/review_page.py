"""Review and sign-off of the selected model version: its reviews, findings, who must still sign, signatures.

Everything shown comes from ``services.reviews`` as it stands now (``ReviewStatus``): the bundle hash is
recomputed from the evidence on every read, so a signature over an older bundle shows as stale at once
and a banner says so. Changes are made in the signed-in user's name, in jobs, and always name the
review version that was shown, so a change made meanwhile by someone else is refused, not overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from PySide6.QtCore import QAbstractTableModel, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.decision import BLOCKING_VERDICTS, Verdict
from signoff.domain.evidence_bundle import ReviewStatus
from signoff.domain.palette import COLOURS, Tone
from signoff.domain.review import Finding, Review, ReviewState, Signature
from signoff.domain.users import User
from signoff.services import reviews
from signoff.services.logs import list_logs
from signoff.ui.context import AppContext
from signoff.ui.dialogs import show_error
from signoff.ui.formatting import timestamp, words
from signoff.ui.pages.review_dialogs import (
    FindingDialog,
    JobDialog,
    OpenReviewDialog,
    RevokeDialog,
    SignDialog,
    four_eyes_text,
    monospace_label,
)
from signoff.ui.records_model import Column, Record, RecordsModel, headers_of, record_of
from signoff.ui.review_badge import BADGE_ACTIONS, STALE, review_badge

# Events after which what this page shows may differ: the review itself, or the evidence under it.
RELOADING_ACTIONS = (*BADGE_ACTIONS, "user.")
STALE_COLOUR = STALE.colour


class ReviewsModel(RecordsModel):
    """Reviews of one model version (``ReviewStatus`` rows), oldest first; column 2 is the badge."""

    COLUMNS: tuple[Column, ...] = (
        ("#", lambda s: str(s.review.id)),
        ("Title", lambda s: s.review.title),
        ("Status", lambda s: _status_text(s)),
        ("Opened by", lambda s: s.review.opened_by),
        ("Opened (UTC)", lambda s: timestamp(s.review.opened_at)),
        ("Signatures", lambda s: _signature_count(s.review)),
    )

    def __init__(self, parent=None) -> None:
        super().__init__(headers_of(self.COLUMNS), parent=parent)

    def set_rows(self, statuses: Sequence[ReviewStatus]) -> None:
        self.set_records([self._record(s) for s in statuses])

    def _record(self, status: ReviewStatus) -> Record:
        badge = review_badge(status)
        return record_of(
            status, self.COLUMNS, colours=(None, None, badge.colour), icons=(None, None, badge.icon())
        )


def _status_text(status: ReviewStatus) -> str:
    """The badge, and the state under it when the badge is "stale" (a stale approval is still one)."""
    badge = review_badge(status)
    return f"{badge.text} ({words(status.review.state)})" if badge is STALE else badge.text


def _signature_count(review: Review) -> str:
    current, stale = len(review.current_signatures), len(review.stale_signatures)
    needed = sum(r.count for r in review.requirements)
    return f"{current} of {needed}" + (f" (+{stale} stale)" if stale else "")


class FindingsModel(RecordsModel):
    COLUMNS: tuple[Column, ...] = (
        ("#", lambda f: str(f.number)),
        ("Severity", lambda f: f.severity.value),
        ("Type", lambda f: words(f.type.value)),
        ("Title", lambda f: f.title),
        ("Status", lambda f: f.status.value),
        ("Resolution", lambda f: f.resolution),
        ("Text", lambda f: f.description),
        ("Author", lambda f: f.author),
    )

    def __init__(self, parent=None) -> None:
        super().__init__(headers_of(self.COLUMNS), parent=parent)

    def set_rows(self, findings: Sequence[Finding]) -> None:
        self.set_records([record_of(f, self.COLUMNS) for f in findings])


class SignaturesModel(RecordsModel):
    """Signatures of one review; whether each covers the evidence as it is now needs the review."""

    COLUMNS: tuple[Column, ...] = (
        ("Signer", lambda s: s.signer),
        ("Printed name", lambda s: s.printed_name),
        ("Role", lambda s: s.role.value),
        ("Meaning", lambda s: s.meaning.label),
        ("Signed (UTC)", lambda s: timestamp(s.signed_at)),
    )
    HEADERS = (*headers_of(COLUMNS), "Evidence", "Bundle SHA-256")

    def __init__(self, parent=None) -> None:
        super().__init__(self.HEADERS, parent=parent)
        self.review: Review | None = None

    def set_review(self, review: Review | None) -> None:
        self.review = review
        signatures = review.signatures if review is not None else ()
        self.set_records([self._record(review, s) for s in signatures])

    def _record(self, review: Review, signature: Signature) -> Record:
        current = review.covers_current_evidence(signature)
        texts = tuple(text(signature) for _header, text in self.COLUMNS)
        return Record(
            (*texts, "current" if current else "STALE: evidence changed since", signature.bundle_hash),
            item=signature,
            colours=(*(None,) * len(texts), None if current else STALE_COLOUR),
        )


def _table(name: str, model: QAbstractTableModel, stretch: int) -> QTableView:
    table = QTableView()
    table.setAccessibleName(name)
    table.setModel(model)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    table.setWordWrap(False)
    return table


def _button(text: str, name: str, shortcut: str, slot) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(name)
    button.setShortcut(QKeySequence(shortcut))  # active only while the Review page is shown
    button.setToolTip(f"{name} ({shortcut})")
    button.clicked.connect(slot)
    return button


class ReviewPage(QWidget):
    title = "Review"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.statuses: list[ReviewStatus] = []
        self.dialog: JobDialog | None = None  # the dialog open now, for tests and to avoid two at once

        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)  # user text in it is escaped
        self.heading.setAccessibleName("Review page heading")
        self.acting = QLabel()
        self.acting.setWordWrap(True)
        self.acting.setTextFormat(Qt.TextFormat.PlainText)
        self.acting.setAccessibleName("Acting as")

        self.reviews_model = ReviewsModel(self)
        self.reviews_table = _table("Reviews of this version", self.reviews_model, 1)
        self.reviews_table.setMaximumHeight(150)
        self.reviews_table.selectionModel().currentChanged.connect(lambda *_: self._show_selected())
        self.open_button = _button("&Open review…", "Open a review", "Ctrl+Shift+O", self.open_review)
        self.submit_button = _button(
            "S&ubmit for sign-off", "Submit for sign-off", "Ctrl+Shift+T", self.submit
        )
        self.sign_button = _button("Si&gn…", "Sign the review", "Ctrl+Shift+G", self.sign)
        self.revoke_button = _button("Re&voke…", "Revoke the approval", "Ctrl+Shift+V", self.revoke)
        actions = QVBoxLayout()
        for button in (self.open_button, self.submit_button, self.sign_button, self.revoke_button):
            actions.addWidget(button)
        actions.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.reviews_table, 1)
        top.addLayout(actions)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setAccessibleName("Stale warning")
        self.banner.setStyleSheet(
            f"background: {STALE_COLOUR}; color: white; font-weight: bold; padding: 8px; border-radius: 4px;"
        )
        self.banner.setVisible(False)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)  # user text in it is escaped
        self.summary.setAccessibleName("Review summary")
        self.bundle_hash = monospace_label("")
        self.bundle_hash.setAccessibleName("Evidence bundle SHA-256")
        self.evidence = QLabel()
        self.evidence.setWordWrap(True)
        self.evidence.setTextFormat(Qt.TextFormat.RichText)  # user text in it is escaped
        self.evidence.setAccessibleName("Evidence in the bundle")
        # The policy verdict in words (PASS / FAIL / INSUFFICIENT EVIDENCE, failing rules, waivers) and
        # the conditions an approval set, as obligations: the facts a decision rests on.
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setAccessibleName("Policy verdict")
        self.conditions = QLabel()
        self.conditions.setWordWrap(True)
        self.conditions.setTextFormat(Qt.TextFormat.PlainText)
        self.conditions.setAccessibleName("Conditions")
        evidence_box = QGroupBox("Evidence bundle")
        evidence_layout = QVBoxLayout(evidence_box)
        evidence_layout.addWidget(self.summary)
        evidence_layout.addWidget(self.bundle_hash)
        evidence_layout.addWidget(self.verdict)
        evidence_layout.addWidget(self.evidence)
        evidence_layout.addWidget(self.conditions)

        self.findings_model = FindingsModel(self)
        self.findings_table = _table("Findings", self.findings_model, 3)
        self.findings_table.doubleClicked.connect(lambda _index: self.edit_finding())
        self.add_finding_button = _button("&Add finding…", "Add a finding", "Ctrl+Shift+F", self.add_finding)
        self.edit_finding_button = _button(
            "&Edit finding…", "Edit the chosen finding", "Ctrl+Shift+E", self.edit_finding
        )
        self.resolve_button = _button(
            "&Resolve finding…", "Resolve the chosen finding", "Ctrl+Shift+R", self.resolve_finding
        )
        finding_buttons = QHBoxLayout()
        for button in (self.add_finding_button, self.edit_finding_button, self.resolve_button):
            finding_buttons.addWidget(button)
        finding_buttons.addStretch(1)
        findings_box = QGroupBox("Findings")
        findings_layout = QVBoxLayout(findings_box)
        findings_layout.addWidget(self.findings_table)
        findings_layout.addLayout(finding_buttons)

        self.must_sign = QLabel()
        self.must_sign.setWordWrap(True)
        self.must_sign.setTextFormat(Qt.TextFormat.RichText)  # user text in it is escaped
        self.must_sign.setAccessibleName("Who must still sign")
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        self.rule.setTextFormat(Qt.TextFormat.PlainText)
        self.rule.setAccessibleName("Four-eyes rule")
        self.signatures_model = SignaturesModel(self)
        self.signatures_table = _table("Signatures", self.signatures_model, 6)
        signatures_box = QGroupBox("Signatures")
        signatures_layout = QVBoxLayout(signatures_box)
        signatures_layout.addWidget(self.must_sign)
        signatures_layout.addWidget(self.rule)
        signatures_layout.addWidget(self.signatures_table)

        self.details = QWidget()
        details_layout = QVBoxLayout(self.details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(evidence_box)
        details_layout.addWidget(findings_box, 1)
        details_layout.addWidget(signatures_box, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.acting)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.details, 1)
        layout.addStretch(0)  # takes the room only while no review is shown

        context.version_changed.connect(lambda _version: self.reload())
        context.user_changed.connect(lambda _user: self._show_selected())
        context.evidence_changed.connect(self._maybe_reload)
        self.reload()

    # --- reading ----------------------------------------------------------------------------------

    def selected(self) -> ReviewStatus | None:
        index = self.reviews_table.currentIndex()
        return self.statuses[index.row()] if index.isValid() and index.row() < len(self.statuses) else None

    def selected_finding(self) -> Finding | None:
        status = self.selected()
        index = self.findings_table.currentIndex()
        if status is None or not index.isValid():
            return None
        return self.findings_model.record(index.row()).item

    def reload(self, select_id: int | None = None) -> None:
        """Read the version's reviews again (a few indexed reads: no job needed) and keep the selection."""
        version = self.context.version
        current = self.selected()
        keep = select_id if select_id is not None else (current.review.id if current else None)
        if version is None:
            self.statuses = []
            self.heading.setText("Choose a model version in the Registry to review it.")
        else:
            self.statuses = reviews.list_reviews(self.context.db, model_version_id=version.id)
            self.heading.setText(
                f"<b>Reviews of {escape(version.name)} v{escape(version.version)}</b>"
                + ("" if self.statuses else " — none yet: open one to start the sign-off.")
            )
        self.reviews_model.set_rows(self.statuses)
        self.reviews_table.resizeColumnsToContents()
        if self.statuses:
            ids = [s.review.id for s in self.statuses]
            row = ids.index(keep) if keep in ids else len(ids) - 1  # default: the newest review
            self.reviews_table.setCurrentIndex(self.reviews_model.index(row, 0))
        self._show_selected()

    def _maybe_reload(self, event) -> None:
        if event.action.startswith(RELOADING_ACTIONS) and self.context.version is not None:
            self.reload()

    def _show_selected(self) -> None:
        status = self.selected()
        user = self.context.user
        if user is None:
            self.acting.setText("Not signed in: sign in to open reviews, write findings or revoke.")
        else:
            roles = ", ".join(sorted(r.value for r in user.roles))
            self.acting.setText(f"Acting as {user.full_name} ({user.username}; {roles}).")
        self.open_button.setEnabled(self.context.version is not None)
        self.details.setVisible(status is not None)
        state = status.review.state if status else None
        editable = state in (ReviewState.DRAFT, ReviewState.IN_REVIEW)
        self.submit_button.setEnabled(state is ReviewState.DRAFT)
        self.sign_button.setEnabled(state is ReviewState.IN_REVIEW)
        self.revoke_button.setEnabled(state in (ReviewState.APPROVED, ReviewState.APPROVED_WITH_CONDITIONS))
        self.add_finding_button.setEnabled(editable)
        self.edit_finding_button.setEnabled(editable)
        self.resolve_button.setEnabled(editable)
        self.banner.setVisible(False)
        if status is None:
            self.findings_model.set_rows([])
            self.signatures_model.set_review(None)
            return
        review, bundle = status.review, status.bundle
        self.summary.setText(self._summary(status))
        self.bundle_hash.setText(bundle.hash)
        logs = ", ".join(
            f"#{log.log_id} {escape(log.source_name)} ({log.role}, {log.rows:,} rows)" for log in bundle.logs
        )
        analyses = ", ".join(
            f"{escape(a.kind)} #{a.run_id} by {escape(a.produced_by or '?')}" for a in bundle.analyses
        )
        policy = bundle.policy_evaluation_sha256
        self.evidence.setText(
            f"Logs: {logs or 'none'}<br>Analyses: {analyses or 'none'}<br>"
            f"Policy evaluation: {policy[:16] + '…' if policy else 'none'} · "
            f"{len(bundle.findings)} finding(s)"
        )
        verdict = status.verdict
        self.verdict.setText("Policy verdict: " + "\n".join(verdict.lines()))
        self.verdict.setStyleSheet(
            f"color: {COLOURS[Tone.ALERT]}; font-weight: bold;"
            if verdict.verdict in BLOCKING_VERDICTS
            else (
                f"color: {COLOURS[Tone.GOOD]}; font-weight: bold;" if verdict.verdict is Verdict.PASS else ""
            )
        )
        today = datetime.now(UTC).date()
        overdue = [c for c in status.conditions if c.is_overdue(today)]
        self.conditions.setText(
            "Conditions:\n"
            + "\n".join(
                f"#{c.id} {c.terms.text} — owner {c.terms.owner}, due {c.terms.due.isoformat()}, "
                f"{words(c.status)}" + (" — OVERDUE" if c.is_overdue(today) else "")
                for c in status.conditions
            )
            if status.conditions
            else ""
        )
        self.conditions.setStyleSheet(f"color: {COLOURS[Tone.ALERT]};" if overdue else "")
        self.conditions.setVisible(bool(status.conditions))
        self.findings_model.set_rows(review.findings)
        self.findings_table.resizeColumnsToContents()
        self.signatures_model.set_review(review)
        self.signatures_table.resizeColumnsToContents()
        self.must_sign.setText(self._who_must_sign(review))
        self.rule.setText(four_eyes_text(status))
        if review_badge(status) is STALE:
            stale = review.stale_signatures
            signed = sorted({s.bundle_hash[:12] for s in stale})
            self.banner.setText(
                f"⚠ STALE: the evidence changed after {len(stale)} signature(s) were given "
                f"({', '.join(s.signer for s in stale)}): they signed bundle {', '.join(signed)}…, "
                f"the evidence is now {bundle.hash[:12]}…. Those signatures no longer count: "
                + (
                    "they must sign the current evidence again."
                    if review.state is ReviewState.IN_REVIEW
                    else "the decision does not rest on the current evidence; revoke it or open a new "
                    "review that supersedes this one."
                )
            )
            self.banner.setVisible(True)

    def _summary(self, status: ReviewStatus) -> str:
        review = status.review
        parts = [
            f"Review #{review.id}" + (f" “{escape(review.title)}”" if review.title else ""),
            f"<b>{_status_text(status)}</b>",
            f"opened by {escape(review.opened_by)} on {timestamp(review.opened_at)} UTC",
            f"version {review.version}",
        ]
        if review.decided_at is not None:
            parts.append(f"decided {timestamp(review.decided_at)} UTC")
        if review.revocation is not None:
            parts.append(f"revoked by {escape(review.revocation.by)}: {escape(review.revocation.reason)}")
        if review.supersedes:
            parts.append(f"supersedes #{review.supersedes}")
        if review.superseded_by:
            parts.append(f"superseded by #{review.superseded_by}")
        if status.evidence_changed and not review.is_stale:
            parts.append("the evidence changed since it was last recorded")
        return " · ".join(parts)

    @staticmethod
    def _who_must_sign(review: Review) -> str:
        required = ", ".join(f"{r.count} {r.role.value}" for r in review.requirements)
        if review.state is ReviewState.DRAFT:
            return f"Needs {required} signature(s) once submitted for sign-off."
        if review.state is ReviewState.IN_REVIEW:
            missing = ", ".join(f"{r.count} more {r.role.value}" for r in review.outstanding())
            return f"Required: {required}. Still to sign: <b>{missing or 'nobody'}</b>."
        return f"Required: {required}. Decided: {words(review.state)}; nobody else signs."

    # --- changing ---------------------------------------------------------------------------------

    def _user_for(self, what: str) -> User | None:
        if self.context.user is None:
            show_error(
                self,
                f"Sign in to {what}",
                f"Changes to reviews are made in your name: sign in first, then {what}.",
            )
        return self.context.user

    def _open(self, dialog: JobDialog) -> JobDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.succeeded.connect(lambda status: self.reload(select_id=status.review.id))
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()  # window-modal, no nested event loop
        return dialog

    def open_review(self) -> JobDialog | None:
        version = self.context.version
        user = self._user_for("open a review")
        if version is None or user is None:
            return None
        logs = list_logs(self.context.db, model=version.name, version=version.version)
        return self._open(OpenReviewDialog(self.context, user, version, logs, self.statuses, self))

    def add_finding(self) -> JobDialog | None:
        status, user = self.selected(), self._user_for("write a finding")
        if status is None or user is None:
            return None
        return self._open(FindingDialog(self.context, user, status, parent=self))

    def edit_finding(self, *, resolve: bool = False) -> JobDialog | None:
        status, finding = self.selected(), self.selected_finding()
        if status is None or not self.edit_finding_button.isEnabled():  # e.g. a double-click once decided
            return None
        if finding is None:
            show_error(self, "Choose a finding", "Choose the finding to change in the table first.")
            return None
        user = self._user_for("change a finding")
        if user is None:
            return None
        return self._open(FindingDialog(self.context, user, status, finding, resolve=resolve, parent=self))

    def resolve_finding(self) -> JobDialog | None:
        return self.edit_finding(resolve=True)

    def submit(self) -> None:
        status, user = self.selected(), self._user_for("submit a review")
        if status is None or user is None:
            return
        db, review = self.context.db, status.review
        self.submit_button.setEnabled(False)
        self.context.run_job(
            f"Submitting review #{review.id}",
            lambda control: reviews.submit(db, user, review.id, expected_version=review.version),
            lambda after: self.reload(select_id=after.review.id),
            on_error=lambda message, detail: self._show_selected(),
        )

    def sign(self) -> JobDialog | None:
        status, version = self.selected(), self.context.version
        if status is None or version is None:
            return None
        return self._open(SignDialog(self.context, status, version, self))

    def revoke(self) -> JobDialog | None:
        status, user = self.selected(), self._user_for("revoke an approval")
        if status is None or user is None:
            return None
        return self._open(RevokeDialog(self.context, user, status, self))
