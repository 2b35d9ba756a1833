"""User administration in the desktop app (File › Users…): create accounts, change roles, disable, reset.

Each change is a ``JobDialog`` acting as the signed-in administrator (the services check the role
again and audit the change); a refusal (a weak password, the last administrator) is shown in the
dialog and nothing is stored. Names are shown as plain text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.errors import SignoffError
from signoff.domain.users import Role, User, parse_roles
from signoff.services import users
from signoff.ui.context import AppContext
from signoff.ui.dialogs import JobDialog

ROLES_HINT = "comma-separated: admin, reviewer, approver, viewer; or service alone"


def _password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    return field


def _describe(user: User) -> str:
    roles = ", ".join(sorted(r.value for r in user.roles))
    state = (
        "disabled" if user.disabled else ("must change password" if user.must_change_password else "active")
    )
    return f"{user.username} — {user.full_name} — {roles} — {state}"


class AddUserDialog(JobDialog):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, "Add an account", "&Add", parent)
        self.username = QLineEdit()
        self.full_name = QLineEdit()
        self.email = QLineEdit()
        self.roles = QLineEdit("reviewer")
        self.roles.setToolTip(ROLES_HINT)
        self.password = _password_field("Initial password")
        for label, field in (
            ("&Username:", self.username),
            ("&Printed name:", self.full_name),
            ("&E-mail:", self.email),
            ("&Roles:", self.roles),
            ("&Password:", self.password),
        ):
            field.setAccessibleName(label.replace("&", "").rstrip(":"))
            self.form.addRow(label, field)
        self.finish_layout()

    def work(self):
        try:
            roles = parse_roles(self.roles.text().split(","))
        except SignoffError as error:
            self.show_message(str(error))
            return None
        db, admin = self.context.db, self.context.user
        values = dict(
            username=self.username.text(),
            full_name=self.full_name.text(),
            email=self.email.text(),
            roles=roles,
            password=self.password.text(),
        )
        return "Adding an account", lambda _control: users.add_user(db, admin, **values)


class RolesDialog(JobDialog):
    def __init__(self, context: AppContext, target: User, parent: QWidget | None = None) -> None:
        super().__init__(context, f"Roles of {target.username}", "&Change roles", parent)
        self.target = target
        self.roles = QLineEdit(", ".join(sorted(r.value for r in target.roles)))
        self.roles.setAccessibleName("Roles")
        self.roles.setToolTip(ROLES_HINT)
        self.form.addRow("&Roles:", self.roles)
        self.finish_layout()

    def work(self):
        try:
            roles = parse_roles(self.roles.text().split(","))
        except SignoffError as error:
            self.show_message(str(error))
            return None
        db, admin, name = self.context.db, self.context.user, self.target.username
        return "Changing roles", lambda _control: users.set_roles(db, admin, name, roles)


class DisableDialog(JobDialog):
    def __init__(self, context: AppContext, target: User, parent: QWidget | None = None) -> None:
        super().__init__(context, f"Disable {target.username}", "&Disable for good", parent)
        self.target = target
        note = QLabel(
            f"{target.full_name} ({target.username}) will no longer sign in or sign; their signatures stay "
            "valid and the username is never given to anyone else."
        )
        note.setTextFormat(Qt.TextFormat.PlainText)
        note.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        self.form.addRow(note)
        self.form.addRow("&Reason:", self.reason)
        self.finish_layout()

    def work(self):
        db, admin, name, reason = self.context.db, self.context.user, self.target.username, self.reason.text()
        return "Disabling an account", lambda _control: users.disable_user(db, admin, name, reason=reason)


class ResetDialog(JobDialog):
    def __init__(self, context: AppContext, target: User, parent: QWidget | None = None) -> None:
        super().__init__(context, f"Reset the password of {target.username}", "&Reset", parent)
        self.target = target
        note = QLabel(
            "Set a temporary password; its owner must change it before acting again. The account gets a new "
            "signing key; its earlier signatures still verify."
        )
        note.setTextFormat(Qt.TextFormat.PlainText)
        note.setWordWrap(True)
        self.password = _password_field("Temporary password")
        self.form.addRow(note)
        self.form.addRow("&Temporary password:", self.password)
        self.finish_layout()

    def work(self):
        db, admin, name, password = (
            self.context.db,
            self.context.user,
            self.target.username,
            self.password.text(),
        )
        return "Resetting a password", lambda _control: users.reset_password(db, admin, name, password)


class UsersDialog(QDialog):
    """The accounts, with the administrator's actions on the chosen one."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Users")
        self.setMinimumWidth(640)
        self.accounts = QListWidget()
        self.accounts.setAccessibleName("Accounts")
        self.notice = QLabel()
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.add_button = QPushButton("&Add…")
        self.roles_button = QPushButton("&Roles…")
        self.disable_button = QPushButton("&Disable…")
        self.reset_button = QPushButton("Re&set password…")
        self.add_button.clicked.connect(lambda: self._open(AddUserDialog(context, self)))
        self.roles_button.clicked.connect(lambda: self._open_for(RolesDialog))
        self.disable_button.clicked.connect(lambda: self._open_for(DisableDialog))
        self.reset_button.clicked.connect(lambda: self._open_for(ResetDialog))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.roles_button, self.disable_button, self.reset_button):
            buttons.addWidget(button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.accounts)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self.dialog: JobDialog | None = None
        self.reload()

    def reload(self) -> None:
        self.accounts.clear()
        self.users = users.list_users(self.context.db)
        for user in self.users:
            item = QListWidgetItem(_describe(user))
            item.setData(Qt.ItemDataRole.UserRole, user.username)
            self.accounts.addItem(item)
        admin = self.context.user is not None and Role.ADMIN in self.context.user.roles
        self.notice.setText("" if admin else "Only a signed-in administrator can change accounts.")
        for button in (self.add_button, self.roles_button, self.disable_button, self.reset_button):
            button.setEnabled(admin)

    def chosen(self) -> User | None:
        item = self.accounts.currentItem()
        name = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return next((u for u in self.users if u.username == name), None)

    def _open_for(self, dialog_type) -> None:
        target = self.chosen()
        if target is not None:
            self._open(dialog_type(self.context, target, self))

    def _open(self, dialog: JobDialog) -> None:
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.succeeded.connect(lambda _result: self.reload())
        dialog.open()
