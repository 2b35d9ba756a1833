"""Settings: which database this app opens (a local file or a PostgreSQL server), and who is working."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from signoff.ui.context import AppContext
from signoff.ui.session_lock import IDLE_MINUTES_KEY, idle_minutes

DATABASE_KEY = "database/url"


def saved_database_url() -> str | None:
    value = QSettings().value(DATABASE_KEY, "")
    return str(value) or None


class SettingsPage(QWidget):
    title = "Settings"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        database = QGroupBox("Database")
        form = QFormLayout(database)
        current = QLabel(context.db.url)
        current.setAccessibleName("Database in use")
        current.setWordWrap(True)
        form.addRow("In use:", current)
        self.url_edit = QLineEdit(saved_database_url() or "")
        self.url_edit.setPlaceholderText(
            "empty: the local file in your data folder; or postgresql://user@host/db"
        )
        self.url_edit.setAccessibleName("Database URL for the next start")
        form.addRow("Next start:", self.url_edit)
        save = QPushButton("Save")
        save.clicked.connect(self.save)
        form.addRow("", save)
        self.saved = QLabel("")
        form.addRow("", self.saved)

        who = QGroupBox("User and appearance")
        who_form = QFormLayout(who)
        working_as = QLabel(context.actor)
        working_as.setAccessibleName("Working as")
        # Follows sign-in (File > Sign in…), so the page never names someone who is no longer acting.
        context.user_changed.connect(lambda _user: working_as.setText(context.actor))
        who_form.addRow("Working as:", working_as)
        # The idle lock (ui/session_lock.py) reads this each time it restarts its timer.
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setRange(0, 240)
        self.idle_minutes.setSuffix(" min")
        self.idle_minutes.setSpecialValueText("never")
        self.idle_minutes.setValue(int(idle_minutes()))
        self.idle_minutes.setAccessibleName("Lock the window after this many idle minutes")
        self.idle_minutes.valueChanged.connect(lambda value: QSettings().setValue(IDLE_MINUTES_KEY, value))
        who_form.addRow("Lock when idle for:", self.idle_minutes)
        who_form.addRow("Theme:", QLabel("follows the system (light or dark)"))

        layout = QVBoxLayout(self)
        layout.addWidget(database)
        layout.addWidget(who)
        layout.addStretch(1)

    def save(self) -> None:
        QSettings().setValue(DATABASE_KEY, self.url_edit.text().strip())
        self.saved.setText(
            "Saved. Signoff opens this database the next time it starts (--db and SIGNOFF_DB still win)."
        )
