"""Start the Qt application: open the database, build the main window, optionally screenshot and exit."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from signoff.domain.errors import SignoffError
from signoff.resources import resource_path
from signoff.services import Database, open_database
from signoff.ui.context import AppContext
from signoff.ui.first_start import FirstStart, first_start_skipped
from signoff.ui.main_window import MainWindow
from signoff.ui.pages.settings_page import saved_database_url


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
    window, _first_start = open_main_window(db, page=page, interactive=not screenshot)
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
    window.show()
    first_start = None
    if interactive and not first_start_skipped():
        first_start = FirstStart(window.context, window)
        QTimer.singleShot(0, first_start.start)  # once the window is on screen
    return window, first_start
