"""Threshold lines for the plotly figures (plain dicts, no Qt): a horizontal line across the plot at a
value (the 0.8 four-fifths line, the overall rate, the PSI thresholds) and its label at the right end.
"""

from __future__ import annotations

from typing import Any


def hline(y: float, colour: str, dash: str, width: float | None = None) -> dict[str, Any]:
    """A horizontal line across the whole plot at ``y`` (a layout shape); ``width`` None: plotly's."""
    line: dict[str, Any] = {"color": colour, "dash": dash}
    if width is not None:
        line["width"] = width
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y, "line": line}


def line_label(y: float, text: str) -> dict[str, Any]:
    """The label of a line at ``y``, just above it at the plot's right edge (a layout annotation)."""
    return {
        "xref": "paper",
        "x": 1,
        "y": y,
        "xanchor": "right",
        "yanchor": "bottom",
        "showarrow": False,
        "text": text,
        "font": {"size": 10},
        "bgcolor": "rgba(255,255,255,0.8)",  # readable where the line crosses a bar
    }
