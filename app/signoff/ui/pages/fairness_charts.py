"""Plotly figures (plain dicts) of a fairness result: rates with intervals, impact ratios, intersections.

Pure functions with no Qt, so they are tested on their own; ``ChartView`` draws them offline. A group
with too little data to judge is drawn grey, never hidden; a value that cannot be computed is a gap.
"""

from __future__ import annotations

from typing import Any

from signoff.domain import fairness_flags
from signoff.domain.fairness import GroupMetrics, Interval, SegmentResult
from signoff.domain.fairness_flags import group_flags
from signoff.domain.palette import COLOURS, SEQUENTIAL, Tone
from signoff.ui.formatting import fixed
from signoff.ui.pages.chart_lines import hline, line_label

FOUR_FIFTHS = fairness_flags.FOUR_FIFTHS
# (rows, columns) up to which a heat-map cell shows value and count / the value alone.
HEATMAP_FULL_TEXT = (4, 4)
HEATMAP_VALUES_ONLY = (8, 8)
HEATMAP_ROW_PX = 34
HEATMAP_MIN_HEIGHT = 320
INTERSECTION_SEPARATOR = " & "  # how the analysis names an intersection's groups: "Female & Black"

METRIC_TITLES = {
    "selection_rate": "Selection rate",
    "tpr": "True positive rate",
    "fpr": "False positive rate",
    "tnr": "True negative rate",
    "fnr": "False negative rate",
    "ppv": "Precision (PPV)",
    "npv": "Negative predictive value",
    "fdr": "False discovery rate",
    "for": "False omission rate",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "f1": "F1 score",
    "base_rate": "Base rate (actual positives)",
    "roc_auc": "ROC AUC",
    "brier": "Brier score",
    "ece": "Expected calibration error",
    "share": "Share of rows",
}

# The app-wide meanings (domain/palette.py): the PDF's charts colour the same groups the same way.
JUDGED, INSUFFICIENT, BELOW, REFERENCE = (
    COLOURS[t] for t in (Tone.JUDGED, Tone.MUTED, Tone.ALERT, Tone.REFERENCE)
)
_LAYOUT = {
    "margin": {"l": 48, "r": 12, "t": 58, "b": 56},
    "font": {"size": 11},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "showlegend": False,
}


def metric_title(metric: str) -> str:
    return METRIC_TITLES.get(metric, metric.replace("_", " "))


def metric_interval(group: GroupMetrics, metric: str) -> tuple[Interval, str]:
    """The 95% interval shown for ``metric``: Wilson score for a proportion, else the bootstrap's."""
    if metric in group.wilson:
        return group.wilson[metric], "Wilson"
    if metric in group.bootstrap:
        return group.bootstrap[metric], "bootstrap"
    return (None, None), ""


def shown_groups(segment: SegmentResult) -> list[GroupMetrics]:
    """Groups with at least one row (an unused category has nothing to draw)."""
    return [g for g in segment.groups if g.count > 0]


def rates_figure(segment: SegmentResult, metric: str, overall: GroupMetrics | None = None) -> dict[str, Any]:
    groups = shown_groups(segment)
    values = [g.metrics.get(metric) for g in groups]
    plus, minus, method = [], [], ""
    for g, v in zip(groups, values, strict=True):
        (low, high), how = metric_interval(g, metric)
        method = method or how
        plus.append(None if v is None or high is None else max(high - v, 0.0))
        minus.append(None if v is None or low is None else max(v - low, 0.0))
    colours = [
        INSUFFICIENT if g.insufficient else REFERENCE if g.group == segment.reference else JUDGED
        for g in groups
    ]
    trace: dict[str, Any] = {
        "type": "bar",
        "x": [g.group for g in groups],
        "y": values,
        "marker": {"color": colours},
        "customdata": [[g.count, "insufficient data" if g.insufficient else ""] for g in groups],
        "hovertemplate": "%{x}<br>%{y:.3f}<br>n = %{customdata[0]} %{customdata[1]}<extra></extra>",
    }
    if method:
        trace["error_y"] = {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus}
    layout = dict(_LAYOUT)
    interval = f"95% {method} · " if method else ""
    layout["title"] = _title(
        f"{metric_title(metric)} by {segment.name}", f"{interval}dark: reference · grey: too few"
    )
    layout["yaxis"] = {"rangemode": "tozero", "gridcolor": "#e5e5e5"}
    layout["xaxis"] = {"automargin": True}
    overall_value = overall.metrics.get(metric) if overall is not None else None
    if overall_value is not None:
        layout["shapes"] = [hline(overall_value, "#555", "dot", 1.5)]
        layout["annotations"] = [line_label(overall_value, f"overall {overall_value:.3f}")]
    return {"data": [trace], "layout": layout}


