"""The audit report of the selected model version: export the PDF, preview it, open its folder, verify it.

Export and verification run in jobs (``services.report.export_report`` / ``verify_report``); the page
adds no rules. The preview is Qt's own PDF renderer (QtPdf), so what is shown is the file on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.palette import COLOURS, Tone
from signoff.domain.registry import ModelVersion
from signoff.services.report import (
    ExportedReport,
    ReportCheck,
    ReportVerification,
    export_report,
    verify_report,
)
from signoff.services.reviews import list_reviews
from signoff.ui.context import AppContext
from signoff.ui.dialogs import documents_folder, version_file_stem
from signoff.ui.records_model import Record, RecordsModel
from signoff.ui.review_badge import BADGE_ACTIONS, review_badge
from signoff.ui.workers import JobControl

PASSED, FAILED, UNDECIDED = "✔ holds", "✘ FAILS", "– not applicable"


def report_file_name(version: ModelVersion) -> str:
    """``credit-risk-v4-audit-report.pdf``: the model and version, safe as a file name everywhere."""
    return f"{version_file_stem(version.name, version.version)}-audit-report.pdf"


class ChecksModel(RecordsModel):
    """The checks of a report's verification; the result is in words, its colour only repeats them."""

    def __init__(self, parent=None) -> None:
        super().__init__(("Check", "Result", "Detail"), parent=parent)

    def set_rows(self, checks: Sequence[ReportCheck]) -> None:
        self.set_records([_check_record(c) for c in checks])


def _check_record(check: ReportCheck) -> Record:
    result = PASSED if check.ok else FAILED if check.ok is False else UNDECIDED
    colour = None if check.ok is None else COLOURS[Tone.GOOD] if check.ok else COLOURS[Tone.ALERT]
    return Record((check.name, result, check.detail), item=check, colours=(None, colour))


