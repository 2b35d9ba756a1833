"""Registering a log where it lives: a table or Parquet files in DuckDB, PostgreSQL or Spark, not copied.

Opened from the log wizard ("A table or files where they are…"). The first page reads only the source's
columns (in a job); the second maps them, pre-filled by ``guess_mapping``; the third registers the source
through ``services.sources.register_source``. Credentials typed in the URL are used once, never stored.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from signoff.domain.prediction_log import ColumnMapping, LogImport, LogRole
from signoff.services.logs import guess_mapping
from signoff.services.models import list_model_versions
from signoff.services.source_credentials import remember_password
from signoff.services.sources import register_source, source_columns
from signoff.ui.context import AppContext

NONE = "(none)"
URL_HINT = (
    "duckdb:///data/predictions/*.parquet  ·  duckdb:///data/delta_table  ·  postgresql+psycopg://user@host/db"
    "  ·  sc://host:15002"
)


def _plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # source names and engine messages are not markup
    label.setWordWrap(True)
    return label


class SourcePage(QWizardPage):
    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setTitle("A table or files where they are")
        self.setSubTitle(
            "The rows stay in the engine; Signoff asks it for counts. Files named by the URL need no "
            "table or query (nor does a Delta table's folder); a database does. Passwords come from the "
            "environment (PGPASSWORD) or your keyring: a password typed here is kept there, never in "
            "Signoff's database."
        )
        self.url = QLineEdit()
        self.url.setPlaceholderText(URL_HINT)
        self.url.setAccessibleName("Source URL")
        self.table = QLineEdit()
        self.table.setAccessibleName("Table")
        self.query = QPlainTextEdit()
        self.query.setAccessibleName("Query")
        self.query.setMaximumHeight(90)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password, kept in your keyring")
        self.password.setPlaceholderText("PostgreSQL only; leave empty to use the environment or the keyring")
        read = QPushButton("&Read columns")
        read.setAccessibleName("Read the source's columns")
        read.clicked.connect(self.read_columns)
        self.status = _plain_label()
        form = QFormLayout()
        form.addRow("&URL:", self.url)
        form.addRow("&Table:", self.table)
        form.addRow("&Query:", self.query)
        form.addRow("&Password:", self.password)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(read)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.columns: dict[str, str] | None = None

    def where(self) -> tuple[str, str | None, str | None]:
        query = self.query.toPlainText().strip()
        return self.url.text().strip(), self.table.text().strip() or None, query or None

    def read_columns(self) -> None:
        url, table, query = self.where()
        self.columns = None
        self.completeChanged.emit()
        if not url:
            return
        password = self.password.text()
        self.password.clear()  # held no longer than it takes to hand it to the keyring

        def read(_control: object) -> dict[str, str]:
            if password:
                remember_password(url, password)
            return source_columns(url, table=table, query=query)

        self.status.setText("Asking the source for its columns…")
        self.context.run_job(
            "Read the source's columns",
            read,
            self._show_columns,
            on_error=lambda message, _detail: self.status.setText(message),
        )

    def _show_columns(self, columns: dict[str, str]) -> None:
        self.columns = columns
        self.status.setText(f"{len(columns)} columns: " + ", ".join(f"{k} ({v})" for k, v in columns.items()))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.columns)


class SourceMappingPage(QWizardPage):
    SINGLE = ("label", "prediction", "score", "timestamp")

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setTitle("Columns, model version and role")
        self.model_version = QComboBox()
        self.model_version.setAccessibleName("Model version")
        self.role = QComboBox()
        self.role.addItems([role.value for role in LogRole])
        self.role.setAccessibleName("Log role")
        self.combos = {name: QComboBox() for name in self.SINGLE}
        self.sensitive = QListWidget()
        self.sensitive.setAccessibleName("Sensitive columns")
        form = QFormLayout()
        form.addRow("&Model version:", self.model_version)
        form.addRow("&Role:", self.role)
        for name, combo in self.combos.items():
            combo.setAccessibleName(f"{name.capitalize()} column")
            combo.currentTextChanged.connect(self.completeChanged)
            form.addRow(f"{name.capitalize()}:", combo)
        form.addRow("Sensitive:", self.sensitive)
        QVBoxLayout(self).addLayout(form)

    def initializePage(self) -> None:
        columns = list(self.wizard().source_page.columns or {})
        guess = guess_mapping(columns, {c: [] for c in columns})
        self.model_version.clear()
        for version in list_model_versions(self.context.db):
            self.model_version.addItem(f"{version.name} v{version.version}", (version.name, version.version))
        current = self.context.version
        if current is not None:
            self.model_version.setCurrentText(f"{current.name} v{current.version}")
        guessed = {
            "label": guess.label,
            "prediction": guess.prediction,
            "score": guess.scores[0] if guess.scores else None,
            "timestamp": guess.timestamp,
        }
        for name, combo in self.combos.items():
            combo.clear()
            combo.addItem(NONE)
            combo.addItems(columns)
            combo.setCurrentText(guessed[name] or NONE)
        self.sensitive.clear()
        for column in columns:
            item = QListWidgetItem(column)
            checked = column in guess.sensitive
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.sensitive.addItem(item)

    def single(self, role: str) -> str | None:
        text = self.combos[role].currentText()
        return None if text in ("", NONE) else text

    def set_single(self, role: str, column: str | None) -> None:
        self.combos[role].setCurrentText(column or NONE)

    def set_sensitive(self, columns: list[str]) -> None:
        for row in range(self.sensitive.count()):
            item = self.sensitive.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.text() in columns else Qt.CheckState.Unchecked)

    def mapping(self) -> ColumnMapping:
        score = self.single("score")
        return ColumnMapping(
            label=self.single("label") or "",
            prediction=self.single("prediction") or "",
            scores=(score,) if score else (),
            sensitive=tuple(
                self.sensitive.item(r).text()
                for r in range(self.sensitive.count())
                if self.sensitive.item(r).checkState() == Qt.CheckState.Checked
            ),
            timestamp=self.single("timestamp"),
        )

    def isComplete(self) -> bool:
        return bool(self.single("label") and self.single("prediction") and self.model_version.count())


class RegisterPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Register the source")
        self.message = _plain_label()
        QVBoxLayout(self).addWidget(self.message)
        self.outcome: LogImport | None = None

    def show_running(self) -> None:
        self.outcome = None
        self.message.setText("Reading the schema, outcomes and fingerprint in the engine…")
        self.completeChanged.emit()

    def show_outcome(self, outcome: LogImport) -> None:
        self.outcome = outcome
        log = outcome.log
        verb = "Registered" if outcome.created else "Already registered as"
        self.message.setText(
            f"{verb} log {log.id}: {log.rows:,} rows in {log.source_name}.\n"
            f"Labels: {', '.join(log.validation.label_domain)}. The pages analyse it like any log."
        )
        self.completeChanged.emit()

    def show_error(self, message: str) -> None:
        self.message.setText(f"Not registered; nothing was stored.\n{message}")

    def isComplete(self) -> bool:
        return self.outcome is not None


class SourceWizard(QWizard):
    title = "Register a log where it lives"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(self.title)
        self.setAccessibleName(self.title)
        self.source_page = SourcePage(context)
        self.mapping_page = SourceMappingPage(context)
        self.register_page = RegisterPage()
        for page in (self.source_page, self.mapping_page, self.register_page):
            self.addPage(page)
        self.currentIdChanged.connect(self._page_changed)

    def _page_changed(self, page_id: int) -> None:
        if self.page(page_id) is self.register_page:
            self.start_registration()

    def start_registration(self) -> None:
        url, table, query = self.source_page.where()
        name, version = self.mapping_page.model_version.currentData()
        mapping, role = self.mapping_page.mapping(), LogRole(self.mapping_page.role.currentText())
        db, actor = self.context.db, self.context.actor

        def work(control: Any) -> LogImport:
            return register_source(
                db,
                model=name,
                version=version,
                url=url,
                table=table,
                query=query,
                mapping=mapping,
                role=role,
                actor=actor,
                cancelled=control.cancelled,
            )

        self.register_page.show_running()
        self.context.run_job(
            self.title,
            work,
            self.register_page.show_outcome,
            on_error=lambda message, _detail: self.register_page.show_error(message),
        )
