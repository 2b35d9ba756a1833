"""Plotly figures (plain dicts) for the Explain and Drift pages, built from the frozen domain results.

No Qt here: each function takes a result and returns ``{"data": [...], "layout": {...}}`` for
``ChartView.show_figure``, so the figures can be checked without a window. Colours repeat what a label
already says (a verdict is also written on its bar).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from signoff.domain.drift import ColumnDrift, DriftBin, DriftResult, DriftVerdict
from signoff.domain.explanation import FeatureImportance, GroupImportance, LocalExplanation
from signoff.domain.fairness import MonitoringResult
from signoff.domain.palette import COLOURS, Tone
from signoff.ui.pages.chart_lines import hline, line_label

VERDICT_COLOURS = {
    DriftVerdict.STABLE: COLOURS[Tone.GOOD],
    DriftVerdict.MODERATE: COLOURS[Tone.WARNING],
    DriftVerdict.DRIFTED: COLOURS[Tone.ALERT],
}
MARGIN = {"l": 60, "r": 20, "t": 50, "b": 50}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title, "font": {"size": 14}}, "margin": dict(MARGIN), **extra}


def _errors(items: Sequence[FeatureImportance]) -> dict[str, Any]:
    return {
        "type": "data",
        "symmetric": False,
        "array": [0 if i.ci_high is None else i.ci_high - i.mean_abs_shap for i in items],
        "arrayminus": [0 if i.ci_low is None else i.mean_abs_shap - i.ci_low for i in items],
    }


def importance_figure(importances: Sequence[FeatureImportance], output_space: str) -> dict[str, Any]:
    """Mean |SHAP| per feature as horizontal bars, the most important on top, with bootstrap intervals."""
    shown = list(reversed(importances))  # plotly draws the first bar at the bottom
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [i.feature for i in shown],
                "x": [i.mean_abs_shap for i in shown],
                "error_x": _errors(shown),
                "marker": {"color": "#3b6ea8"},
                "name": "mean |SHAP|",
            }
        ],
        "layout": _layout(
            "Global importance (mean |SHAP|, 95% interval)",
            xaxis={"title": {"text": f"mean |SHAP| ({output_space})"}, "rangemode": "tozero"},
            margin={**MARGIN, "l": 120},
        ),
    }


def segment_figure(
    features: Sequence[str], groups: Sequence[GroupImportance], output_space: str
) -> dict[str, Any]:
    """Grouped bars: for each feature, one bar per group of the chosen attribute."""
    data = []
    for group in groups:
        by_feature = {i.feature: i for i in group.importances}
        items = [by_feature[f] for f in features if f in by_feature]
        note = " (insufficient data)" if group.insufficient else ""
        data.append(
            {
                "type": "bar",
                "name": f"{group.group} (n={group.n:,}){note}",
                "x": [i.feature for i in items],
                "y": [i.mean_abs_shap for i in items],
                "error_y": _errors(items),
                "opacity": 0.45 if group.insufficient else 1.0,
            }
        )
    attribute = groups[0].attribute if groups else ""
    return {
        "data": data,
        "layout": _layout(
            f"Mean |SHAP| per group of {attribute}",
            barmode="group",
            yaxis={"title": {"text": f"mean |SHAP| ({output_space})"}, "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.2},
        ),
    }


def waterfall_figure(local: LocalExplanation, output_space: str) -> dict[str, Any]:
    """From the base value, each feature's SHAP value in turn (largest first), to the row's output."""
    contributions = sorted(local.contributions, key=lambda c: abs(c.shap), reverse=True)
    labels = ["base value"] + [
        c.feature if c.value is None else f"{c.feature} = {c.value:.4g}" for c in contributions
    ]
    values = [local.base_value] + [c.shap for c in contributions]
    total = local.base_value + sum(c.shap for c in contributions)
    return {
        "data": [
            {
                "type": "waterfall",
                "orientation": "h",
                "y": [*labels, "output"],
                "x": [*values, total],
                "measure": ["absolute"] + ["relative"] * len(contributions) + ["total"],
                "text": [f"{local.base_value:.3g}"]
                + [f"{c.shap:+.3g}" for c in contributions]
                + [f"{total:.3g}"],
                "textposition": "outside",
                "cliponaxis": False,
                "increasing": {"marker": {"color": "#c62828"}},
                "decreasing": {"marker": {"color": "#1f6fb2"}},
                "totals": {"marker": {"color": "#555555"}},
                "connector": {"line": {"color": "#999999"}},
            }
        ],
        "layout": _layout(
            f"Row {local.row_id}: base value + SHAP values = output ({output_space})",
            yaxis={"autorange": "reversed"},
            margin={**MARGIN, "l": 160, "r": 70},
        ),
    }


def drift_figure(result: DriftResult) -> dict[str, Any]:
    """PSI per column, coloured and labelled by verdict, with the two PSI thresholds as lines."""
    columns = list(result.columns)
    thresholds = result.thresholds
    lines = [
        (thresholds.psi_moderate, "moderate", VERDICT_COLOURS[DriftVerdict.MODERATE]),
        (thresholds.psi_significant, "significant", VERDICT_COLOURS[DriftVerdict.DRIFTED]),
    ]
    return {
        "data": [
            {
                "type": "bar",
                "x": [c.column for c in columns],
                "y": [c.psi for c in columns],
                "text": [c.verdict.value for c in columns],
                "textposition": "outside",
                "marker": {"color": [VERDICT_COLOURS[c.verdict] for c in columns]},
                "name": "PSI",
            }
        ],
        "layout": _layout(
            "Population stability index per column",
            yaxis={"title": {"text": "PSI"}, "rangemode": "tozero"},
            shapes=[hline(value, colour, "dash") for value, _name, colour in lines],
            annotations=[line_label(value, f"{name} {value:g}") for value, name, _colour in lines],
        ),
    }


def bins_figure(column: ColumnDrift) -> dict[str, Any]:
    """Share of rows per bin in the reference and the current log, for one column."""
    reference_total = sum(b.reference_count for b in column.bins) or 1
    current_total = sum(b.current_count for b in column.bins) or 1
    labels = [_bin_label(b) for b in column.bins]
    return {
        "data": [
            {
                "type": "bar",
                "name": "reference",
                "x": labels,
                "y": [b.reference_count / reference_total for b in column.bins],
                "marker": {"color": "#7f7f7f"},
            },
            {
                "type": "bar",
                "name": "current",
                "x": labels,
                "y": [b.current_count / current_total for b in column.bins],
                "marker": {"color": "#3b6ea8"},
            },
        ],
        "layout": _layout(
            f"{column.column}: share of rows per bin ({column.verdict.value})",
            barmode="group",
            yaxis={"title": {"text": "share of rows"}, "tickformat": ".0%"},
            xaxis={"tickangle": -35, "automargin": True},
            # Above the plot, right-aligned: inside it the legend covered the first bins' bars.
            legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        ),
    }


def _bin_label(b: DriftBin) -> str:
    """A numeric bin as ``(lower, upper]`` with short numbers; a category or the missing bin as is."""
    if b.lower is None and b.upper is None:
        return b.label
    lower = "-inf" if b.lower is None else f"{b.lower:.3g}"
    upper = "inf" if b.upper is None else f"{b.upper:.3g}"
    return f"({lower}, {upper}]"


def monitoring_figure(result: MonitoringResult) -> dict[str, Any]:
    """Positive rate per window with its control band; windows outside the band are marked."""
    windows = list(result.windows)
    starts = [w.start for w in windows]
    flagged = [w for w in windows if w.flagged]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"upper ({result.sigmas:g} sigma)",
                "x": starts,
                "y": [w.upper for w in windows],
                "line": {"dash": "dot", "color": "#999999"},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"lower ({result.sigmas:g} sigma)",
                "x": starts,
                "y": [w.lower for w in windows],
                "line": {"dash": "dot", "color": "#999999"},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "positive rate",
                "x": starts,
                "y": [w.rate for w in windows],
                "line": {"color": "#3b6ea8"},
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": "outside the band",
                "x": [w.start for w in flagged],
                "y": [w.rate for w in flagged],
                "marker": {"color": COLOURS[Tone.ALERT], "size": 12, "symbol": "x"},
            },
        ],
        "layout": _layout(
            f"Positive rate per {result.frequency} (overall {result.overall_rate or 0:.3f})",
            yaxis={"title": {"text": "positive rate"}, "tickformat": ".0%"},
            legend={"orientation": "h", "y": -0.2},
        ),
    }
