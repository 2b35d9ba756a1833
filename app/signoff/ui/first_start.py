"""First start and signing in: who is working, and a demo workspace for a database with nothing in it.

``FirstStart`` runs once when the desktop app opens a database interactively. With no users yet it asks
for the first administrator; otherwise it asks the user to sign in (Cancel carries on read-only under
the operating-system login). Then, if the database holds no model version, it offers to build the demo
workspace (``services.demo``) in a job. Every dialog is opened with ``open()``, never ``exec()``, so no
nested event loop blocks workers or tests. ``SIGNOFF_SKIP_FIRST_START=1`` skips all of it (automation);
``signoff app --screenshot`` never starts it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.users import MIN_PASSWORD_LENGTH, Role, User
from signoff.services.demo import DEMO_MODEL, DemoSummary, build_demo_workspace
from signoff.services.identity import os_login_name
from signoff.services.models import get_model_version, list_model_versions
from signoff.services.users import add_user, has_users, sign_in
from signoff.ui.context import AppContext
from signoff.ui.dialogs import ERROR_STYLE, JobDialog
from signoff.ui.workers import JobControl

if TYPE_CHECKING:
    from signoff.ui.main_window import MainWindow

SKIP_VARIABLE = "SIGNOFF_SKIP_FIRST_START"
LAST_USER_KEY = "user/last_username"
PASSWORDS_DIFFER = "the two passwords differ; type the same password twice"


def first_start_skipped() -> bool:
    return os.environ.get(SKIP_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def _password_field(accessible_name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(accessible_name)
    return field


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if not message or message.endswith(".") else ".")


class _CredentialsDialog(JobDialog):
    """A form whose OK button checks the credentials off the UI thread (password hashing takes a
    noticeable moment) and shows a refusal in the dialog itself, not as a second error window; on
    success the user is signed in."""

    signed_in = Signal(object)  # User
    working_text = ""  # the disabled buttons say it is busy; the error line stays free for refusals
    in_status_bar = False  # a sign-in is not work to cancel

    def __init__(
        self, context: AppContext, title: str, ok_text: str, intro: str, width: int, parent: QWidget | None
    ) -> None:
        super().__init__(context, title, ok_text, parent, min_width=width)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.error = self.message
        self.ok_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel and continue read-only")
        label = QLabel(intro)
        label.setWordWrap(True)
        self.layout_.insertWidget(0, label)
        self.succeeded.connect(self._signed_in)

    def show_message(self, text: str, style: str = ERROR_STYLE) -> None:
        super().show_message(_sentence(text), style)

    def _signed_in(self, user: User) -> None:
        QSettings().setValue(LAST_USER_KEY, user.username)
        self.context.sign_in(user)
        self.signed_in.emit(user)


class SignInDialog(_CredentialsDialog):
    """Username and password; Cancel carries on read-only under the operating-system login."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            "Sign in to Signoff",
            "Sign in",
            f"Sign in with your Signoff account. Cancel continues read-only as {os_login_name()!r}: "
            "you can look at everything, but reviews and signatures need a signed-in user.",
            460,
            parent,
        )
        self.setAccessibleName("Sign in")
        self.username = QLineEdit(str(QSettings().value(LAST_USER_KEY, "") or ""))
        self.username.setAccessibleName("Username")
        self.password = _password_field("Password")
        self.sign_in_button = self.ok_button
        self.form.addRow("&Username:", self.username)
        self.form.addRow("&Password:", self.password)
        self.finish_layout()
        (self.password if self.username.text() else self.username).setFocus()

    def work(self) -> tuple[str, Callable[[JobControl], User]]:
        username, password = self.username.text(), self.password.text()
        db = self.context.db
        return "Signing in", lambda _control: sign_in(db, username, password)

    def failed(self, message: str) -> None:
        self.password.clear()
        self.password.setFocus()


