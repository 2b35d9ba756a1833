"""Static pictures of the app's plotly figures, drawn with QPainter, for when QtWebEngine cannot start.

Reads the same figure dicts as the interactive view and draws the trace kinds the pages use (bars, grouped
or horizontal, with error bars; waterfalls; lines and markers; heat maps with their cell texts), the
threshold lines and their labels, the title and a legend. No hover and no zoom: enough to read the result.
"""

from __future__ import annotations

import math
import re
from itertools import pairwise
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QWidget

from signoff.ui.formatting import missing, number

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_DASHES = {"dash": Qt.PenStyle.DashLine, "dot": Qt.PenStyle.DotLine, "dashdot": Qt.PenStyle.DashDotLine}
_TAG = re.compile(r"<[^>]+>")
STATIC_NOTE = "static picture"
_CENTRE = int(Qt.AlignmentFlag.AlignCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


def plain(text: Any) -> str:
    """Plotly's small HTML (``<br>``, ``<span>``) as plain lines of text."""
    return _TAG.sub("", re.sub(r"<br\s*/?>", "\n", str(text or ""))).strip()


def _value(v: Any) -> float | None:
    return None if v is None or isinstance(v, str) or missing(v) else float(v)


def _title_text(layout: dict) -> str:
    title = layout.get("title")
    return plain(title.get("text") if isinstance(title, dict) else title)


def _axis_title(layout: dict, axis: str) -> str:
    title = (layout.get(axis) or {}).get("title")
    return plain(title.get("text") if isinstance(title, dict) else title)


def _colour(spec: Any, index: int, fallback: str) -> QColor:
    if isinstance(spec, list):
        spec = spec[index] if index < len(spec) else None
    return QColor(spec if isinstance(spec, str) else fallback)


def _fitting_font(font: QFont, lines: list[str], width: float) -> QFont:
    """``font`` made smaller (down to 7 points) until every line fits ``width``."""
    fitted = QFont(font)
    size = fitted.pointSizeF()
    while size > 7 and any(QFontMetrics(fitted).horizontalAdvance(t) > width for t in lines):
        size -= 0.5
        fitted.setPointSizeF(size)
    return fitted


def _nice_step(rough: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten: ticks a reader can add up."""
    if rough <= 0 or not math.isfinite(rough):
        return 1.0
    power = 10 ** math.floor(math.log10(rough))
    return next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= rough)


class StaticChart(QWidget):
    """Draws the last figure handed to ``show_figure``; says at its foot that it is a static picture."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure: dict = {"data": [], "layout": {}}
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), QColor("white"))
        self.setPalette(palette)

    def show_figure(self, figure: dict, label: str = "chart") -> None:
        self.figure = figure
        self.setAccessibleName(label)
        self.update()

    # -- drawing ---------------------------------------------------------------------------------------

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor("#222"))
        font = QFont(self.font())
        metrics = QFontMetrics(font)
        line = metrics.height()
        layout = self.figure.get("layout", {}) or {}
        traces = [t for t in self.figure.get("data", []) or [] if isinstance(t, dict)]

        title = _title_text(layout)
        title_lines = title.count("\n") + 1 if title else 0
        shown_title = "\n".join(
            metrics.elidedText(part, Qt.TextElideMode.ElideRight, self.width() - 16)
            for part in title.splitlines()
        )
        painter.drawText(QRectF(8, 4, self.width() - 16, line * title_lines + 2), 0, shown_title)
        names = [plain(t.get("name")) for t in traces if t.get("name")]
        legend_rows = 1 if len(names) > 1 else 0
        foot = line + 4  # the "static picture" note
        y_title = _axis_title(layout, "yaxis")
        plot = QRectF(
            self._left_margin(traces, metrics) + (line + 4 if y_title else 0),
            8 + line * title_lines + 8,
            0,
            0,
        )
        plot.setRight(self.width() - 24)
        plot.setBottom(self.height() - foot - line * (2 + legend_rows) - 8)
        if plot.width() < 40 or plot.height() < 40:
            painter.end()
            return

        heatmaps = [t for t in traces if t.get("type") == "heatmap"]
        if heatmaps:
            self._heatmap(painter, plot, heatmaps[0], metrics)
        elif traces:
            self._cartesian(painter, plot, traces, layout, metrics)
        for note in layout.get("annotations", []) or []:
            if note.get("xref") == "paper" and note.get("yref") == "paper":
                x = plot.left() + float(note.get("x", 0.5)) * plot.width()
                y = plot.bottom() - float(note.get("y", 0.5)) * plot.height()
                text = plain(note.get("text"))
                box = QRectF(x - plot.width() / 2, y - line, plot.width(), line * (text.count("\n") + 2))
                if note.get("xanchor") == "left":
                    box.moveLeft(x)
                flags = Qt.AlignmentFlag.AlignHCenter if note.get("xanchor") != "left" else 0
                painter.drawText(box, int(flags) | int(Qt.TextFlag.TextWordWrap), text)
        if legend_rows:
            self._legend(painter, traces, plot.bottom() + line * 2 + 4, metrics)
        painter.setPen(QColor("#777"))
        painter.drawText(
            QRectF(8, self.height() - foot, self.width() - 16, foot),
            _RIGHT,
            metrics.elidedText(STATIC_NOTE, Qt.TextElideMode.ElideRight, self.width() - 16),
        )
        painter.end()

    def _left_margin(self, traces: list[dict], metrics: QFontMetrics) -> float:
        labels = []
        for t in traces:
            if t.get("type") == "heatmap" or t.get("orientation") == "h":
                labels += [str(v) for v in t.get("y", []) or []]
        widest = max((metrics.horizontalAdvance(s) for s in labels), default=0)
        return min(max(56.0, widest + 16.0), self.width() / 3)

    def _cartesian(
        self, painter: QPainter, plot: QRectF, traces: list[dict], layout: dict, metrics: QFontMetrics
    ) -> None:
        horizontal = any(t.get("orientation") == "h" for t in traces)
        across, along = ("y", "x") if horizontal else ("x", "y")
        categories: list[str] = []
        for t in traces:
            for c in t.get(across, []) or []:
                if str(c) not in categories:
                    categories.append(str(c))
        values: list[float] = [0.0]
        bars = [t for t in traces if t.get("type") in ("bar", "waterfall")]
        for t in traces:
            raw = [_value(v) for v in t.get(along, []) or []]
            if t.get("type") == "waterfall":
                raw = [v for _c, v in self._waterfall_steps(t)]
                raw += [start for start, _v in self._waterfall_steps(t)]
            high = t.get(f"error_{along}", {}).get("array", []) or []
            low = t.get(f"error_{along}", {}).get("arrayminus", []) or []
            for i, v in enumerate(raw):
                if v is None:
                    continue
                values.append(v)
                if i < len(high) and _value(high[i]) is not None:
                    values.append(v + float(high[i]))
                if i < len(low) and _value(low[i]) is not None:
                    values.append(v - float(low[i]))
        for shape in layout.get("shapes", []) or []:
            if _value(shape.get("y0")) is not None:
                values.append(float(shape["y0"]))
        axis = layout.get(f"{along}axis", {}) or {}
        low_value, high_value = (axis.get("range") or [min(values), max(values)])[:2]
        if high_value <= low_value:
            high_value = low_value + 1.0
        step = _nice_step((high_value - low_value) / 5)
        if not axis.get("range"):  # widen to whole steps, as plotly's autorange does
            low_value = math.floor(low_value / step + 1e-9) * step
            high_value = math.ceil(high_value / step - 1e-9) * step
        span = high_value - low_value
        ticks = [low_value + k * step for k in range(round(span / step) + 1)]

        def position(v: float) -> float:
            share = (v - low_value) / span
            if horizontal:
                return plot.left() + share * plot.width()
            return plot.bottom() - share * plot.height()

        slots = max(len(categories), 1)
        slot = (plot.height() if horizontal else plot.width()) / slots

        def slot_start(i: int) -> float:
            if horizontal:
                reversed_axis = (layout.get("yaxis", {}) or {}).get("autorange") == "reversed"
                row = i if reversed_axis else slots - 1 - i  # plotly draws the first category at the bottom
                return plot.top() + row * slot
            return plot.left() + i * slot

        # grid and value labels
        painter.setPen(QPen(QColor("#e5e5e5"), 1))
        for v in ticks:
            p = position(v)
            if horizontal:
                painter.drawLine(QPointF(p, plot.top()), QPointF(p, plot.bottom()))
            else:
                painter.drawLine(QPointF(plot.left(), p), QPointF(plot.right(), p))
        painter.setPen(QColor("#444"))
        for v in ticks:
            p = position(v)
            text = number(round(v, 10), 3)
            if horizontal:
                painter.drawText(QRectF(p - 40, plot.bottom() + 2, 80, metrics.height()), _CENTRE, text)
            else:
                painter.drawText(
                    QRectF(0, p - metrics.height() / 2, plot.left() - 4, metrics.height()), _RIGHT, text
                )
        # category labels, elided to their slot
        for i, c in enumerate(categories):
            start = slot_start(i)
            if horizontal:
                box = QRectF(2, start, plot.left() - 6, slot)
                painter.drawText(
                    box, _RIGHT, metrics.elidedText(c, Qt.TextElideMode.ElideRight, int(box.width()))
                )
            elif i % max(1, math.ceil(metrics.horizontalAdvance("0000-00-00") * slots / plot.width())) == 0:
                box = QRectF(start, plot.bottom() + 2, max(slot, 80), metrics.height())
                painter.drawText(
                    box, _LEFT, metrics.elidedText(c, Qt.TextElideMode.ElideRight, int(box.width()))
                )
        painter.setPen(QPen(QColor("#888"), 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        painter.setPen(QColor("#444"))
        x_title, y_title = _axis_title(layout, "xaxis"), _axis_title(layout, "yaxis")
        if x_title:
            painter.drawText(
                QRectF(plot.left(), plot.bottom() + metrics.height() + 2, plot.width(), metrics.height()),
                _CENTRE,
                metrics.elidedText(x_title, Qt.TextElideMode.ElideRight, int(plot.width())),
            )
        if y_title:  # written upwards along the left edge
            painter.save()
            painter.translate(4, plot.center().y())
            painter.rotate(-90)
            text = metrics.elidedText(y_title, Qt.TextElideMode.ElideRight, int(plot.height()))
            painter.drawText(QRectF(-plot.height() / 2, 0, plot.height(), metrics.height()), _CENTRE, text)
            painter.restore()

        for n, t in enumerate(bars):
            width = slot * 0.8 / len(bars)
            offset = slot * 0.1 + n * width
            steps = (
                self._waterfall_steps(t)
                if t.get("type") == "waterfall"
                else [(0.0, _value(v)) for v in t.get(along, []) or []]
            )
            errors = t.get(f"error_{along}", {}) or {}
            for j, (base, v) in enumerate(steps):
                cats = t.get(across, []) or []
                if v is None or j >= len(cats):
                    continue
                i = categories.index(str(cats[j]))
                colour = self._bar_colour(t, j, n)
                start = slot_start(i) + offset
                a, b = position(base), position(v)
                rect = (
                    QRectF(min(a, b), start, abs(b - a), width)
                    if horizontal
                    else QRectF(start, min(a, b), width, abs(b - a))
                )
                painter.fillRect(rect, colour)
                self._error_bar(painter, errors, j, v, position, start + width / 2, horizontal)

        for n, t in enumerate(x for x in traces if x.get("type") == "scatter"):
            colour = _colour(
                (t.get("line") or {}).get("color") or (t.get("marker") or {}).get("color"), 0, PALETTE[n % 8]
            )
            mode = t.get("mode", "lines+markers")
            points = []
            for c, v in zip(t.get(across, []) or [], t.get(along, []) or [], strict=False):
                v = _value(v)
                if v is None or str(c) not in categories:
                    points.append(None)
                    continue
                middle = slot_start(categories.index(str(c))) + slot / 2
                points.append(QPointF(position(v), middle) if horizontal else QPointF(middle, position(v)))
            pen = QPen(colour, 2, _DASHES.get((t.get("line") or {}).get("dash"), Qt.PenStyle.SolidLine))
            painter.setPen(pen)
            if "lines" in mode:
                for p, q in pairwise(points):
                    if p is not None and q is not None:
                        painter.drawLine(p, q)
            if "markers" in mode:
                painter.setBrush(colour)
                for p in points:
                    if p is not None:
                        painter.drawEllipse(p, 3.5, 3.5)
                painter.setBrush(Qt.BrushStyle.NoBrush)

        for shape in layout.get("shapes", []) or []:
            y = _value(shape.get("y0"))
            if y is None:
                continue
            style = shape.get("line", {}) or {}
            painter.setPen(
                QPen(
                    QColor(style.get("color", "#555")),
                    1.5,
                    _DASHES.get(style.get("dash"), Qt.PenStyle.SolidLine),
                )
            )
            p = position(y)
            painter.drawLine(QPointF(plot.left(), p), QPointF(plot.right(), p))
        painter.setPen(QColor("#333"))
        for note in layout.get("annotations", []) or []:
            y = _value(note.get("y")) if note.get("yref") != "paper" else None
            if y is not None and not horizontal:
                text = plain(note.get("text"))
                wide = metrics.horizontalAdvance(text) + 4
                box = QRectF(
                    plot.right() - wide - 2, position(y) - metrics.height() - 1, wide, metrics.height()
                )
                painter.fillRect(box, QColor(255, 255, 255, 210))  # readable over a bar
                painter.drawText(box, _RIGHT, text)

    @staticmethod
    def _waterfall_steps(trace: dict) -> list[tuple[float, float | None]]:
        """(start, end) of each waterfall bar: absolute and total bars start at 0, relative ones where the
        running sum stands."""
        steps, running = [], 0.0
        measures = trace.get("measure", []) or []
        for i, raw in enumerate(trace.get("x", []) or []):
            v = _value(raw)
            measure = measures[i] if i < len(measures) else "relative"
            if v is None:
                steps.append((running, None))
            elif measure == "absolute":
                running = v
                steps.append((0.0, v))
            elif measure == "total":
                steps.append((0.0, running))
            else:
                steps.append((running, running + v))
                running += v
        return steps

    @staticmethod
    def _bar_colour(trace: dict, index: int, n: int) -> QColor:
        if trace.get("type") == "waterfall":
            measures = trace.get("measure", []) or []
            measure = measures[index] if index < len(measures) else "relative"
            value = _value((trace.get("x") or [0])[index]) or 0.0
            key = "totals" if measure != "relative" else "increasing" if value >= 0 else "decreasing"
            return _colour(((trace.get(key) or {}).get("marker") or {}).get("color"), 0, "#555")
        colour = _colour((trace.get("marker") or {}).get("color"), index, PALETTE[n % 8])
        if _value(trace.get("opacity")) is not None:
            colour.setAlphaF(float(trace["opacity"]))
        return colour

    @staticmethod
    def _error_bar(
        painter, errors: dict, j: int, v: float, position, middle: float, horizontal: bool
    ) -> None:
        high = (errors.get("array") or [])[j : j + 1]
        low = (errors.get("arrayminus") or errors.get("array") or [])[j : j + 1]
        if not high or _value(high[0]) is None:
            return
        a = position(v + float(high[0]))
        b = position(v - float(_value(low[0]) or 0.0)) if low else position(v)
        painter.setPen(QPen(QColor("#333"), 1))
        if horizontal:
            painter.drawLine(QPointF(a, middle), QPointF(b, middle))
            for end in (a, b):
                painter.drawLine(QPointF(end, middle - 4), QPointF(end, middle + 4))
        else:
            painter.drawLine(QPointF(middle, a), QPointF(middle, b))
            for end in (a, b):
                painter.drawLine(QPointF(middle - 4, end), QPointF(middle + 4, end))

    def _heatmap(self, painter: QPainter, plot: QRectF, trace: dict, metrics: QFontMetrics) -> None:
        columns = [str(c) for c in trace.get("x", []) or []]
        rows = [str(r) for r in trace.get("y", []) or []]
        z = trace.get("z", []) or []
        texts = trace.get("text", []) or []
        found = [_value(v) for row in z for v in row]
        known = [v for v in found if v is not None]
        low, high = (min(known), max(known)) if known else (0.0, 1.0)
        if not rows or not columns:
            return
        width, height = plot.width() / len(columns), plot.height() / len(rows)
        for r, name in enumerate(rows):
            # plotly draws the first row at the bottom
            top = plot.bottom() - (r + 1) * height
            painter.setPen(QColor("#444"))
            painter.drawText(QRectF(2, top, plot.left() - 6, height), _RIGHT, name)
            for c in range(len(columns)):
                value = _value(z[r][c]) if r < len(z) and c < len(z[r]) else None
                cell = QRectF(plot.left() + c * width, top, width, height)
                if value is None:
                    painter.fillRect(cell, QColor("white"))
                else:
                    share = 0.0 if high == low else (value - low) / (high - low)
                    colour = QColor.fromRgbF(0.87 - 0.8 * share, 0.92 - 0.6 * share, 0.97 - 0.4 * share)
                    painter.fillRect(cell, colour)
                painter.setPen(
                    QColor("white")
                    if value is not None and (high == low or (value - low) / (high - low) > 0.6)
                    else QColor("#222")
                )
                text = plain(texts[r][c]) if r < len(texts) and c < len(texts[r]) else number(value, 3)
                painter.save()
                painter.setFont(_fitting_font(painter.font(), text.splitlines(), width - 4))
                small = QFontMetrics(painter.font())
                fitted = "\n".join(
                    small.elidedText(part, Qt.TextElideMode.ElideRight, int(width) - 4)
                    for part in text.splitlines()
                )
                painter.drawText(cell, _CENTRE, fitted)
                painter.restore()
        painter.setPen(QColor("#444"))
        for c, name in enumerate(columns):
            box = QRectF(plot.left() + c * width, plot.bottom() + 2, width, metrics.height())
            painter.drawText(box, _CENTRE, metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(width)))

    def _legend(self, painter: QPainter, traces: list[dict], y: float, metrics: QFontMetrics) -> None:
        x = 12.0
        for n, t in enumerate(traces):
            name = plain(t.get("name"))
            if not name:
                continue
            spec = (t.get("marker") or {}).get("color") or (t.get("line") or {}).get("color")
            painter.fillRect(QRectF(x, y + 3, 10, 10), _colour(spec, 0, PALETTE[n % 8]))
            painter.setPen(QColor("#333"))
            painter.drawText(QPointF(x + 14, y + metrics.ascent()), name)
            x += 14 + metrics.horizontalAdvance(name) + 18
