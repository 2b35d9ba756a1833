"""The main window: a page list on the left, the chosen page on the right, jobs in the status bar.

Every page is built from the shared ``AppContext``; the window only arranges them, wires shortcuts
(Ctrl+1 ... Ctrl+9 for the pages) and shows errors from background jobs in a dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from signoff import __version__
from signoff.resources import resource_path
from signoff.services.users import has_users
from signoff.ui.context import AppContext
from signoff.ui.dialogs import show_error
from signoff.ui.first_start import FirstAdminDialog, SignInDialog
from signoff.ui.job_status import JobStatus
from signoff.ui.pages.audit_page import AuditPage
from signoff.ui.pages.data_page import DataPage
from signoff.ui.pages.drift_page import DriftPage
from signoff.ui.pages.explain_page import ExplainPage
from signoff.ui.pages.fairness_page import FairnessPage
from signoff.ui.pages.policy_page import PolicyPage
from signoff.ui.pages.registry_page import RegistryPage
from signoff.ui.pages.report_page import ReportPage
from signoff.ui.pages.review_page import ReviewPage
from signoff.ui.pages.settings_page import SettingsPage
from signoff.ui.wizards.log_wizard import LogImportWizard
from signoff.ui.wizards.registry_wizards import (
    MlflowImportWizard,
    ModelCardImportWizard,
    SagemakerImportWizard,
)

PAGE_TYPES = (
    RegistryPage,
    DataPage,
    FairnessPage,
    ExplainPage,
    DriftPage,
    PolicyPage,
    ReviewPage,
    ReportPage,
    AuditPage,
    SettingsPage,
)


class MainWindow(QMainWindow):
    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("Signoff")
        self.setWindowIcon(QIcon(str(resource_path("icons", "signoff.svg"))))
        self.resize(1280, 800)

        self.nav = QListWidget()
        self.nav.setAccessibleName("Pages")
        self.nav.setMaximumWidth(200)
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        for number, page_type in enumerate(PAGE_TYPES, start=1):
            page = page_type(context)
            self.pages[page_type.title.lower()] = page
            self.stack.addWidget(page)
            item = QListWidgetItem(page_type.title)
            item.setToolTip(f"{page_type.title} (Ctrl+{number})")
            self.nav.addItem(item)
            if number <= 9:
                action = QAction(page_type.title, self)
                action.setShortcut(QKeySequence(f"Ctrl+{number}"))
                action.triggered.connect(lambda _checked=False, row=number - 1: self.nav.setCurrentRow(row))
                self.addAction(action)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)

        splitter = QSplitter()
        splitter.addWidget(self.nav)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([180, 1100])
        self.setCentralWidget(splitter)

        self._build_menus()
        self.job_status = JobStatus()
        self.statusBar().addPermanentWidget(self.job_status)
        self.version_label = QLabel()
        self.who_label = QLabel()
        self.who_label.setAccessibleName("Signed-in user and database")
        self._show_who()
        self.statusBar().addWidget(self.who_label)
        self.statusBar().addWidget(self.version_label)
        context.user_changed.connect(lambda _user: self._show_who())
        context.job_started.connect(self.job_status.track)
        context.job_error.connect(lambda title, message, detail: show_error(self, title, message, detail))
        context.version_changed.connect(
            lambda version: self.version_label.setText(
                f"· {version.name} v{version.version}" if version else ""
            )
        )

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, shortcut, wizard_type in (
            ("&Import prediction log…", "Ctrl+I", LogImportWizard),
            ("Import from &MLflow server…", "Ctrl+Shift+M", MlflowImportWizard),
            ("Import &SageMaker export…", "Ctrl+Shift+S", SagemakerImportWizard),
            ("Import model &card…", "Ctrl+Shift+H", ModelCardImportWizard),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False, t=wizard_type: self.open_wizard(t))
            file_menu.addAction(action)
        file_menu.addSeparator()
        sign_in = QAction("Sign &in…", self)
        sign_in.setShortcut(QKeySequence("Ctrl+Shift+U"))
        sign_in.triggered.connect(self.open_sign_in)
        file_menu.addAction(sign_in)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.file_menu = file_menu

    def open_wizard(self, wizard_type):
        """Open an import wizard (window-modal, no nested event loop) and return it."""
        wizard = wizard_type(self.context, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.open()
        return wizard

    def open_sign_in(self) -> QDialog:
        """Sign in (or, on a database without users, create the first administrator)."""
        dialog_type = SignInDialog if has_users(self.context.db) else FirstAdminDialog
        dialog = dialog_type(self.context, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _show_who(self) -> None:
        user = self.context.user
        who = f"{user.full_name} ({user.username})" if user else f"{self.context.actor} (not signed in)"
        self.who_label.setText(f"Signoff {__version__} · {who} · {self.context.db.url}")

    def show_page(self, name: str) -> None:
        """Show the page titled ``name`` (case-insensitive), as ``signoff app --page`` asks."""
        key = name.lower()
        titles = [page_type.title.lower() for page_type in PAGE_TYPES]
        matches = [i for i, title in enumerate(titles) if title == key or title.startswith(key)]
        if not matches:
            raise KeyError(f"no page named {name!r}; pages: {', '.join(t.title for t in PAGE_TYPES)}")
        self.nav.setCurrentRow(matches[0])

    def closeEvent(self, event) -> None:
        self.context.close()
        super().closeEvent(event)
