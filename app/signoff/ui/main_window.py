"""The main window: a page list on the left, the chosen page on the right, jobs in the status bar.

Every page is built from the shared ``AppContext``; the window only arranges them, wires shortcuts
(Ctrl+1 ... Ctrl+9 for the pages) and shows errors from background jobs in a dialog.

Pages and import wizards are named here by module and class and imported the first time they are
shown: several pull in pandas, scipy, SHAP or QtWebEngine, and loading all of them before the window
appears would cost seconds at every start (docs/performance.md, "Desktop start"). A page reads the
current state (``context.version``, ``context.user``) in its constructor, so building it late is the
same as building it early. A page class may also be listed directly; it is then imported eagerly.
"""

from __future__ import annotations

import importlib
import platform
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from signoff import __version__
from signoff.resources import resource_path
from signoff.services.users import has_users
from signoff.ui.context import AppContext
from signoff.ui.dialogs import show_error
from signoff.ui.first_start import FirstAdminDialog, SignInDialog
from signoff.ui.job_status import JobStatus
from signoff.ui.session_lock import IdleLock, sign_out_of
from signoff.ui.workers import cancel_all_jobs


@dataclass(frozen=True)
class LazyPage:
    """A page known by its title until it is first shown; ``target`` is ``"module:ClassName"``."""

    title: str
    target: str

    def load(self) -> type[QWidget]:
        page_type = load_class(self.target)
        if page_type.title != self.title:
            raise RuntimeError(f"{self.target} is titled {page_type.title!r}, listed as {self.title!r}")
        return page_type


def load_class(target: str) -> type:
    """The class named by ``"module:ClassName"``, imported now."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


PAGE_TYPES: tuple[LazyPage | type[QWidget], ...] = (
    LazyPage("Portfolio", "signoff.ui.pages.portfolio_page:PortfolioPage"),
    LazyPage("Registry", "signoff.ui.pages.registry_page:RegistryPage"),
    LazyPage("Data", "signoff.ui.pages.data_page:DataPage"),
    LazyPage("Fairness", "signoff.ui.pages.fairness_page:FairnessPage"),
    LazyPage("Explain", "signoff.ui.pages.explain_page:ExplainPage"),
    LazyPage("Drift", "signoff.ui.pages.drift_page:DriftPage"),
    LazyPage("Policy", "signoff.ui.pages.policy_page:PolicyPage"),
    LazyPage("Review", "signoff.ui.pages.review_page:ReviewPage"),
    LazyPage("Report", "signoff.ui.pages.report_page:ReportPage"),
    LazyPage("Audit trail", "signoff.ui.pages.audit_page:AuditPage"),
    LazyPage(
        "Compare", "signoff.ui.pages.compare_page:ComparePage"
    ),  # last but one: Ctrl+1..9 keep their pages
    LazyPage("Settings", "signoff.ui.pages.settings_page:SettingsPage"),
)

# Menu text, shortcut, wizard class ("module:ClassName", imported when the menu item is used).
IMPORT_WIZARDS = (
    ("&Import prediction log…", "Ctrl+I", "signoff.ui.wizards.log_wizard:LogImportWizard"),
    ("Import from &MLflow server…", "Ctrl+Shift+M", "signoff.ui.wizards.registry_wizards:MlflowImportWizard"),
    (
        "Import &SageMaker export…",
        "Ctrl+Shift+S",
        "signoff.ui.wizards.registry_wizards:SagemakerImportWizard",
    ),
    ("Import model &card…", "Ctrl+Shift+H", "signoff.ui.wizards.registry_wizards:ModelCardImportWizard"),
)


# Each page's own shortcuts (active only while it is shown), for Help > Keyboard shortcuts. Pages are
# built on first use, so the list is written here; tests/ui/test_main_window.py checks it against the
# shortcuts each page really has.
PAGE_SHORTCUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Data": (("Ctrl+G", "Go to the row number"), ("Ctrl+Shift+V", "Run validation of the chosen log")),
    "Fairness": (("Ctrl+Return", "Analyse fairness of the chosen log"),),
    "Explain": (("Ctrl+R", "Explain the model version (SHAP)"),),
    "Drift": (("Ctrl+R", "Run drift against the reference log"), ("Ctrl+M", "Run monitoring")),
    "Compare": (("Ctrl+R", "Compare the challenger with the champion"),),
    "Policy": (("Ctrl+R", "Check against the chosen policy"), ("Ctrl+W", "Waive the selected failed rule")),
    "Review": (
        ("Ctrl+Shift+O", "Open a review"),
        ("Ctrl+Shift+T", "Submit for sign-off"),
        ("Ctrl+Shift+G", "Sign the review"),
        ("Ctrl+Shift+V", "Revoke the approval"),
        ("Ctrl+Shift+F", "Add a finding"),
        ("Ctrl+Shift+E", "Edit the chosen finding"),
        ("Ctrl+Shift+R", "Resolve the chosen finding"),
    ),
    "Report": (("Ctrl+E", "Export the PDF report"), ("Ctrl+Shift+Y", "Verify a PDF report")),
    "Audit trail": (("Ctrl+E", "Export the events shown to CSV or PDF"),),
}


class _Pages(Mapping[str, QWidget]):
    """``window.pages["registry"]``: the page with that (lower-case) title, built on first use."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window

    def __getitem__(self, key: str) -> QWidget:
        titles = [entry.title.lower() for entry in PAGE_TYPES]
        if key not in titles:
            raise KeyError(key)
        return self._window.page_at(titles.index(key))

    def __iter__(self) -> Iterator[str]:
        return (entry.title.lower() for entry in PAGE_TYPES)

    def __len__(self) -> int:
        return len(PAGE_TYPES)


