"""Start the Qt application: open the database, build the main window, optionally screenshot and exit."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from signoff.domain.errors import SignoffError
from signoff.resources import resource_path
from signoff.services import Database, open_database
from signoff.ui.context import AppContext
from signoff.ui.first_start import FirstStart, first_start_skipped
from signoff.ui.main_window import MainWindow
from signoff.ui.pages.settings_page import saved_database_url
from signoff.ui.screenshot_tour import settled

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
    # QtWebEngine (loaded later, by the first chart) shares OpenGL contexts with the window; Qt wants this
    # said before the application object exists.
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Signoff")
    app.setOrganizationName("Signoff")
    app.setWindowIcon(QIcon(str(resource_path("icons", "signoff.svg"))))
    return app


def run_app(
    *,
    db_url: str | None,
    screenshot: str | None = None,
    page: str | None = None,
    screenshot_tour: str | None = None,
) -> int:
    app = create_application()
    automated = bool(screenshot or screenshot_tour)
    try:
        db = open_database(db_url or saved_database_url())
    except SignoffError as error:
        if automated:
            raise
        QMessageBox.critical(None, "Signoff cannot open the database", str(error))
        return 2
    window, _first_start = open_main_window(db, page=page, interactive=not automated)
    if screenshot:
        _screenshot_when_settled(app, window, screenshot)
    if screenshot_tour:
        from signoff.ui.screenshot_tour import ScreenshotTour

        def toured(paths) -> None:
            print(f"signoff: {len(paths)} screenshots in {screenshot_tour}", file=sys.stderr)
            window.close()
            app.quit()

        ScreenshotTour(window, Path(screenshot_tour), toured).start()
    code = app.exec()
    db.close()
    return code


def _screenshot_when_settled(app: QApplication, window: MainWindow, path: str) -> None:
    """Save the window once its jobs (rows, analyses) have finished and its charts have loaded.

    At least 1.5 s after start, so plotly has drawn into loaded pages; at most 30 s, so a stuck job
    cannot keep ``--screenshot`` from returning.
    """
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer(window)

    def check() -> None:
        if clock.elapsed() < 1500 or (not settled(window) and clock.elapsed() < 30_000):
            return
        timer.stop()
        QTimer.singleShot(700, save_and_quit)  # plotly draws just after its page reports loaded

    def save_and_quit() -> None:
        window.grab().save(path)
        window.close()
        app.quit()

    timer.timeout.connect(check)
    timer.start(100)


def open_main_window(
    db: Database, *, page: str | None = None, interactive: bool = True
) -> tuple[MainWindow, FirstStart | None]:
    """The shown main window and, when a person is in front of it (not ``--screenshot``, not
    ``SIGNOFF_SKIP_FIRST_START``), the first-start flow it begins with: sign in, then the demo offer."""
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
    first_start = None
    if interactive and not first_start_skipped():
        first_start = FirstStart(window.context, window)
        QTimer.singleShot(0, first_start.start)  # once the window is on screen
    return window, first_start
