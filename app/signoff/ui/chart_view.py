"""Interactive plotly charts inside the app, fully offline.

plotly.js is loaded from the installed plotly package through the page's base URL (a ``<script src>``
relative to the package folder), because an inline 4.8 MB script exceeds Qt's 2 MB ``setHtml`` limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import plotly
from PySide6.QtCore import QUrl
from PySide6.QtWebEngineWidgets import QWebEngineView

PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="plotly.min.js"></script>
<style>html,body{{margin:0;height:100%;}} #chart{{width:100%;height:100%;}}</style></head>
<body><div id="chart" role="img" aria-label="{label}"></div>
<script>Plotly.newPlot("chart", {data}, {layout}, {{responsive: true, displaylogo: false}});</script>
</body></html>"""


def chart_html(figure: dict, label: str = "chart") -> str:
    """The page for a plotly figure given as a dict with ``data`` and ``layout``."""
    return _PAGE.format(
        data=json.dumps(figure.get("data", [])),
        layout=json.dumps(figure.get("layout", {})),
        label=label.replace('"', "'"),
    )


class ChartView(QWebEngineView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(260)
        self.drawing = False  # a figure was handed over and its page has not finished loading
        self.loadFinished.connect(self._drawn)

    def _drawn(self, _ok: bool) -> None:
        self.drawing = False

    def show_figure(self, figure: dict, label: str = "chart") -> None:
        self.setAccessibleName(label)
        self.drawing = True
        self.setHtml(chart_html(figure, label), QUrl.fromLocalFile(str(PLOTLY_DIR) + "/"))
