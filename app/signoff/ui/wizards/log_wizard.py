"""The prediction-log import wizard: choose a file, preview it, map its columns, import or see why not.

The preview reads only the first rows (in a job) with the importer's own readers and format detection
(``propose_mapping``), so it never disagrees with the import. The mapping, the timestamp format and
the prediction vocabulary start from that proposal and every one can be corrected. A log the importer
refuses is shown as a table of failed checks before anything is stored, with the choice to import again
setting the invalid rows aside (quarantine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from signoff.domain.errors import InputError
from signoff.domain.prediction_log import (
    ColumnMapping,
    LogImport,
    LogReadOptions,
    LogRejectedError,
    LogRole,
    ValidationReport,
    parse_category_map,
    parse_prediction_map,
)
from signoff.services.logs import PREVIEW_ROWS, MappingProposal, import_log, preview_log, propose_mapping
from signoff.services.models import add_model_version, list_model_versions
from signoff.ui.context import AppContext
from signoff.ui.frame_model import FrameTableModel

NONE = "(none)"
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16")
Index = QModelIndex | QPersistentModelIndex


def read_preview(path: Path, encoding: str, rows: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first ``rows`` rows of a log, as text, read exactly as the importer reads the file."""
    return preview_log(path, encoding=encoding, rows=rows)


class IssuesModel(QAbstractTableModel):
    """The failed checks of a refused log: check, column, count, first rows, message."""

    HEADERS = ("Check", "Column", "Count", "First rows", "What to do")

    def __init__(self, report: ValidationReport | None = None, parent=None) -> None:
        super().__init__(parent)
        self._issues = list(report.issues) if report else []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._issues)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        issue = self._issues[index.row()]
        values = (
            issue.check,
            issue.column or "",
            str(issue.count),
            ", ".join(map(str, issue.rows)),
            issue.message,
        )
        return values[index.column()]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


