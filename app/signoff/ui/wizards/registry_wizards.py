"""Registry import wizards: an MLflow server, a SageMaker export file, a Hugging Face model card file.

Each wizard gathers a request, runs the import service in a job (progress and Cancel in the status bar,
errors in a dialog) and shows the result: how many versions and which changes since the last import.
Credentials live only in the ``MlflowSettings`` handed to the job; nothing is written to disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QWidget,
    QWizard,
    QWizardPage,
)

from signoff.domain.registry_history import RegistryImportResult
from signoff.services import registry_import
from signoff.ui.context import AppContext
from signoff.ui.workers import JobControl


def result_text(result: RegistryImportResult) -> str:
    lines = [
        f"Imported {result.versions} version(s) of {result.models} model(s) from {result.source_uri}.",
        f"Snapshot {result.snapshot_id}, SHA-256 {result.snapshot_sha256}.",
    ]
    if result.previous_snapshot_id is None:
        lines.append("First import of this source: no earlier snapshot to compare with.")
    elif not result.changes:
        lines.append("No changes since the previous import.")
    else:
        lines.append(f"{len(result.changes)} change(s) since the previous import:")
    lines += [f"  • {change.summary}" for change in result.changes]
    return "\n".join(lines)


def _file_row(parent: QWidget, name: str, filter_: str) -> tuple[QWidget, QLineEdit]:
    row = QWidget(parent)
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    edit = QLineEdit()
    edit.setAccessibleName(name)
    browse = QPushButton("Browse…")
    browse.setAccessibleName(f"Browse for {name.lower()}")

    def choose() -> None:
        path, _ = QFileDialog.getOpenFileName(parent, name, "", filter_)
        if path:
            edit.setText(path)

    browse.clicked.connect(choose)
    layout.addWidget(edit)
    layout.addWidget(browse)
    return row, edit


class ResultPage(QWizardPage):
    """The last page: waits for the job, then shows what was imported."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Result")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Import result")
        self.result: RegistryImportResult | None = None
        layout = QFormLayout(self)
        layout.addRow(self.text)

    def show_running(self) -> None:
        self.result = None
        self.text.setPlainText("Importing… (progress and Cancel are in the status bar)")
        self.completeChanged.emit()

    def show_result(self, result: RegistryImportResult) -> None:
        self.result = result
        self.text.setPlainText(result_text(result))
        self.completeChanged.emit()

    def show_error(self, message: str) -> None:
        self.text.setPlainText(f"Nothing was imported.\n\n{message}\n\nGo Back to correct the request.")

    def isComplete(self) -> bool:
        return self.result is not None


