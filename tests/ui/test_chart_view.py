"""Charts: a hostile value in a figure is text, never script; the chart origin can read no file; when
QtWebEngine cannot start or its page process dies, the same figure is drawn as a static picture."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QMessageBox

import signoff.ui.chart_view as chart_view
from signoff.ui.chart_view import ChartView

HOSTILE = "</script><script>document.title='pwned'</script>"
COMMENT = "<!--<script>document.title='pwned'</script>"
BLUE = "#1f77b4"


def _js(qtbot, view, script):
    answers = []
    view.page().runJavaScript(script, 0, answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=10000)
    return answers[0]


def _figure(*names):
    return {
        "data": [{"type": "bar", "x": list(names), "y": [0.4, 0.2, 0.3][: len(names)], "name": HOSTILE}],
        "layout": {"title": {"text": "rates"}},
    }


def test_a_hostile_log_value_in_a_chart_is_shown_as_text_and_never_runs(qtbot):
    view = ChartView()
    qtbot.addWidget(view)
    view.resize(700, 420)
    view.show()
    with qtbot.waitSignal(view.loadFinished, timeout=30000) as loaded:
        view.show_figure(_figure(HOSTILE, COMMENT, "B"), label=HOSTILE)
    assert loaded.args == [True]
    qtbot.waitUntil(
        lambda: _js(qtbot, view, "document.querySelectorAll('.xtick').length") == 3, timeout=10000
    )
    assert _js(qtbot, view, "document.title") != "pwned"
    ticks = json.loads(
        _js(
            qtbot,
            view,
            "JSON.stringify(Array.from(document.querySelectorAll('.xtick text')).map(t => t.textContent))",
        )
    )
    assert ticks[0] == HOSTILE  # plotly shows it as text
    assert _js(qtbot, view, "document.querySelectorAll('script').length") == 3  # data block, plotly, draw
    assert _js(qtbot, view, "location.protocol") == "signoff-chart:"
    read_file = """(() => { try { const r = new XMLHttpRequest(); r.open('GET', 'file:///etc/hostname', false);
        r.send(); return 'read ' + r.responseText; } catch (e) { return 'refused'; } })()"""
    assert _js(qtbot, view, read_file) == "refused"
    policy = _js(qtbot, view, "document.querySelector('meta[http-equiv=Content-Security-Policy]').content")
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]


def test_the_figure_data_block_holds_no_markup_and_parses_back():
    from signoff.ui.web_chart import chart_html, figure_json

    figure = _figure(HOSTILE, COMMENT, "a & b\u2028")
    text = figure_json(figure)
    assert not set("<>&\u2028") & set(text)
    assert json.loads(text) == {"data": figure["data"], "layout": figure["layout"]}
    page = chart_html(figure, label='"><script>')
    assert page.count("</script>") == 3 and "<!--" not in page and '"><script>' not in page


def _blue_columns(widget):
    """Heights in pixels of the blue bars, left to right (an independent reading of the picture)."""
    image = widget.grab().toImage()
    heights, inside = [], False
    for x in range(image.width()):
        column = sum(1 for y in range(image.height()) if QColor(image.pixel(x, y)).name() == BLUE)
        if column and not inside:
            heights.append(column)
        inside = bool(column)
    return heights


def _notices():
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "static-charts-notice" and w.isVisible()
    ]


def test_without_qtwebengine_charts_are_static_pictures_and_the_app_says_so_once(qtbot, monkeypatch):
    # A real import failure: the module that loads QtWebEngine cannot be imported.
    monkeypatch.setitem(sys.modules, "signoff.ui.web_chart", None)
    monkeypatch.setattr(chart_view, "_web_problem", None)
    monkeypatch.setattr(chart_view, "_told", False)
    views = []
    for _ in range(2):
        view = ChartView()
        qtbot.addWidget(view)
        view.resize(600, 400)
        view.show()
        view.show_figure(_figure("A", "B"))
        views.append(view)
    assert chart_view.web_engine_problem().startswith("QtWebEngine could not be loaded")
    assert all(v.page() is None and not v.drawing for v in views)
    assert len(_notices()) == 1
    notice = _notices()[0]
    assert (
        "static pictures" in notice.text() and "QtWebEngine could not be loaded" in notice.informativeText()
    )
    notice.close()
    first, second = _blue_columns(views[0].findChild(chart_view.StaticChart))
    assert abs(first / second - 2.0) < 0.1  # 0.4 against 0.2


def test_a_crashed_chart_process_leaves_a_static_picture_and_the_app_running(qtbot, monkeypatch):
    monkeypatch.setattr(chart_view, "_web_problem", None)
    monkeypatch.setattr(chart_view, "_told", False)
    view = ChartView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    with qtbot.waitSignal(view.loadFinished, timeout=30000):
        view.show_figure(_figure("A", "B"))
    assert view.interactive
    view._web.load(QUrl("chrome://crash"))  # Chromium's own way to kill a page process
    qtbot.waitUntil(lambda: not view.interactive, timeout=30000)
    assert chart_view.web_engine_problem().startswith("QtWebEngine's page process ended")
    assert len(_notices()) == 1
    _notices()[0].close()
    first, second = _blue_columns(view.findChild(chart_view.StaticChart))
    assert abs(first / second - 2.0) < 0.1
    later = ChartView()
    qtbot.addWidget(later)
    later.show_figure(_figure("A", "B"))
    assert later.page() is None and _notices() == []


def test_static_pictures_of_heat_maps_waterfalls_and_lines(qtbot):
    """Each trace kind the pages draw: a higher heat-map value is darker, a cell too small to judge
    (None) stays white; waterfalls and lines over dates draw without a web engine."""
    from signoff.ui.static_chart import StaticChart

    chart = StaticChart()
    qtbot.addWidget(chart)
    chart.resize(500, 360)
    chart.show()
    chart.show_figure(
        {
            "data": [
                {
                    "type": "heatmap",
                    "x": ["a", "b", "c"],
                    "y": ["r"],
                    "z": [[0.1, 0.9, None]],
                    "text": [["", "", ""]],
                }
            ],
            "layout": {"title": {"text": "grid"}},
        }
    )
    image = chart.grab().toImage()
    middle_y = image.height() // 2
    row = [QColor(image.pixel(x, middle_y)) for x in range(image.width())]
    cells = [c for c in row if c.name() != "#ffffff"]
    low, high = cells[len(cells) // 6], cells[len(cells) // 2]  # inside the first and second cells
    assert high.lightness() < low.lightness()
    assert QColor(image.pixel(image.width() - 40, middle_y)).name() == "#ffffff"  # the None cell

    for figure in (
        {
            "data": [
                {
                    "type": "waterfall",
                    "orientation": "h",
                    "y": ["base value", "f0 = 1", "output"],
                    "x": [0.2, 0.5, 0.7],
                    "measure": ["absolute", "relative", "total"],
                    "increasing": {"marker": {"color": "#c62828"}},
                    "totals": {"marker": {"color": "#555555"}},
                }
            ],
            "layout": {"yaxis": {"autorange": "reversed"}},
        },
        {
            "data": [
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": "rate",
                    "x": ["2026-01-05", "2026-01-12"],
                    "y": [0.2, None],
                },
                {"type": "scatter", "mode": "markers", "name": "flagged", "x": ["2026-01-05"], "y": [0.2]},
            ],
            "layout": {"yaxis": {"tickformat": ".0%"}},
        },
    ):
        chart.show_figure(figure)
        colours = {QColor(p).name() for p in _pixels(chart.grab().toImage())}
        assert len(colours) > 4  # drew something besides background and text


def _pixels(image):
    return [image.pixel(x, y) for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)]