class FilePage(QWizardPage):
    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setTitle("Prediction log file")
        self.setSubTitle(f"CSV, Parquet or JSON Lines; the preview shows the first {PREVIEW_ROWS} rows.")
        self.path = QLineEdit()
        self.path.setAccessibleName("Log file")
        browse = QPushButton("&Browse…")
        browse.setAccessibleName("Browse for the log file")
        browse.clicked.connect(self._browse)
        self.encoding = QComboBox()
        self.encoding.setEditable(True)
        self.encoding.addItems(ENCODINGS)
        self.encoding.setAccessibleName("Encoding")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.preview_model = FrameTableModel()
        self.preview = QTableView()
        self.preview.setModel(self.preview_model)
        self.preview.setAccessibleName("Preview of the first rows")
        row = QHBoxLayout()
        row.addWidget(self.path)
        row.addWidget(browse)
        form = QFormLayout()
        file_label = QLabel("&File:")
        file_label.setBuddy(self.path)
        form.addRow(file_label, row)
        form.addRow("&Encoding:", self.encoding)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.preview)
        self.preview_frame: pd.DataFrame | None = None
        self.proposal: MappingProposal | None = None
        self.path.editingFinished.connect(self.load_preview)
        self.encoding.currentTextChanged.connect(lambda _text: self.load_preview())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Prediction log", "", "Logs (*.csv *.parquet *.jsonl *.ndjson);;All files (*)"
        )
        if path:
            self.path.setText(path)
            self.load_preview()

    def load_preview(self) -> None:
        text = self.path.text().strip()
        self.preview_frame = None
        self.completeChanged.emit()
        if not text:
            return
        path, encoding = Path(text), self.encoding.currentText()
        self.status.setText("Reading the first rows…")
        self.context.run_job(
            "Preview the log",
            lambda _control: propose_mapping(path, encoding=encoding),
            self._show_preview,
            on_error=lambda message, _detail: self.status.setText(message),
        )

    def _show_preview(self, proposal: MappingProposal) -> None:
        frame = proposal.preview
        self.proposal = proposal
        self.preview_frame = frame
        self.preview_model.set_frame(frame)
        self.status.setText(f"{len(frame.columns)} columns; first {len(frame)} rows shown.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.preview_frame is not None and len(self.preview_frame.columns) > 0


class MappingPage(QWizardPage):
    """One combo box per single role, one check list per multi-column role; the guess fills them."""

    SINGLE = ("label", "prediction", "id", "timestamp")
    MULTI = ("scores", "sensitive", "features")

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setTitle("Columns, model version and role")
        self.setSubTitle("Signoff guessed the roles from the column names; correct any of them.")
        self.model_version = QComboBox()
        self.model_version.setAccessibleName("Model version")
        self.new_version = QPushButton("&New model version…")
        self.new_version.setAccessibleName("Register a new model version for this log")
        self.new_version.clicked.connect(self._ask_new_version)
        self.version_note = QLabel()
        self.version_note.setTextFormat(Qt.TextFormat.PlainText)
        self.role = QComboBox()
        self.role.addItems([role.value for role in LogRole])
        self.role.setCurrentText(LogRole.VALIDATION.value)  # the command line's default too
        self.role.setAccessibleName("Log role")
        self.quarantine = QCheckBox("&Quarantine invalid rows instead of refusing the log")
        self.merge_spellings = QCheckBox(
            "Merge category &spellings that differ only in case, spaces or Unicode form (recorded in the mapping)"
        )
        self.date_format = QLineEdit()
        self.date_format.setAccessibleName("Date format")
        self.date_format.setPlaceholderText("decided from the values, e.g. %d/%m/%Y %H:%M")
        self.date_note = QLabel()
        self.date_note.setTextFormat(Qt.TextFormat.PlainText)
        self.date_note.setWordWrap(True)
        self.prediction_map = QLineEdit()
        self.prediction_map.setAccessibleName("Prediction means")
        self.prediction_map.setPlaceholderText(
            "when predictions use other words, e.g. Approved=Repaid Declined=Defaulted"
        )
        self.positive_label = QLineEdit()
        self.positive_label.setAccessibleName("Favourable label")
        self.category_map = QLineEdit()
        self.category_map.setAccessibleName("Category merges")
        self.category_map.setPlaceholderText("e.g. Gender:female=Female (spellings of one group)")
        self.combos = {name: QComboBox() for name in self.SINGLE}
        self.lists = {name: QListWidget() for name in self.MULTI}
        form = QFormLayout()
        version_row = QHBoxLayout()
        version_row.addWidget(self.model_version, 1)
        version_row.addWidget(self.new_version)
        form.addRow("&Model version:", version_row)
        form.addRow("", self.version_note)
        form.addRow("&Role:", self.role)
        for name, combo in self.combos.items():
            combo.setAccessibleName(f"{name.capitalize()} column")
            combo.currentTextChanged.connect(self.completeChanged)
            combo.currentTextChanged.connect(self._leave_features)
            form.addRow(f"{name.capitalize()}:", combo)
        form.addRow("&Date format:", self.date_format)
        form.addRow("", self.date_note)
        form.addRow("Prediction &means:", self.prediction_map)
        form.addRow("&Favourable label:", self.positive_label)
        form.addRow("&Category merges:", self.category_map)
        lists = QHBoxLayout()
        for name, widget in self.lists.items():
            widget.setAccessibleName(f"{name.capitalize()} columns")
            box = QVBoxLayout()
            box.addWidget(QLabel(f"{name.capitalize()}:"))
            box.addWidget(widget)
            lists.addLayout(box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(lists)
        layout.addWidget(self.quarantine)
        layout.addWidget(self.merge_spellings)

    def _ask_new_version(self) -> None:
        name, ok = QInputDialog.getText(self, "New model version", "Model name:")
        if not ok or not name.strip():
            return
        version, ok = QInputDialog.getText(self, "New model version", f"Version of {name.strip()}:")
        if ok and version.strip():
            self.create_version(name, version)

    def create_version(self, name: str, version: str) -> None:
        """Register the model version (audited, as the signed-in user) and choose it for this log."""
        db, actor = self.context.db, self.context.actor

        def created(model_version) -> None:
            label = f"{model_version.name} v{model_version.version}"
            self.model_version.addItem(label, (model_version.name, model_version.version))
            self.model_version.setCurrentText(label)
            self.version_note.setText(f"Registered {label}.")
            self.completeChanged.emit()

        self.context.run_job(
            "Register a model version",
            lambda _control: add_model_version(db, name=name, version=version, actor=actor),
            created,
            on_error=lambda message, _detail: self.version_note.setText(message),
        )

    def _leave_features(self, column: str) -> None:
        """A column given a single role (label, prediction, id, timestamp) is no longer a feature."""
        if column and column != NONE:
            self.set_checked("features", [c for c in self.checked("features") if c != column])

    def initializePage(self) -> None:
        proposal: MappingProposal = self.wizard().file_page.proposal
        frame = proposal.preview
        columns = [str(c) for c in frame.columns]
        guess = proposal.guess
        self.date_format.setText(proposal.timestamp_format or "")
        self.date_note.setText(f"Timestamps: {proposal.timestamp_note}" if proposal.timestamp_note else "")
        self.prediction_map.setText("")
        if proposal.prediction_map_needed:
            self.prediction_map.setPlaceholderText(
                f"the predictions ({', '.join(proposal.prediction_values)}) use other words than the labels "
                f"({', '.join(proposal.label_values)}): say which means which, e.g. "
                + " ".join(f"{p}=LABEL" for p in proposal.prediction_values)
            )
        self.model_version.clear()
        for version in list_model_versions(self.context.db):
            self.model_version.addItem(f"{version.name} v{version.version}", (version.name, version.version))
        current = self.context.version
        if current is not None:
            self.model_version.setCurrentText(f"{current.name} v{current.version}")
        for name, combo in self.combos.items():
            combo.clear()
            combo.addItem(NONE)  # label and prediction left at "(none)" keep Next disabled
            combo.addItems(columns)
            combo.setCurrentText(getattr(guess, name) or NONE)
        for name, widget in self.lists.items():
            widget.clear()
            chosen = set(getattr(guess, name))
            for column in columns:
                item = QListWidgetItem(column)
                item.setCheckState(Qt.CheckState.Checked if column in chosen else Qt.CheckState.Unchecked)
                widget.addItem(item)

    def set_single(self, role: str, column: str | None) -> None:
        self.combos[role].setCurrentText(column or NONE)

    def set_checked(self, role: str, columns: list[str]) -> None:
        widget = self.lists[role]
        for row in range(widget.count()):
            item = widget.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.text() in columns else Qt.CheckState.Unchecked)

    def checked(self, role: str) -> tuple[str, ...]:
        widget = self.lists[role]
        return tuple(
            widget.item(r).text()
            for r in range(widget.count())
            if widget.item(r).checkState() == Qt.CheckState.Checked
        )

    def single(self, role: str) -> str | None:
        text = self.combos[role].currentText()
        return None if text in ("", NONE) else text

    def mapping(self) -> ColumnMapping:
        """The mapping as chosen; raises ``InputError`` for a prediction map or merge not written as shown."""
        return ColumnMapping(
            label=self.single("label") or "",
            prediction=self.single("prediction") or "",
            scores=self.checked("scores"),
            sensitive=self.checked("sensitive"),
            features=self.checked("features"),
            id=self.single("id"),
            timestamp=self.single("timestamp"),
            timestamp_format=self.date_format.text().strip() or None if self.single("timestamp") else None,
            prediction_map=parse_prediction_map(self.prediction_map.text().split()),
            positive_label=self.positive_label.text().strip() or None,
            category_map=parse_category_map(_merges(self.category_map.text())),
        )

    def isComplete(self) -> bool:
        return bool(self.single("label") and self.single("prediction") and self.model_version.count())


def _merges(text: str) -> list[str]:
    """Merges separated by ";" or new lines (a value may hold spaces, so spaces do not separate)."""
    return [item for item in text.replace("\n", ";").split(";") if item.strip()]


class ImportPage(QWizardPage):
    """Runs the import; shows the stored log, or the failed checks with a quarantine re-run."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Import")
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setAccessibleName("Import result")
        self.issues_model = IssuesModel()
        self.issues = QTableView()
        self.issues.setAccessibleName("Validation problems")
        self.issues.setModel(self.issues_model)
        self.issues.horizontalHeader().setStretchLastSection(True)
        self.rerun = QPushButton("Import again, &quarantining invalid rows")
        self.rerun.setAccessibleName("Import again with quarantine")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.issues)
        layout.addWidget(self.rerun)
        self.outcome: LogImport | None = None
        self.report: ValidationReport | None = None

    def show_running(self) -> None:
        self.outcome, self.report = None, None
        self.summary.setPlainText("Importing… (progress and Cancel are in the status bar)")
        self.issues.hide()
        self.rerun.hide()
        self.completeChanged.emit()

    def show_outcome(self, outcome: LogImport | ValidationReport) -> None:
        if isinstance(outcome, ValidationReport):
            self.report = outcome
            self.issues_model = IssuesModel(outcome)
            self.issues.setModel(self.issues_model)
            self.issues.resizeColumnsToContents()
            self.summary.setPlainText(
                f"The log was refused: {len(outcome.issues)} check(s) failed on {outcome.rows_read} rows. "
                "Nothing was stored. Correct the mapping (Back), or import again setting invalid rows aside."
            )
            self.issues.show()
            self.rerun.show()
        else:
            self.outcome = outcome
            log = outcome.log
            stored = "Stored" if outcome.created else "Already stored (same file, mapping and role)"
            self.summary.setPlainText(
                f"{stored}: {log.rows} rows as the {log.role.value} log, SHA-256 {log.evidence_sha256}.\n"
                f"Rows read {log.validation.rows_read}, kept {log.validation.rows_kept}."
                + (
                    f"\nInvalid rows set aside as evidence {log.quarantine_sha256}."
                    if log.quarantine_sha256
                    else ""
                )
                + "".join(f"\nRead as: {line}" for line in log.mapping.interpretations())
                + (
                    f"\n{log.validation.rows_unlabelled} rows have no label yet (kept, unlabelled)."
                    if log.validation.rows_unlabelled
                    else ""
                )
                + "".join(f"\nWarning: {w.message}" for w in log.validation.warnings)
            )
        self.completeChanged.emit()

    def show_error(self, message: str) -> None:
        self.summary.setPlainText(f"Nothing was imported.\n\n{message}")

    def isComplete(self) -> bool:
        return self.outcome is not None


class LogImportWizard(QWizard):
    title = "Import a prediction log"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(self.title)
        self.setAccessibleName(self.title)
        self.file_page = FilePage(context)
        self.mapping_page = MappingPage(context)
        self.import_page = ImportPage()
        for page in (self.file_page, self.mapping_page, self.import_page):
            self.addPage(page)
        self.currentIdChanged.connect(self._page_changed)
        self.import_page.rerun.clicked.connect(lambda: self.start_import(quarantine=True))
        # A log that stays in a warehouse or lake is registered by its own wizard (source_wizard.py).
        self.setButtonText(QWizard.WizardButton.CustomButton1, "A table or files where they are…")
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.customButtonClicked.connect(self.open_source_wizard)

    def open_source_wizard(self) -> QWizard:
        from signoff.ui.wizards.source_wizard import SourceWizard

        wizard = SourceWizard(self.context, self.parentWidget())
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.open()
        self.reject()
        return wizard

    def _page_changed(self, page_id: int) -> None:
        if self.page(page_id) is self.import_page:
            self.start_import(quarantine=self.mapping_page.quarantine.isChecked())

    def start_import(self, *, quarantine: bool) -> None:
        page = self.mapping_page
        path = Path(self.file_page.path.text().strip())
        name, version = page.model_version.currentData()
        try:
            mapping = page.mapping()
        except InputError as error:
            self.import_page.show_error(str(error))
            return
        role = LogRole(page.role.currentText())
        options = LogReadOptions(
            encoding=self.file_page.encoding.currentText(),
            quarantine_invalid=quarantine,
            merge_spellings=page.merge_spellings.isChecked(),
        )
        db, actor = self.context.db, self.context.actor

        def work(control):
            try:
                return import_log(
                    db,
                    path,
                    model=name,
                    version=version,
                    mapping=mapping,
                    role=role,
                    options=options,
                    actor=actor,
                    progress=lambda stage, done, total: control.progress(
                        done / total if total else 0.0, stage
                    ),
                )
            except LogRejectedError as error:
                return error.report  # shown as a table, not as an error dialog

        self.import_page.show_running()
        self.context.run_job(
            self.title,
            work,
            self.import_page.show_outcome,
            on_error=lambda message, _detail: self.import_page.show_error(message),
        )