class RegistryWizard(QWizard):
    """A request page, then a result page; going to the result page starts the import job."""

    title = "Import"

    def __init__(self, context: AppContext, request_page: QWizardPage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(self.title)
        self.setAccessibleName(self.title)
        self.request_page = request_page
        self.result_page = ResultPage()
        self.addPage(request_page)
        self.addPage(self.result_page)
        self.currentIdChanged.connect(self._page_changed)
        self.job = None

    def _page_changed(self, page_id: int) -> None:
        if self.page(page_id) is self.result_page:
            self.result_page.show_running()
            self.job = self.context.run_job(
                self.title,
                self.work(),
                self.result_page.show_result,
                on_error=lambda message, _detail: self.result_page.show_error(message),
            )
            self.job.signals.cancelled.connect(
                lambda: self.result_page.show_error("the import was cancelled; nothing was stored")
            )

    def work(self):
        raise NotImplementedError  # each wizard builds its own job function


class MlflowRequestPage(QWizardPage):
    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setTitle("MLflow tracking server")
        self.setSubTitle("Credentials are used for this import only and never stored.")
        form = QFormLayout(self)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://mlflow.example.com")
        self.url.setAccessibleName("Tracking server URL")
        form.addRow("Server &URL:", self.url)
        self.use_none = QRadioButton("&None")
        self.use_token = QRadioButton("&Token")
        self.use_password = QRadioButton("User name and &password")
        self.use_none.setChecked(True)
        group = QButtonGroup(self)
        auth = QWidget()
        auth_layout = QHBoxLayout(auth)
        auth_layout.setContentsMargins(0, 0, 0, 0)
        for button in (self.use_none, self.use_token, self.use_password):
            group.addButton(button)
            auth_layout.addWidget(button)
        form.addRow("Sign-in:", auth)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName("Access token")
        self.username = QLineEdit()
        self.username.setAccessibleName("User name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        form.addRow("Token:", self.token)
        form.addRow("User name:", self.username)
        form.addRow("Password:", self.password)
        for button in (self.use_none, self.use_token, self.use_password):
            button.toggled.connect(self._auth_changed)
        self._auth_changed()
        self.models = QListWidget()
        self.models.setAccessibleName("Models to import (none checked: all)")
        self.fetch = QPushButton("&Fetch model names")
        self.fetch.setAccessibleName("Fetch model names from the server")
        self.fetch.clicked.connect(self.fetch_model_names)
        self.fetch_status = QLabel("No model checked imports every model of the server.")
        self.fetch_status.setWordWrap(True)
        form.addRow("Models:", self.models)
        form.addRow(self.fetch, self.fetch_status)
        self.url.textChanged.connect(self.completeChanged)

    def _auth_changed(self) -> None:
        self.token.setEnabled(self.use_token.isChecked())
        self.username.setEnabled(self.use_password.isChecked())
        self.password.setEnabled(self.use_password.isChecked())

    def isComplete(self) -> bool:
        return bool(self.url.text().strip())

    def settings(self) -> Any:
        """The credentials typed here (an ``MlflowSettings``), never written anywhere."""
        if self.use_token.isChecked():
            return registry_import.mlflow_settings(token=self.token.text())
        if self.use_password.isChecked():
            return registry_import.mlflow_settings(
                username=self.username.text(), password=self.password.text()
            )
        return registry_import.mlflow_settings()

    def chosen_models(self) -> list[str] | None:
        chosen = [
            self.models.item(row).text()
            for row in range(self.models.count())
            if self.models.item(row).checkState() == Qt.CheckState.Checked
        ]
        return chosen or None

    def fetch_model_names(self) -> None:
        url, settings = self.url.text().strip(), self.settings()

        def work(control: JobControl) -> list[str]:
            return registry_import.mlflow_model_names(url, settings=settings, cancelled=control.cancelled)

        self.fetch_status.setText("Fetching…")
        self.context.run_job(
            "Fetch MLflow model names",
            work,
            self._show_names,
            on_error=lambda message, _detail: self.fetch_status.setText(message),
        )

    def _show_names(self, names: list[str]) -> None:
        self.models.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.models.addItem(item)
        self.fetch_status.setText(f"{len(names)} model(s); check the ones to import, or none for all.")


class MlflowImportWizard(RegistryWizard):
    title = "Import from an MLflow server"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, MlflowRequestPage(context), parent)

    def work(self):
        page: MlflowRequestPage = self.request_page
        url, models, settings = page.url.text().strip(), page.chosen_models(), page.settings()
        db, actor = self.context.db, self.context.actor

        def run(control: JobControl) -> RegistryImportResult:
            return registry_import.import_mlflow(
                db,
                url,
                models=models,
                actor=actor,
                settings=settings,
                progress=lambda done, total, message: control.progress(
                    done / total if total else 0.0, message
                ),
                cancelled=control.cancelled,
            )

        return run


class SagemakerRequestPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("SageMaker export")
        self.setSubTitle(
            "A DescribeModelPackage answer (or a list of them) saved as JSON, and optionally a "
            "DescribeModelCard answer."
        )
        form = QFormLayout(self)
        row, self.export = _file_row(self, "Export file", "JSON (*.json);;All files (*)")
        form.addRow("&Export file:", row)
        row, self.card = _file_row(self, "Model card file (optional)", "JSON (*.json);;All files (*)")
        form.addRow("Model &card file:", row)
        self.export.textChanged.connect(self.completeChanged)

    def isComplete(self) -> bool:
        return bool(self.export.text().strip())


class SagemakerImportWizard(RegistryWizard):
    title = "Import a SageMaker export"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, SagemakerRequestPage(), parent)

    def work(self):
        page: SagemakerRequestPage = self.request_page
        export = Path(page.export.text().strip())
        card = Path(page.card.text().strip()) if page.card.text().strip() else None
        db, actor = self.context.db, self.context.actor
        return lambda _control: registry_import.import_sagemaker(db, export, model_card=card, actor=actor)


class ModelCardRequestPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Hugging Face model card")
        self.setSubTitle("A README.md with YAML front matter; name the model and version it describes.")
        form = QFormLayout(self)
        row, self.card = _file_row(self, "Model card file", "Markdown (*.md);;All files (*)")
        form.addRow("Model &card:", row)
        self.model = QLineEdit()
        self.model.setAccessibleName("Model name")
        self.model.setPlaceholderText("from the card when empty")
        self.version = QLineEdit()
        self.version.setAccessibleName("Version")
        self.version.setPlaceholderText("from the card when empty")
        form.addRow("&Model:", self.model)
        form.addRow("&Version:", self.version)
        self.card.textChanged.connect(self.completeChanged)

    def isComplete(self) -> bool:
        return bool(self.card.text().strip())


class ModelCardImportWizard(RegistryWizard):
    title = "Import a Hugging Face model card"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, ModelCardRequestPage(), parent)

    def work(self):
        page: ModelCardRequestPage = self.request_page
        card = Path(page.card.text().strip())
        model = page.model.text().strip() or None
        version = page.version.text().strip() or None
        db, actor = self.context.db, self.context.actor
        return lambda _control: registry_import.import_model_card(
            db, card, model=model, version=version, actor=actor
        )
