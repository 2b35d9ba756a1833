"""The main window. A placeholder until the desktop issue lands its registry browser and pages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow

from signoff import __version__


class MainWindow(QMainWindow):
    def __init__(self, *, db_url: str | None) -> None:
        super().__init__()
        self.setWindowTitle("Signoff")
        self.resize(1100, 720)
        label = QLabel(f"Signoff {__version__}\n\nDatabase: {db_url or 'default'}")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setAccessibleName("Welcome")
        self.setCentralWidget(label)
