"""Start the Qt application and show the main window."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from signoff.ui.main_window import MainWindow


def run_app(*, db_url: str | None, screenshot: str | None = None, page: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Signoff")
    app.setOrganizationName("Signoff")
    window = MainWindow(db_url=db_url)
    window.show()
    if screenshot:

        def save_and_quit() -> None:
            window.grab().save(screenshot)
            app.quit()

        QTimer.singleShot(200, save_and_quit)
    return app.exec()
