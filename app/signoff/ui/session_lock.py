"""Sign out and the idle lock: a desktop session ends on request, and locks itself when left alone.

``IdleLock`` watches the application's keyboard and mouse input; after ``idle_minutes`` without any
(default 15, the setting ``security/idle_minutes``) it covers the window with ``LockDialog``, which
only the same person's password opens again. Nothing is closed or reloaded, so work in progress (an
open dialog, a half-filled wizard, a running job) is still there afterwards; "Sign out" instead ends
the session for good.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from signoff.domain.errors import SignoffError
from signoff.domain.palette import COLOURS, Tone
from signoff.services.users import authenticate, sign_out
from signoff.ui.context import AppContext

IDLE_MINUTES_KEY = "security/idle_minutes"
_WATCHED = "signoff_idle_watched"  # a window property: its input already resets the idle timer
DEFAULT_IDLE_MINUTES = 15
_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


def idle_minutes() -> float:
    """The idle time before the window locks, from the settings (0 or less: never)."""
    try:
        return float(QSettings().value(IDLE_MINUTES_KEY, DEFAULT_IDLE_MINUTES))
    except (TypeError, ValueError):
        return DEFAULT_IDLE_MINUTES


class LockDialog(QDialog):
    """Covers the window until the signed-in person types their password again (or signs out)."""

    def __init__(self, context: AppContext, parent: QWidget | None, on_sign_out: Callable[[], None]) -> None:
        super().__init__(parent)
        self.context = context
        self.on_sign_out = on_sign_out
        user = context.user
        assert user is not None
        self.setWindowTitle("Signoff is locked")
        self.setModal(True)
        label = QLabel(
            f"Locked after {idle_minutes():g} minutes without use. {user.full_name} ({user.username}): type "
            "your password to carry on where you left off, or sign out."
        )
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet(f"color: {COLOURS[Tone.ALERT]}")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.unlock_button = buttons.addButton("&Unlock", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_out_button = buttons.addButton("Sign &out", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.unlock_button.clicked.connect(self.unlock)
        self.sign_out_button.clicked.connect(self._sign_out)
        layout = QVBoxLayout(self)
        for widget in (label, self.password, self.error, buttons):
            layout.addWidget(widget)
        self.password.setFocus()

    def unlock(self) -> None:
        user = self.context.user
        assert user is not None
        try:
            authenticate(self.context.db, user.username, self.password.text(), purpose="unlock")
        except SignoffError as refusal:
            self.password.clear()
            self.error.setText(str(refusal))
            return
        self.accept()

    def _sign_out(self) -> None:
        self.on_sign_out()
        self.accept()

    def reject(self) -> None:  # Escape does not open a locked window
        pass


class IdleLock(QObject):
    """Locks ``window`` after ``idle_minutes()`` without keyboard or mouse input while someone is signed in."""

    def __init__(self, context: AppContext, window: QWidget, on_sign_out: Callable[[], None]) -> None:
        super().__init__(window)
        self.context = context
        self.window = window
        self.on_sign_out = on_sign_out
        self.dialog: LockDialog | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.lock)
        # Input is watched on the top-level windows (each gets its input before any widget in it), not
        # with an application-wide filter: that one is called from Python for every event of every
        # object, including QtWebEngine's internals while they are torn down, and crashed the app.
        app = QApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self.watch)
        window.winId()  # the window's QWindow exists from here on
        self.watch(window.windowHandle())
        self.restart()

    def watch(self, window: QWindow | None) -> None:
        """Count input to ``window`` (the main window, or a dialog or wizard when it gets the focus)."""
        if window is not None and not window.property(_WATCHED):
            window.setProperty(_WATCHED, True)
            window.installEventFilter(self)

    def restart(self) -> None:
        minutes = idle_minutes()
        if minutes > 0:
            self.timer.start(int(minutes * 60_000))
        else:
            self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self.dialog is None:
            self.restart()
        return False

    def lock(self) -> LockDialog | None:
        if self.context.user is None or self.dialog is not None:
            self.restart()
            return None
        self.dialog = LockDialog(self.context, self.window, self.on_sign_out)
        self.dialog.finished.connect(self._unlocked)
        self.dialog.open()
        return self.dialog

    def _unlocked(self, _result: int) -> None:
        self.dialog = None
        self.restart()


def sign_out_of(context: AppContext) -> None:
    """End the desktop session: recorded, and the window carries on read-only."""
    if context.user is not None:
        sign_out(context.db, context.user)
    context.sign_in(None)