class ReportPage(QWidget):
    title = "Report"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.exported: ExportedReport | None = None
        self.verification: ReportVerification | None = None
        self._path_edited = False

        self.heading = QLabel()
        self.heading.setAccessibleName("Report page heading")
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.path_edit = QLineEdit()
        self.path_edit.setAccessibleName("Report file")
        self.path_edit.textEdited.connect(lambda _text: setattr(self, "_path_edited", True))
        self.choose_button = QPushButton("C&hoose…")
        self.choose_button.setAccessibleName("Choose where to save the report")
        self.choose_button.clicked.connect(self.choose_path)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.choose_button)
        self.review_box = QComboBox()
        self.review_box.setAccessibleName("Review the report is bound to")

        self.export_button = QPushButton("&Export PDF")
        self.export_button.setAccessibleName("Export the PDF report")
        self.export_button.setShortcut(QKeySequence("Ctrl+E"))  # only while the Report page is shown
        self.export_button.setToolTip("Export the PDF report (Ctrl+E)")
        self.export_button.clicked.connect(self.export)
        self.folder_button = QPushButton("&Open folder")
        self.folder_button.setAccessibleName("Open the report's folder")
        self.folder_button.clicked.connect(self.open_folder)
        self.folder_button.setEnabled(False)
        self.path_edit.textChanged.connect(lambda text: self.folder_button.setEnabled(bool(text.strip())))
        self.verify_button = QPushButton("&Verify")
        self.verify_button.setAccessibleName("Verify the report file")
        self.verify_button.setShortcut(QKeySequence("Ctrl+Shift+Y"))
        self.verify_button.setToolTip("Verify the report file against the database (Ctrl+Shift+Y)")
        self.verify_button.clicked.connect(self.verify)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Export progress")
        self.progress.setVisible(False)
        buttons = QHBoxLayout()
        for button in (self.export_button, self.folder_button, self.verify_button):
            buttons.addWidget(button)
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)

        form = QFormLayout()
        file_label = QLabel("Fi&le:")
        file_label.setBuddy(self.path_edit)  # Alt+L reaches the field inside the row's layout
        form.addRow(file_label, path_row)
        form.addRow("&Review:", self.review_box)
        # Signing as oneself uses a personal certificate whose key is sealed under the password: asked
        # at each export, like every signature; otherwise the workspace key signs on the person's behalf.
        self.sign_as_me = QCheckBox("&Sign as me with my own certificate (password needed)")
        self.sign_as_me.setAccessibleName("Sign the PDF as me")
        self.sign_password = QLineEdit()
        self.sign_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.sign_password.setAccessibleName("Your password, to sign as yourself")
        self.sign_password.setPlaceholderText("your password")
        self.sign_password.setEnabled(False)
        self.sign_as_me.toggled.connect(self.sign_password.setEnabled)
        sign_row = QHBoxLayout()
        sign_row.addWidget(self.sign_as_me)
        sign_row.addWidget(self.sign_password, 1)
        form.addRow("", sign_row)
        self.result = QLabel("No report exported in this session.")
        self.result.setWordWrap(True)
        self.result.setAccessibleName("Export result")
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setAccessibleName("Verification result")
        self.checks_model = ChecksModel(self)
        self.checks_table = QTableView()
        self.checks_table.setAccessibleName("Verification checks")
        self.checks_table.setModel(self.checks_model)
        self.checks_table.verticalHeader().setVisible(False)
        self.checks_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.checks_table.setWordWrap(False)

        self.document = QPdfDocument(self)
        self.preview = QPdfView()
        self.preview.setAccessibleName("Report preview")
        self.preview.setDocument(self.document)
        self.preview.setPageMode(QPdfView.PageMode.MultiPage)
        self.preview.setZoomMode(QPdfView.ZoomMode.FitToWidth)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.heading)
        left_layout.addLayout(form)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.result)
        left_layout.addWidget(self.verdict)
        left_layout.addWidget(self.checks_table, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 560])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        context.version_changed.connect(lambda _version: self.reload())
        context.evidence_changed.connect(self._maybe_reload)
        self.reload()

    # --- choosing ---------------------------------------------------------------------------------

    def reload(self) -> None:
        version = self.context.version
        self.export_button.setEnabled(version is not None)
        chosen = self.review_box.currentData()
        self.review_box.clear()
        if version is None:
            self.heading.setText("Choose a model version in the Registry to export its audit report.")
            self.path_edit.setText("")
            return
        self.heading.setText(f"<b>Audit report of {escape(version.name)} v{escape(version.version)}</b>")
        statuses = list_reviews(self.context.db, model_version_id=version.id)
        if statuses:
            newest = statuses[-1].review
            self.review_box.addItem(f"Newest review (#{newest.id})", None)
            for status in reversed(statuses):
                review = status.review
                label = f"#{review.id} {review.title} ({review_badge(status).text})".replace("  ", " ")
                self.review_box.addItem(label, review.id)
            if chosen is not None and self.review_box.findData(chosen) >= 0:
                self.review_box.setCurrentIndex(self.review_box.findData(chosen))
        else:
            self.review_box.addItem("No review yet: the report says so", None)
        if not self._path_edited or not self.path_edit.text():
            folder = Path(self.path_edit.text()).parent if self.path_edit.text() else documents_folder()
            self.path_edit.setText(str(folder / report_file_name(version)))

    def _maybe_reload(self, event) -> None:
        if event.action.startswith(BADGE_ACTIONS) and self.context.version is not None:
            self.reload()

    def choose_path(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save the audit report", self.path_edit.text(), "PDF files (*.pdf)"
        )
        if path:
            self.path_edit.setText(path if path.lower().endswith(".pdf") else f"{path}.pdf")
            self._path_edited = True

    def path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    # --- export, preview, verify ------------------------------------------------------------------

    def export(self) -> None:
        version = self.context.version
        if version is None or not self.path_edit.text().strip():
            return
        db, actor, out, review_id = (
            self.context.db,
            self.context.actor,
            self.path(),
            self.review_box.currentData(),
        )
        own_password = self.sign_password.text() if self.sign_as_me.isChecked() else None
        if own_password == "":
            self.result.setText("Type your password to sign the report as yourself.")
            self.sign_password.setFocus()
            return
        self.sign_password.clear()  # asked again at the next export, like every signature

        def work(control: JobControl) -> ExportedReport:
            return export_report(
                db,
                name=version.name,
                version=version.version,
                out=out,
                actor=actor,
                review_id=review_id,
                progress=control.progress,
                sign_as_me_password=own_password,
            )

        self._busy(True)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.result.setText(f"Exporting to {out} …")
        self.document.close()  # the file may be replaced: let go of the old one first
        job = self.context.run_job(
            f"Exporting the report of {version.name} v{version.version}",
            work,
            self._exported,
            on_error=lambda message, detail: self._export_failed(message),
        )
        job.signals.progress.connect(self._progress)
        job.signals.cancelled.connect(lambda: self._export_failed("Export cancelled; nothing was written."))

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"{message} %p%" if message else "%p%")

    def _busy(self, busy: bool) -> None:
        for button in (self.export_button, self.verify_button, self.choose_button):
            button.setEnabled(not busy)

    def _export_failed(self, message: str) -> None:
        self._busy(False)
        self.progress.setVisible(False)
        self.result.setText(f"Not exported: {message}")

    def _exported(self, exported: ExportedReport) -> None:
        self._busy(False)
        self.progress.setVisible(False)
        self.exported = exported
        bound = f"evidence bundle {exported.bundle_hash[:16]}…" if exported.bundle_hash else "no review"
        self.result.setText(
            f"Exported {escape(str(exported.path))} · {exported.pages} pages · {bound}<br>"
            f"SHA-256 of the file: <tt>{exported.sha256}</tt><br>Report id: {exported.report_id}"
        )
        self.show_preview(exported.path)

    def show_preview(self, path: Path) -> None:
        self.document.close()
        self.document.load(str(path))
        if self.document.status() == QPdfDocument.Status.Ready:
            self.preview.pageNavigator().jump(0, self.preview.pageNavigator().currentLocation())

    def folder_url(self) -> QUrl:
        return QUrl.fromLocalFile(str(self.path().parent))

    def open_folder(self) -> None:
        QDesktopServices.openUrl(self.folder_url())

    def verify(self) -> None:
        path, db = self.path(), self.context.db
        if not path.is_file():
            self.verdict.setText(
                f"There is no file {path} to verify: export the report first, or choose one."
            )
            return
        self._busy(True)
        self.verdict.setText(f"Verifying {path} …")
        self.context.run_job(
            f"Verifying {path.name}",
            lambda control: verify_report(db, path),
            self._verified,
            on_error=lambda message, detail: self._verify_failed(message),
        )

    def _verify_failed(self, message: str) -> None:
        self._busy(False)
        self.verdict.setText(f"Could not verify: {message}")

    def _verified(self, verification: ReportVerification) -> None:
        self._busy(False)
        self.verification = verification
        self.checks_model.set_rows(verification.checks)
        self.checks_table.resizeColumnsToContents()
        failed = [c for c in verification.checks if c.ok is False]
        if verification.ok:
            self.verdict.setText(f"✔ {verification.path.name}: every check holds.")
            self.verdict.setStyleSheet(f"color: {COLOURS[Tone.GOOD]}; font-weight: bold;")
        else:
            self.verdict.setText(
                f"✘ {verification.path.name}: {len(failed)} check(s) fail. This file is not the report "
                "Signoff exported, or the database no longer holds what it cites."
            )
            self.verdict.setStyleSheet(f"color: {COLOURS[Tone.ALERT]}; font-weight: bold;")
