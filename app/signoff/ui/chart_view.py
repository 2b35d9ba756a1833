"""Charts inside the app, fully offline: interactive plotly when QtWebEngine runs, static pictures when not.

``ChartView`` is what pages place; it builds the interactive view (``web_chart``, which loads QtWebEngine)
on first use. When QtWebEngine cannot start (its libraries are missing, its page process dies: sandbox,
GPU), the view draws the same figure with ``static_chart``, every later chart does too, and the app says so
once in a dialog; no page takes the app down. ``SIGNOFF_STATIC_CHARTS=1`` asks for static charts.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QMessageBox, QStackedLayout, QWidget

from signoff.ui.static_chart import StaticChart

STATIC_CHARTS_VARIABLE = "SIGNOFF_STATIC_CHARTS"

_web_problem: str | None = None  # why interactive charts are off in this process, once known
_told = False  # the dialog saying so was shown


def web_engine_problem() -> str | None:
    """Why interactive charts cannot be drawn in this process, or None when they can."""
    global _web_problem
    if _web_problem is None and os.environ.get(STATIC_CHARTS_VARIABLE) == "1":
        _web_problem = f"static charts were asked for ({STATIC_CHARTS_VARIABLE}=1)"
    if _web_problem is None:
        try:
            import signoff.ui.web_chart  # noqa: F401  (loads QtWebEngine)
        except (ImportError, OSError) as error:
            _web_problem = f"QtWebEngine could not be loaded ({error})"
    return _web_problem


def _web_engine_failed(reason: str, parent: QWidget) -> None:
    """Turn interactive charts off for the rest of the session and say so once."""
    global _web_problem, _told
    _web_problem = _web_problem or reason
    if _told or os.environ.get(STATIC_CHARTS_VARIABLE) == "1":
        return
    _told = True
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Charts are static pictures",
        "Interactive charts are not available, so charts are drawn as static pictures. Everything else "
        "works as usual.",
        QMessageBox.StandardButton.Ok,
        parent.window(),
    )
    box.setInformativeText(f"Reason: {reason}")
    box.setObjectName("static-charts-notice")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()  # window-modal, no nested event loop


class ChartView(QWidget):
    """A chart: interactive when QtWebEngine runs, else a static picture of the same figure."""

    loadStarted = Signal()
    loadFinished = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(260)
        self.drawing = False  # a figure was handed over and its page has not finished loading
        self._figure: tuple[dict, str] | None = None
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._web = None
        self._static: StaticChart | None = None

    @property
    def interactive(self) -> bool:
        return self._web is not None and self._stack.currentWidget() is self._web

    def page(self):
        """The interactive view's page (for a test's JavaScript), or None when charts are static."""
        return self._web.page() if self.interactive else None

    def show_figure(self, figure: dict, label: str = "chart") -> None:
        self.setAccessibleName(label)
        self._figure = (figure, label)
        if web_engine_problem() is not None:
            self._show_static()
            return
        if self._web is None:
            from signoff.ui.web_chart import WebChart

            self._web = WebChart(self)
            self._web.loadStarted.connect(self.loadStarted)
            self._web.loadFinished.connect(self._loaded)
            self._web.failed.connect(self._web_failed)
            self._stack.addWidget(self._web)
        self._stack.setCurrentWidget(self._web)
        self.drawing = True
        self._web.show_figure(figure, label)

    def clear(self) -> None:
        """Show nothing (no result to draw)."""
        self._figure = None
        if self._static is not None:
            self._static.show_figure({"data": [], "layout": {}}, "no chart")
        if self.interactive:
            self.drawing = True
            self._web.setHtml("")  # reports loadFinished like any chart
        else:
            self.loadFinished.emit(True)

    def _loaded(self, ok: bool) -> None:
        self.drawing = False
        self.loadFinished.emit(ok)

    def _web_failed(self, reason: str) -> None:
        _web_engine_failed(reason, self)
        self._show_static()

    def _show_static(self) -> None:
        if self._static is None:
            self._static = StaticChart(self)
            self._stack.addWidget(self._static)
        self._stack.setCurrentWidget(self._static)
        if self._figure is not None:
            self._static.show_figure(*self._figure)
        self.drawing = False
        _web_engine_failed(web_engine_problem() or "", self)
        self.loadFinished.emit(True)  # drawn, as a page that finished loading