def impact_figure(segment: SegmentResult) -> dict[str, Any]:
    """Impact ratios (selection rate over the highest group's) against the four-fifths line."""
    ratios = [r for r in segment.impact_ratios if not r.excluded]
    values = [r.impact_ratio for r in ratios]
    flags = group_flags(segment)  # the colours are the Flags column's answer, never a second rule
    colours = [
        INSUFFICIENT
        if fairness_flags.INSUFFICIENT in flags.get(r.group, ())
        else BELOW
        if fairness_flags.BELOW_FOUR_FIFTHS in flags.get(r.group, ())
        else JUDGED
        for r in ratios
    ]
    trace: dict[str, Any] = {
        "type": "bar",
        "x": [r.group for r in ratios],
        "y": values,
        "marker": {"color": colours},
        "hovertemplate": "%{x}<br>impact ratio %{y:.3f}<extra></extra>",
    }
    if any(r.ci[0] is not None for r in ratios):
        trace["error_y"] = {
            "type": "data",
            "symmetric": False,
            "array": [
                None if v is None or r.ci[1] is None else max(r.ci[1] - v, 0.0)
                for r, v in zip(ratios, values, strict=True)
            ],
            "arrayminus": [
                None if v is None or r.ci[0] is None else max(v - r.ci[0], 0.0)
                for r, v in zip(ratios, values, strict=True)
            ],
        }
    layout = dict(_LAYOUT)
    layout["title"] = _title(
        f"Impact ratio by {segment.name}", "selection rate / highest group's · red: under 0.8"
    )
    layout["yaxis"] = {"range": [0, 1.1], "gridcolor": "#e5e5e5"}
    layout["xaxis"] = {"automargin": True}
    layout["shapes"] = [hline(FOUR_FIFTHS, BELOW, "dash", 1.5)]
    layout["annotations"] = [line_label(FOUR_FIFTHS, "0.8 four-fifths")]
    if segment.excluded:
        layout["annotations"].append(
            {
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": -0.3,
                "showarrow": False,
                "xanchor": "left",
                "text": "Excluded (under 2% of rows): " + ", ".join(segment.excluded),
            }
        )
    return {"data": [trace], "layout": layout}


def heatmap_figure(segment: SegmentResult | None, metric: str) -> dict[str, Any]:
    """A two-way intersection as a grid of ``metric``; a placeholder when the run has none."""
    layout = dict(_LAYOUT)
    if segment is None or len(segment.attributes) != 2:
        layout["title"] = _title("Intersections", "")
        layout["xaxis"] = {"visible": False}
        layout["yaxis"] = {"visible": False}
        layout["annotations"] = [
            {
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "text": "No two-way intersection in this run:<br>tick two attributes and Intersections, then Analyse.",
            }
        ]
        return {"data": [], "layout": layout}
    rows: list[str] = []
    columns: list[str] = []
    cells: dict[tuple[str, str], GroupMetrics] = {}
    for g in segment.groups:
        first, second = g.group.split(INTERSECTION_SEPARATOR, 1)
        if first not in rows:
            rows.append(first)
        if second not in columns:
            columns.append(second)
        cells[(first, second)] = g
    z, text = [], []
    for r in rows:
        z_row, text_row = [], []
        for c in columns:
            g = cells.get((r, c))
            value = g.metrics.get(metric) if g is not None and g.count > 0 else None
            z_row.append(None if g is not None and g.insufficient else value)
            count = g.count if g is not None else 0
            shown = fixed(value)
            # A cell too small to judge is left blank, as the subtitle says; "(too few)" on top of it
            # overflowed the narrow cells of a wide intersection.
            text_row.append(f"{shown}<br>n={count}")
        z.append(z_row)
        text.append(text_row)
    # What fits in a cell: value and count on small grids, the value alone on larger ones, nothing (the
    # tooltip says it) beyond; labels never overlap, they tilt or wrap instead.
    many_columns = len(columns) > HEATMAP_FULL_TEXT[1]
    in_cell = "%{text}"
    if len(rows) > HEATMAP_FULL_TEXT[0] or many_columns:
        in_cell = "%{z:.3f}"
    if len(rows) > HEATMAP_VALUES_ONLY[0] or len(columns) > HEATMAP_VALUES_ONLY[1]:
        in_cell = ""
    trace = {
        "type": "heatmap",
        "x": columns,
        "y": rows,
        "z": z,
        "text": text,
        "texttemplate": in_cell,
        # The PDF's scale (ColorBrewer Blues): a higher value reads darker, on screen and on paper.
        "colorscale": [[i / (len(SEQUENTIAL) - 1), c] for i, c in enumerate(SEQUENTIAL)],
        "textfont": {"size": 11 if not many_columns else 9},
        "hovertemplate": "%{y} & %{x}<br>%{text}<extra></extra>",
        "colorbar": {"thickness": 10},
        "xgap": 1,
        "ygap": 1,
    }
    first_name, second_name = segment.attributes
    note = "blank: too few rows" + ("; hover a cell for its value and count" if in_cell != "%{text}" else "")
    layout["title"] = _title(f"{metric_title(metric)} by {first_name} × {second_name}", note)
    layout["xaxis"] = {
        "title": {"text": second_name},
        "automargin": True,
        "tickangle": -40 if many_columns or max(map(len, columns), default=0) > 10 else 0,
    }
    layout["yaxis"] = {"title": {"text": first_name}, "automargin": True, "autorange": "reversed"}
    layout["height"] = max(HEATMAP_MIN_HEIGHT, 140 + HEATMAP_ROW_PX * len(rows))
    return {"data": [trace], "layout": layout}


def _title(text: str, note: str) -> dict[str, Any]:
    subtitle = f"<br><span style='font-size:10px;color:#666'>{note}</span>" if note else ""
    return {"text": f"{text}{subtitle}", "x": 0.02, "xanchor": "left", "font": {"size": 13}}