class ShortcutsDialog(QDialog):
    """Every keyboard shortcut: keys, what it does and where it works."""

    def __init__(self, shortcuts: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(shortcuts), 3)
        self.table.setHorizontalHeaderLabels(["Keys", "What it does", "Where"])
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, cells in enumerate(shortcuts):
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(close)
        self.resize(640, 560)


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
        self.pages: Mapping[str, QWidget] = _Pages(self)
        self._built: dict[int, QWidget] = {}
        for number, entry in enumerate(PAGE_TYPES, start=1):
            self.stack.addWidget(QWidget())  # a placeholder until the page is first shown
            item = QListWidgetItem(entry.title)
            item.setToolTip(f"{entry.title} (Ctrl+{number})")
            self.nav.addItem(item)
            if number <= 9:
                action = QAction(f"Show the {entry.title} page", self)
                action.setShortcut(QKeySequence(f"Ctrl+{number}"))
                action.triggered.connect(lambda _checked=False, row=number - 1: self.nav.setCurrentRow(row))
                self.addAction(action)
        self.nav.currentRowChanged.connect(self._show_row)
        self.nav.setCurrentRow(0)

        splitter = QSplitter()
        splitter.addWidget(self.nav)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([180, 1100])
        self.setCentralWidget(splitter)

        self._build_menus()
        self.idle_lock = IdleLock(context, self, lambda: sign_out_of(self.context))
        self.job_status = JobStatus()
        self.statusBar().addPermanentWidget(self.job_status)
        self.version_label = QLabel()
        self.who_label = QLabel()
        self.who_label.setAccessibleName("Signed-in user and database")
        # The running job's stage needs the room more; this line yields it (whole in its tooltip and
        # in Help > About).
        self.who_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._show_who()
        self.statusBar().addWidget(self.who_label, 1)
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
        for text, shortcut, target in IMPORT_WIZARDS:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False, t=target: self.open_wizard(load_class(t)))
            file_menu.addAction(action)
        file_menu.addSeparator()
        sign_in = QAction("Sign &in…", self)
        sign_in.setShortcut(QKeySequence("Ctrl+Shift+U"))
        sign_in.triggered.connect(self.open_sign_in)
        file_menu.addAction(sign_in)
        sign_out = QAction("Sign &out", self)
        sign_out.triggered.connect(lambda: sign_out_of(self.context))
        file_menu.addAction(sign_out)
        self.sign_out_action = sign_out
        accounts = QAction("&Users…", self)
        accounts.triggered.connect(self.open_users)
        file_menu.addAction(accounts)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.file_menu = file_menu

        help_menu = self.menuBar().addMenu("&Help")
        shortcuts = QAction("&Keyboard shortcuts", self)
        shortcuts.setShortcut(QKeySequence("F1"))
        shortcuts.triggered.connect(self.show_shortcuts)
        help_menu.addAction(shortcuts)
        about = QAction("&About Signoff", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self.help_menu = help_menu

    def shortcut_list(self) -> list[tuple[str, str, str]]:
        """(keys, what it does, where it works): the window's, then each page's."""
        found = []
        for action in self.findChildren(QAction):
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                found.append((keys, action.text().replace("&", "").rstrip("…"), "anywhere"))
        for title, entries in PAGE_SHORTCUTS.items():
            found += [
                (QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText), what, f"{title} page")
                for k, what in entries
            ]
        return found

    def show_shortcuts(self) -> QDialog:
        dialog = ShortcutsDialog(self.shortcut_list(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def about_text(self) -> str:
        return (
            f"Signoff {__version__}\n"
            "Governance and audit of machine-learning models: registry and prediction-log evidence, "
            "fairness and SHAP analyses, signed reviews, verifiable PDF audit reports.\n\n"
            f"Database in use: {self.context.db.url}\n"
            f"Python {platform.python_version()} · Qt {qVersion()} · PySide6 {PySide6.__version__}"
        )

    def show_about(self) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Information, "About Signoff", self.about_text(), parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)  # the database URL is the user's text
        box.setObjectName("about-signoff")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def page_at(self, row: int) -> QWidget:
        """The page in ``row`` of the page list, built (and its module imported) on first use."""
        page = self._built.get(row)
        if page is None:
            entry = PAGE_TYPES[row]
            try:
                page_type = entry.load() if isinstance(entry, LazyPage) else entry
                page = page_type(self.context)
            except Exception as error:
                page = self._unavailable_page(entry.title, error)
            placeholder = self.stack.widget(row)
            self.stack.insertWidget(row, page)
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
            self._built[row] = page
        return page

    def _unavailable_page(self, title: str, error: Exception) -> QWidget:
        """What stands in for a page that could not be built (a library missing from this machine): the
        reason, once in a dialog and on the page; every other page keeps working."""
        reason = f"{type(error).__name__}: {error}"
        show_error(self, f"The {title} page cannot open", f"The {title} page cannot open here.", reason)
        label = QLabel(
            f"The {title} page cannot open on this machine; the other pages work as usual.\n\n{reason}"
        )
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setObjectName("unavailable-page")
        return label

    def _show_row(self, row: int) -> None:
        if row >= 0:
            self.stack.setCurrentWidget(self.page_at(row))

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

    def open_users(self) -> QDialog:
        """User administration: create accounts, change roles, disable, reset (administrators)."""
        from signoff.ui.user_admin import UsersDialog

        dialog = UsersDialog(self.context, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _show_who(self) -> None:
        user = self.context.user
        who = f"{user.full_name} ({user.username})" if user else f"{self.context.actor} (not signed in)"
        self.who_label.setText(f"Signoff {__version__} · {who} · {self.context.db.url}")
        self.who_label.setToolTip(self.who_label.text())

    def show_page(self, name: str) -> None:
        """Show the page titled ``name`` (case-insensitive), as ``signoff app --page`` asks."""
        key = name.lower()
        titles = [page_type.title.lower() for page_type in PAGE_TYPES]
        matches = [i for i, title in enumerate(titles) if title == key or title.startswith(key)]
        if not matches:
            raise KeyError(f"no page named {name!r}; pages: {', '.join(t.title for t in PAGE_TYPES)}")
        self.nav.setCurrentRow(matches[0])

    def closeEvent(self, event) -> None:
        cancel_all_jobs()  # no job outlives the window it reports to
        self.context.close()
        super().closeEvent(event)
