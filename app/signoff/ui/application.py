"""Start the Qt application: open the database, build the main window, optionally screenshot and exit."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from signoff.domain.errors import SignoffError
from signoff.resources import resource_path
from signoff.services import open_database
from signoff.ui.context import AppContext
from signoff.ui.main_window import MainWindow
from signoff.ui.pages.settings_page import saved_database_url

# Set to 1 to have the app say on stderr when the main window first paints (benchmarks/bundle_startup.py).
STARTUP_PROBE_VARIABLE = "SIGNOFF_STARTUP_PROBE"
STARTUP_PROBE_MARKER = "signoff-startup: main window painted"


class _FirstPaintProbe(QObject):
    """Writes one line when the watched window has painted for the first time, then removes itself.

    The parent process times the line's arrival (wall clock from its own spawn); the line carries the
    CPU seconds this process has used so far, which a busy machine distorts far less than wall time.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            print(f"{STARTUP_PROBE_MARKER}; cpu {time.process_time():.3f} s", file=sys.stderr, flush=True)
        return False


def create_application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Signoff")
    app.setOrganizationName("Signoff")
    app.setWindowIcon(QIcon(str(resource_path("icons", "signoff.svg"))))
    return app


def run_app(*, db_url: str | None, screenshot: str | None = None, page: str | None = None) -> int:
    app = create_application()
    try:
        db = open_database(db_url or saved_database_url())
    except SignoffError as error:
        if screenshot:
            raise
        QMessageBox.critical(None, "Signoff cannot open the database", str(error))
        return 2
    window = MainWindow(AppContext(db))
    if page:
        try:
            window.show_page(page)
        except KeyError as error:
            raise SignoffError(str(error.args[0])) from None
    if os.environ.get(STARTUP_PROBE_VARIABLE) == "1":
        probe = _FirstPaintProbe(window)
        window.installEventFilter(probe)
    window.show()
    if screenshot:

        def save_and_quit() -> None:
            window.grab().save(screenshot)
            window.close()
            app.quit()

        # Give charts (QtWebEngine) time to draw before the picture is taken.
        QTimer.singleShot(1500, save_and_quit)
    code = app.exec()
    db.close()
    return code