class FirstAdminDialog(_CredentialsDialog):
    """Create the first administrator of a database that has no users yet, and sign in as them."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            "Create the first administrator",
            "Create and sign in",
            "This database has no users yet. The first account administers the others. Each account "
            "gets its own signing key, sealed with its password; usernames are never reused.",
            520,
            parent,
        )
        self.username = QLineEdit(os_login_name().lower())
        self.username.setAccessibleName("Username")
        self.full_name = QLineEdit()
        self.full_name.setAccessibleName("Full name")
        self.full_name.setPlaceholderText("printed with every signature")
        self.email = QLineEdit()
        self.email.setAccessibleName("E-mail")
        self.password = _password_field("Password")
        self.password.setPlaceholderText(f"at least {MIN_PASSWORD_LENGTH} characters")
        self.repeat = _password_field("Password again")
        self.reviewer = QCheckBox("Also a reviewer (may open reviews and sign as reviewer)")
        self.reviewer.setChecked(True)
        self.approver = QCheckBox("Also an approver (may approve; never their own submission)")
        self.create_button = self.ok_button
        self.create_button.setAccessibleName("Create the administrator and sign in")
        self.form.addRow("&Username:", self.username)
        self.form.addRow("&Full name:", self.full_name)
        self.form.addRow("&E-mail:", self.email)
        self.form.addRow("&Password:", self.password)
        self.form.addRow("Password &again:", self.repeat)
        self.form.addRow("", self.reviewer)
        self.form.addRow("", self.approver)
        self.finish_layout()
        self.full_name.setFocus()

    def roles(self) -> frozenset[Role]:
        extra = {Role.REVIEWER} if self.reviewer.isChecked() else set()
        extra |= {Role.APPROVER} if self.approver.isChecked() else set()
        return frozenset({Role.ADMIN, *extra})

    def work(self) -> tuple[str, Callable[[JobControl], User]] | None:
        if self.password.text() != self.repeat.text():
            self.show_message(PASSWORDS_DIFFER)
            self.repeat.clear()
            self.repeat.setFocus()
            return None
        db, roles = self.context.db, self.roles()
        request = {
            "username": self.username.text(),
            "full_name": self.full_name.text(),
            "email": self.email.text(),
            "password": self.password.text(),
        }
        return "Creating the first administrator", lambda _control: add_user(db, None, roles=roles, **request)


class DemoOfferDialog(QDialog):
    """Offered when the database holds no model version: build the demo workspace, or start empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Signoff")
        self.setAccessibleName("Demo workspace offer")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        text = QLabel(
            "<p><b>This database is empty.</b></p>"
            "<p>Signoff can build a demo workspace to explore, offline and in about half a minute, from "
            "real data: the UCI Adult income data set (CC BY 4.0). It trains a logistic regression "
            f"(version 1) and a gradient boosting model (version 2), registers them as "
            f"<i>{DEMO_MODEL}</i>, imports a reference and a production prediction log for each, and "
            "runs validation, fairness, performance, monitoring, drift and SHAP analyses and the "
            "<i>lending-four-fifths</i> policy.</p>"
            "<p>Everything it does is recorded in the audit trail like any other work. You can also build "
            "it later from a terminal with <code>signoff demo</code>.</p>"
        )
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self.build_button = QPushButton("Build demo workspace")
        self.build_button.setAccessibleName("Build demo workspace")
        self.build_button.setDefault(True)
        self.empty_button = QPushButton("Start empty")
        self.empty_button.setAccessibleName("Start with an empty database")
        buttons = QDialogButtonBox()
        buttons.addButton(self.build_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.empty_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())


class FirstStart(QObject):
    """Sign-in (or the first administrator), then the demo offer on an empty database, one after the
    other. ``dialog`` is the one open now; ``finished`` fires when nothing more will be asked."""

    finished = Signal()
    demo_built = Signal(object)  # DemoSummary

    def __init__(self, context: AppContext, window: MainWindow) -> None:
        super().__init__(window)
        self.context = context
        self.window = window
        self.dialog: QDialog | None = None

    def start(self) -> None:
        self.ask_who()

    def ask_who(self) -> None:
        dialog_type = SignInDialog if has_users(self.context.db) else FirstAdminDialog
        self._open(dialog_type(self.context, self.window), self.offer_demo)

    def offer_demo(self) -> None:
        if list_model_versions(self.context.db):
            self._done()
            return
        offer = DemoOfferDialog(self.window)
        offer.accepted.connect(self.build_demo)
        offer.rejected.connect(self._done)
        self.dialog = offer
        offer.open()

    def build_demo(self) -> None:
        self.dialog = None
        db, actor = self.context.db, self.context.actor

        def work(control: JobControl) -> DemoSummary:
            return build_demo_workspace(db, actor=actor, progress=control.progress)

        self.context.run_job(
            "Building the demo workspace", work, self._demo_ready, on_error=lambda *_: self._done()
        )

    def _demo_ready(self, summary: DemoSummary) -> None:
        # The registry page already reloaded on the demo's model events; show the newest version.
        version = get_model_version(self.context.db, summary.model, summary.versions[-1].version)
        self.window.pages["registry"].select(version)  # selecting it tells every page
        self.window.statusBar().showMessage(
            f"Demo workspace ready in {summary.seconds:.0f} s: {summary.model}, versions "
            f"{', '.join(v.version for v in summary.versions)}",
            15000,
        )
        self.demo_built.emit(summary)
        self._done()

    def _open(self, dialog: QDialog, then: Callable[[], None]) -> None:
        dialog.finished.connect(lambda _result: then())
        self.dialog = dialog
        dialog.open()

    def _done(self) -> None:
        self.dialog = None
        self.finished.emit()
