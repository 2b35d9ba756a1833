"""``signoff app --screenshot-tour DIR``: a reviewer's tour of every page, saved as PNGs at two sizes.

Stops: the first start (on a fresh, empty database in a temporary folder, whatever database is given),
then on the given database the registry, a version's lineage, data, fairness, explain, drift, policy,
review, report, audit trail and settings, at 1280x800 and at 1920x1080. Each picture is taken once the
page has settled: no job running and every visible chart drawn (at most 30 s a stop). Files are named
``<width>x<height>-<nn>-<stop>.png``; ``tour.txt`` lists them.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QObject, QPoint, QTimer
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from signoff.services import Database, open_database
from signoff.ui.context import AppContext
from signoff.ui.workers import running_jobs

SIZES = ((1280, 800), (1920, 1080))
SETTLE_AT_LEAST_MS = 600
SETTLE_AT_MOST_MS = 30_000


@dataclass(frozen=True)
class Stop:
    name: str
    page: str | None  # the page title; None: the first-start flow on an empty database
    tab: str = ""  # the version details tab to show on the registry page


STOPS = (
    Stop("first-start", None),
    Stop("registry", "Registry", tab="Metadata"),
    Stop("version", "Registry", tab="Lineage"),
    Stop("data", "Data"),
    Stop("fairness", "Fairness"),
    Stop("explain", "Explain"),
    Stop("drift", "Drift"),
    Stop("policy", "Policy"),
    Stop("review", "Review"),
    Stop("report", "Report"),
    Stop("audit", "Audit trail"),
    Stop("settings", "Settings"),
)


def settled(window: QWidget) -> bool:
    """No job is running and every chart on screen has drawn."""
    chart_module = sys.modules.get("signoff.ui.chart_view")
    charts = window.findChildren(chart_module.ChartView) if chart_module is not None else []
    return running_jobs() == 0 and not any(c.drawing for c in charts if c.isVisible())


def grab_with_dialogs(window: QWidget) -> QPixmap:
    """The window with its open dialogs drawn over it, centred as a window manager places them (a dialog
    is a window of its own, which ``grab`` leaves out; with no window manager it stands anywhere)."""
    picture = window.grab()
    painter = QPainter(picture)
    for dialog in window.findChildren(QDialog):
        if dialog.isVisible():
            offset = QPoint((window.width() - dialog.width()) // 2, (window.height() - dialog.height()) // 3)
            painter.drawPixmap(offset, dialog.grab())
    painter.end()
    return picture


class ScreenshotTour(QObject):
    """Walks the stops at each size, one picture per settled stop, then calls ``finished(paths)``."""

    def __init__(self, window, folder: Path, finished: Callable[[list[Path]], None]) -> None:
        super().__init__(window)
        self.window = window
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.finished = finished
        self.saved: list[Path] = []
        self._plan = [(size, number, stop) for size in SIZES for number, stop in enumerate(STOPS, start=1)]
        self._empty: tuple[tempfile.TemporaryDirectory, Database, QWidget] | None = None
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._check)

    def start(self) -> None:
        QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        if not self._plan:
            self._close_empty()
            (self.folder / "tour.txt").write_text("\n".join(p.name for p in self.saved) + "\n")
            self.finished(self.saved)
            return
        (width, height), _number, stop = self._plan[0]
        shown = self._first_start_window() if stop.page is None else self.window
        if stop.page is not None:
            self._close_empty()
            self.window.show_page(stop.page)
            if stop.tab:
                self._show_version_tab(stop.tab)
        shown.resize(width, height)
        shown.show()
        self._clock.start()
        self._timer.start(100)

    def _check(self) -> None:
        (width, height), number, stop = self._plan[0]
        shown = self._empty[2] if stop.page is None and self._empty else self.window
        elapsed = self._clock.elapsed()
        if elapsed < SETTLE_AT_LEAST_MS or (not settled(shown) and elapsed < SETTLE_AT_MOST_MS):
            return
        self._timer.stop()
        # plotly draws just after its page reports loaded
        QTimer.singleShot(700, lambda: self._save(shown, width, height, number, stop))

    def _save(self, shown: QWidget, width: int, height: int, number: int, stop: Stop) -> None:
        path = self.folder / f"{width}x{height}-{number:02d}-{stop.name}.png"
        grab_with_dialogs(shown).save(str(path))
        self.saved.append(path)
        self._plan.pop(0)
        self._next()

    def _show_version_tab(self, title: str) -> None:
        details = self.window.pages["registry"].details
        for index in range(details.count()):
            if details.tabText(index).replace("&", "") == title:
                details.setCurrentIndex(index)

    def _first_start_window(self) -> QWidget:
        """A second main window on an empty database, at its first start (who are you?)."""
        if self._empty is None:
            from signoff.ui.first_start import FirstStart
            from signoff.ui.main_window import MainWindow

            folder = tempfile.TemporaryDirectory(prefix="signoff-tour-")
            db = open_database(f"sqlite:///{Path(folder.name) / 'first-start.db'}")
            window = MainWindow(AppContext(db))
            window.setWindowTitle("Signoff (first start)")
            window.show()
            flow = FirstStart(window.context, window)
            window.first_start = flow  # kept alive with the window
            flow.start()
            self._empty = (folder, db, window)
        return self._empty[2]

    def _close_empty(self) -> None:
        if self._empty is None:
            return
        folder, db, window = self._empty
        self._empty = None
        for dialog in window.findChildren(QDialog):
            dialog.close()
        window.close()
        window.deleteLater()
        QApplication.processEvents()
        db.close()
        folder.cleanup()
