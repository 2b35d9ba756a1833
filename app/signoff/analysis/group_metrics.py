"""The group-metrics core shared by fairness and performance: rates, intervals and per-group records.

Both analyses count a log once into a joint table (``analysis/counts.py``); this module turns a
segment's marginal of that table into rates (point values and bootstrap resamples), the score-based
metrics (calibration, ROC AUC) and one ``GroupMetrics`` per group with Wilson and bootstrap intervals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from signoff.analysis.counted import WeightedAuc
from signoff.analysis.counts import JointGroups, Tally
from signoff.analysis.intervals import percentile_interval, wilson
from signoff.analysis.metrics import AucAhead, binary_rates, calibration, divide, proportions
from signoff.analysis.segments import Segment
from signoff.domain.fairness import GroupMetrics, Interval, Significance


def json_float(x: Any) -> float | None:
    """A JSON-safe float: NaN/inf become None."""
    x = float(x)
    return x if math.isfinite(x) else None


def interval(low: Any, high: Any) -> Interval:
    return (json_float(low), json_float(high))


@dataclass
class Rates:
    """A segment's rates: point values (groups,) and bootstrap resamples (resamples, groups)."""

    point: dict[str, np.ndarray]
    boot: dict[str, np.ndarray] | None


@dataclass
class GroupContext:
    n_rows: int
    conf: Tally
    boot: Tally | None
    cal: Tally | None
    order: AucAhead | WeightedAuc | None
    joint: JointGroups
    min_group_size: int
    excluded_share: float
    reference: str | Mapping[str, str]


def segment_rates(
    ctx: GroupContext, smap: np.ndarray, n_groups: int
) -> tuple[np.ndarray, Rates, np.ndarray | None]:
    table = ctx.conf.marginal(smap, n_groups)
    point = binary_rates(table)
    point["share"] = divide(table.sum(axis=-1), ctx.n_rows)
    boot = None
    boot_table = None
    if ctx.boot is not None:
        boot_table = ctx.boot.marginal(smap, n_groups)
        boot = binary_rates(boot_table)
        boot["share"] = divide(boot_table.sum(axis=-1), ctx.n_rows)
    return table, Rates(point, boot), boot_table


def score_metrics(
    ctx: GroupContext, segment: Segment | None, smap: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    if ctx.cal is None or ctx.order is None:
        return {}
    counts = ctx.cal.marginal(smap, n_groups)
    scores = ctx.cal.marginal(smap, n_groups, ctx.cal.sums["score"])
    sq = ctx.cal.marginal(smap, n_groups, ctx.cal.sums["sq_error"])
    out = calibration(counts, scores, sq)
    out["roc_auc"] = ctx.order.auc(smap, n_groups)
    if isinstance(ctx.order, WeightedAuc) and ctx.order.histogram:
        out["roc_auc_error_bound"] = ctx.order.bound(smap, n_groups)
    return out


def group_metrics(
    labels: Sequence[str],
    table: np.ndarray,
    rates: Rates,
    extra: Mapping[str, np.ndarray],
    insufficient: np.ndarray,
    unknown: np.ndarray,
    n_rows: int,
    significance: Sequence[Significance | None] | None = None,
) -> list[GroupMetrics]:
    counts = table.sum(axis=-1)
    wilson_bounds = {name: wilson(k, n) for name, (k, n) in proportions(table).items()}
    wilson_bounds["share"] = wilson(counts, np.full_like(counts, n_rows))
    boot_bounds = {}
    if rates.boot:
        # one vectorised pass over every metric: (resamples, metrics * groups)
        names = list(rates.boot)
        stacked = np.stack([rates.boot[k] for k in names], axis=1).reshape(rates.boot[names[0]].shape[0], -1)
        lo, hi = percentile_interval(stacked)
        n_groups = len(labels)
        boot_bounds = {
            k: (lo[j * n_groups : (j + 1) * n_groups], hi[j * n_groups : (j + 1) * n_groups])
            for j, k in enumerate(names)
        }
    out = []
    for i, label in enumerate(labels):
        metrics = {name: json_float(values[i]) for name, values in rates.point.items()}
        metrics.update({name: json_float(values[i]) for name, values in extra.items()})
        out.append(
            GroupMetrics(
                group=label,
                count=int(counts[i]),
                metrics=metrics,
                bootstrap={name: interval(lo[i], hi[i]) for name, (lo, hi) in boot_bounds.items()},
                wilson={name: interval(lo[i], hi[i]) for name, (lo, hi) in wilson_bounds.items()},
                insufficient=bool(insufficient[i]),
                unknown=bool(unknown[i]),
                significance=None if significance is None else significance[i],
            )
        )
    return out


def params_json(**params: Any) -> dict[str, Any]:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return "inf" if v > 0 else "-inf"
        if isinstance(v, Mapping):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if hasattr(v, "item"):
            return clean(v.item())
        return v

    return clean(params)
