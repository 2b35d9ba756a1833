"""Interactive plotly charts in QtWebEngine, served from a ``signoff-chart:`` origin that can read nothing.

A chart page never comes from ``file:``: a scheme handler serves the page, plotly.min.js from the
installed plotly package and the small drawing script, and nothing else. The figure travels as a JSON
data block with ``<``, ``>`` and ``&`` escaped, so a log value cannot end the element; a
Content-Security-Policy lets only those two scripts run; local file access is off in the charts' own
profile. Importing this module loads QtWebEngine, so ``chart_view`` imports it only when a chart is built.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import plotly

# Chromium refuses to start its sandbox as root (containers, lab machines) and aborts the whole app; set
# before QtWebEngine reads it at its first profile.
if hasattr(os, "geteuid") and os.geteuid() == 0:
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

from PySide6.QtCore import QBuffer, QByteArray, QObject, QUrl, Signal
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineWidgets import QWebEngineView

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
SCHEME = b"signoff-chart"
HOST = "charts"
ORIGIN = f"{SCHEME.decode()}://{HOST}"

# Plotly writes its own <style> elements and inline styles, hence 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src {ORIGIN}/plotly.min.js {ORIGIN}/draw.js; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<style>html,body{{margin:0;height:100%;}} #chart{{width:100%;height:100%;}}</style></head>
<body><div id="chart" role="img" aria-label="{label}"></div>
<script type="application/json" id="figure">{figure}</script>
<script src="{origin}/plotly.min.js"></script>
<script src="{origin}/draw.js"></script>
</body></html>"""

_DRAW = b"""var figure = JSON.parse(document.getElementById("figure").textContent);
Plotly.newPlot("chart", figure.data, figure.layout, {responsive: true, displaylogo: false});
"""


def figure_json(figure: dict) -> str:
    """The figure as JSON that is inert inside HTML: no ``<``, ``>`` or ``&`` that could end the element
    or open a comment, and no line separators (JSON.parse reads the escapes back)."""
    text = json.dumps({"data": figure.get("data", []), "layout": figure.get("layout", {})})
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def chart_html(figure: dict, label: str = "chart") -> str:
    """The page for a plotly figure given as a dict with ``data`` and ``layout``."""
    return _PAGE.format(
        csp=CONTENT_SECURITY_POLICY,
        label=html.escape(label),
        figure=figure_json(figure),
        origin=ORIGIN,
    )


def _register_scheme() -> None:
    # Must happen before QtWebEngine starts (the first profile); this module is imported before any view.
    if QWebEngineUrlScheme.schemeByName(SCHEME).name() == SCHEME:
        return
    scheme = QWebEngineUrlScheme(SCHEME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme)
    QWebEngineUrlScheme.registerScheme(scheme)


_register_scheme()


class _ChartPages(QWebEngineUrlSchemeHandler):
    """Answers ``signoff-chart://charts/...``: plotly, the drawing script and the pages handed to it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pages: dict[str, bytes] = {}
        self._counter = 0

    def add(self, page: str) -> QUrl:
        self._counter += 1
        name = f"/chart-{self._counter}.html"
        self._pages[name] = page.encode("utf-8")
        return QUrl(f"{ORIGIN}{name}")

    def forget(self, url: QUrl) -> None:
        self._pages.pop(url.path(), None)

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        path = url.path()
        if url.host() != HOST:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        if path == "/plotly.min.js":
            body, kind = PLOTLY_JS.read_bytes(), b"text/javascript"
        elif path == "/draw.js":
            body, kind = _DRAW, b"text/javascript"
        elif path in self._pages:
            body, kind = self._pages[path], b"text/html"
        else:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        buffer = QBuffer(job)
        buffer.setData(QByteArray(body))
        buffer.open(QBuffer.OpenModeFlag.ReadOnly)
        job.reply(kind, buffer)


_profile: QWebEngineProfile | None = None
_pages: _ChartPages | None = None


def _chart_profile() -> tuple[QWebEngineProfile, _ChartPages]:
    """One off-the-record profile for every chart: no disk cache or cookies, no file or remote access."""
    global _profile, _pages
    if _profile is None:
        _profile = QWebEngineProfile()  # no storage name: off the record
        _pages = _ChartPages(_profile)
        _profile.installUrlSchemeHandler(SCHEME, _pages)
        settings = _profile.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalStorageEnabled, False)
    return _profile, _pages


class WebChart(QWebEngineView):
    """One chart page; ``failed`` says why QtWebEngine could not show it (its page process died)."""

    failed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        profile, self._handler = _chart_profile()
        self.setPage(QWebEnginePage(profile, self))
        self._url: QUrl | None = None
        self.page().renderProcessTerminated.connect(self._process_ended)

    def show_figure(self, figure: dict, label: str) -> None:
        if self._url is not None:
            self._handler.forget(self._url)
        self._url = self._handler.add(chart_html(figure, label))
        self.load(self._url)

    def _process_ended(self, status: QWebEnginePage.RenderProcessTerminationStatus, code: int) -> None:
        if status != QWebEnginePage.RenderProcessTerminationStatus.NormalTerminationStatus:
            self.failed.emit(f"QtWebEngine's page process ended ({status.name}, exit code {code})")
