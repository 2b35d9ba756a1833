"""The prediction-log import wizard: choose a file, preview it, map its columns, import or see why not.

The preview reads only the first rows (in a job). The mapping starts from ``guess_mapping`` and every role
can be corrected. A log the importer refuses is shown as a table of failed checks before anything is
stored, with the choice to import again setting the invalid rows aside (quarantine).
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
    LogRejectedError,
    LogRole,
    ValidationReport,
)
from signoff.importers.prediction_log import LogReadOptions
from signoff.services.logs import import_log
from signoff.services.models import list_model_versions
from signoff.ui.context import AppContext
from signoff.ui.frame_model import FrameTableModel
from signoff.ui.wizards.column_guess import guess_mapping

PREVIEW_ROWS = 200
NONE = "(none)"
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16")
Index = QModelIndex | QPersistentModelIndex


def read_preview(path: Path, encoding: str, rows: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first ``rows`` rows of a CSV, Parquet or JSON Lines file, all as text, for the preview only."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            batch = next(parquet.iter_batches(batch_size=rows), None)
            frame = batch.to_pandas() if batch is not None else parquet.schema_arrow.empty_table().to_pandas()
            return frame.astype("string")
        if suffix in (".jsonl", ".ndjson", ".json"):
            return pd.read_json(path, lines=True, nrows=rows, encoding=encoding, dtype=False).astype("string")
        return pd.read_csv(path, nrows=rows, dtype=str, encoding=encoding, sep=None, engine="python")
    except (OSError, ValueError, UnicodeError) as error:
        raise InputError(f"cannot preview {path.name}: {error}", file=str(path)) from error


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
            lambda _control: read_preview(path, encoding),
            self._show_preview,
            on_error=lambda message, _detail: self.status.setText(message),
        )

    def _show_preview(self, frame: pd.DataFrame) -> None:
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
        self.role = QComboBox()
        self.role.addItems([role.value for role in LogRole])
        self.role.setAccessibleName("Log role")
        self.quarantine = QCheckBox("&Quarantine invalid rows instead of refusing the log")
        self.combos = {name: QComboBox() for name in self.SINGLE}
        self.lists = {name: QListWidget() for name in self.MULTI}
        form = QFormLayout()
        form.addRow("&Model version:", self.model_version)
        form.addRow("&Role:", self.role)
        for name, combo in self.combos.items():
            combo.setAccessibleName(f"{name.capitalize()} column")
            combo.currentTextChanged.connect(self.completeChanged)
            form.addRow(f"{name.capitalize()}:", combo)
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

    def initializePage(self) -> None:
        frame: pd.DataFrame = self.wizard().file_page.preview_frame
        columns = [str(c) for c in frame.columns]
        samples = {c: frame[c].dropna().head(50).tolist() for c in columns}
        guess = guess_mapping(columns, samples)
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
        return ColumnMapping(
            label=self.single("label") or "",
            prediction=self.single("prediction") or "",
            scores=self.checked("scores"),
            sensitive=self.checked("sensitive"),
            features=self.checked("features"),
            id=self.single("id"),
            timestamp=self.single("timestamp"),
        )

    def isComplete(self) -> bool:
        return bool(self.single("label") and self.single("prediction") and self.model_version.count())


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
        mapping, role = page.mapping(), LogRole(page.role.currentText())
        options = LogReadOptions(
            encoding=self.file_page.encoding.currentText(), quarantine_invalid=quarantine
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
