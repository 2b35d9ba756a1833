"""Performance overall and per segment: binary, multiclass (one-vs-rest) and regression.

Like fairness, everything comes from one pass over the rows into a joint count table. Binary tasks
report the confusion-table rates (see ``signoff.analysis.metrics`` for the conventions) and, with
scores, exact ROC AUC, Brier score and ECE. Multiclass tasks report ``accuracy`` and every rate one
class against the rest (``tpr[cat]``). Regression reports mean prediction, MAE, RMSE and mean residual
(residual = label - prediction); its intervals are not bootstrapped from counts, so it has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

import signoff
from signoff.analysis.counted import calibration_cells, calibration_sums, split, weighted_auc
from signoff.analysis.counts import JointGroups, Tally, binary_cells, tally
from signoff.analysis.group_metrics import (
    GroupContext,
    group_metrics,
    interval,
    json_float,
    params_json,
    score_metrics,
    segment_rates,
)
from signoff.analysis.inputs import (
    as_frame,
    binary_outcomes,
    display,
    outcome_domain,
    probability_scores,
    require_columns,
)
from signoff.analysis.intervals import percentile_interval, resample, wilson
from signoff.analysis.metrics import (
    ECE_BINS,
    PROPORTIONS,
    AucAhead,
    binary_rates,
    divide,
    one_vs_rest,
    proportion_parts,
)
from signoff.analysis.progress import Stages
from signoff.analysis.segments import Segment, encode_attributes, plan_segments
from signoff.domain.analysis_requests import DEFAULT_MIN_GROUP_SIZE, PerformanceRequest
from signoff.domain.errors import InputError
from signoff.domain.fairness import GroupMetrics
from signoff.domain.performance import PerformanceResult, PerformanceSegment

TASKS = ("binary", "multiclass", "regression")


def detect_task(frame: pd.DataFrame, label: str, prediction: str) -> str:
    """Regression when either column holds non-integer numbers; else binary or multiclass by domain."""
    for name in (label, prediction):
        col = frame[name]
        if pd.api.types.is_float_dtype(col.dtype):
            values = col.to_numpy(dtype=float, na_value=np.nan)
            if not np.all(np.isnan(values) | (values == np.round(values))):
                return "regression"
    return "binary" if len(outcome_domain(frame, label, prediction)) <= 2 else "multiclass"


def _multiclass_groups(
    labels: Sequence[str],
    classes: Sequence[str],
    table: np.ndarray,
    boot_table: np.ndarray | None,
    insufficient: np.ndarray,
    unknown: np.ndarray,
) -> list[GroupMetrics]:
    n_classes = len(classes)
    ovr = one_vs_rest(table, n_classes)  # (G, C, 4)
    rates = binary_rates(ovr)
    counts = table.sum(axis=-1)
    accuracy = divide(np.trace(table.reshape(-1, n_classes, n_classes), axis1=-2, axis2=-1), counts)
    boot_rates = boot_acc = None
    if boot_table is not None:
        boot_rates = binary_rates(one_vs_rest(boot_table, n_classes))
        bm = boot_table.reshape(*boot_table.shape[:-1], n_classes, n_classes)
        boot_acc = divide(np.trace(bm, axis1=-2, axis2=-1), boot_table.sum(axis=-1))
    out = []
    for g, group in enumerate(labels):
        metrics: dict[str, float | None] = {"accuracy": json_float(accuracy[g])}
        boot: dict[str, tuple[float | None, float | None]] = {}
        wil: dict[str, tuple[float | None, float | None]] = {}
        if boot_acc is not None:
            lo, hi = percentile_interval(boot_acc[:, g : g + 1])
            boot["accuracy"] = interval(lo[0], hi[0])
        for c, cls in enumerate(classes):
            for name, values in rates.items():
                key = f"{name}[{cls}]"
                metrics[key] = json_float(values[g, c])
                if boot_rates is not None:
                    lo, hi = percentile_interval(boot_rates[name][:, g, c : c + 1])
                    boot[key] = interval(lo[0], hi[0])
                if name in PROPORTIONS:
                    lo, hi = wilson(*proportion_parts(ovr[g, c], name))
                    wil[key] = interval(lo, hi)
        out.append(
            GroupMetrics(
                group=group,
                count=int(counts[g]),
                metrics=metrics,
                bootstrap=boot,
                wilson=wil,
                insufficient=bool(insufficient[g]),
                unknown=bool(unknown[g]),
            )
        )
    return out


def _regression_groups(
    labels: Sequence[str],
    reg: Tally,
    smap: np.ndarray,
    n_groups: int,
    insufficient: np.ndarray,
    unknown: np.ndarray,
) -> list[GroupMetrics]:
    counts = reg.marginal(smap, n_groups)[:, 0]
    sums = {k: reg.marginal(smap, n_groups, v)[:, 0] for k, v in reg.sums.items()}
    values = {
        "mean_prediction": divide(sums["prediction"], counts),
        "mae": divide(sums["abs_residual"], counts),
        "rmse": np.sqrt(divide(sums["sq_residual"], counts)),
        "mean_residual": divide(sums["residual"], counts),
    }
    return [
        GroupMetrics(
            group=group,
            count=int(counts[g]),
            metrics={k: json_float(v[g]) for k, v in values.items()},
            insufficient=bool(insufficient[g]),
            unknown=bool(unknown[g]),
        )
        for g, group in enumerate(labels)
    ]


def run_performance(
    frame: pd.DataFrame,
    *,
    label: str,
    prediction: str,
    sensitive: Sequence[str] = (),
    scores: str | None = None,
    task: str | None = None,
    positive_label: Any = None,
    intersections: bool | int | Sequence[Sequence[str]] = True,
    bins: Mapping[str, Sequence[float]] | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    n_resamples: int = 1000,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PerformanceResult:
    """Performance overall and for every group of every segment. ``task`` None: detected."""
    stages = Stages(progress, cancelled)
    frame, counted = split(frame)
    frame = as_frame(frame)
    rows = None if counted is None else counted.rows
    require_columns(frame, label, prediction)
    task = task or detect_task(frame, label, prediction)
    if task not in TASKS:
        raise InputError(f"task must be one of {list(TASKS)}, got {task!r}")
    if counted is not None and task == "regression":
        raise InputError("a regression log's performance needs its rows; import the log to analyse it")
    attributes = encode_attributes(frame, sensitive, bins)
    segments: list[Segment | None] = [None, *plan_segments(attributes, intersections)]
    joint = JointGroups.from_attributes(attributes, len(frame))
    stages.reached(0.1)
    n = len(frame) if counted is None else counted.n_rows
    classes: tuple[str, ...] = ()
    positive_shown = None
    built: list[tuple[Segment | None, list[GroupMetrics]]] = []

    def masks(segment: Segment | None, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unknown = segment.unknown_mask() if segment is not None else np.array([False])
        return counts < min_group_size, unknown

    if task == "binary":
        y, p, positive = binary_outcomes(frame, label, prediction, positive_label)
        positive_shown = display(positive)
        conf = tally(joint, binary_cells(y, p), 4, rows=rows)
        cal = order = None
        if scores is not None:
            s = probability_scores(frame, scores)
            cal = tally(
                joint, calibration_cells(counted, y, s), 2 * ECE_BINS, calibration_sums(counted, y, s), rows
            )
            if counted is None:
                maps = [joint.segment_map(segment) for segment in segments]
                order = AucAhead(s, y, joint.codes, joint.size, maps)
            else:
                order = weighted_auc(counted, s, y, joint.codes)
        boot = resample(conf, n_resamples, seed) if n_resamples else None
        ctx = GroupContext(n, conf, boot, cal, order, joint, min_group_size, 0.0, "largest")
        stages.reached(0.3)
        for i, segment in enumerate(segments):
            smap, n_groups = joint.segment_map(segment)
            table, rates, _ = segment_rates(ctx, smap, n_groups)
            insufficient, unknown = masks(segment, table.sum(axis=-1))
            labels = segment.labels() if segment is not None else ["overall"]
            extra = score_metrics(ctx, segment, smap, n_groups)
            built.append((segment, group_metrics(labels, table, rates, extra, insufficient, unknown, n)))
            stages.reached(0.3 + 0.7 * (i + 1) / len(segments))
    elif task == "multiclass":
        if scores is not None:
            raise InputError("scores are supported for binary tasks only", column=scores)
        domain = outcome_domain(frame, label, prediction)
        classes = tuple(display(v) for v in domain)
        y_codes = np.searchsorted(np.array(domain, dtype=object), frame[label].to_numpy(dtype=object))
        p_codes = np.searchsorted(np.array(domain, dtype=object), frame[prediction].to_numpy(dtype=object))
        k = len(domain)
        conf = tally(joint, y_codes.astype(np.int64) * k + p_codes, k * k, rows=rows)
        boot = resample(conf, n_resamples, seed) if n_resamples else None
        stages.reached(0.3)
        for i, segment in enumerate(segments):
            smap, n_groups = joint.segment_map(segment)
            table = conf.marginal(smap, n_groups)
            boot_table = boot.marginal(smap, n_groups) if boot is not None else None
            insufficient, unknown = masks(segment, table.sum(axis=-1))
            labels = segment.labels() if segment is not None else ["overall"]
            built.append(
                (segment, _multiclass_groups(labels, classes, table, boot_table, insufficient, unknown))
            )
            stages.reached(0.3 + 0.7 * (i + 1) / len(segments))
    else:
        try:
            y_num = pd.to_numeric(frame[label], errors="raise").to_numpy(dtype=float, na_value=np.nan)
            p_num = pd.to_numeric(frame[prediction], errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise InputError(f"regression needs numeric labels and predictions: {exc}") from exc
        bad = np.isnan(y_num) | np.isnan(p_num)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise InputError(f"{int(bad.sum())} rows lack a label or a prediction", row=first + 1)
        res = y_num - p_num
        reg = tally(
            joint,
            np.zeros(n, dtype=np.int64),
            1,
            {"prediction": p_num, "abs_residual": np.abs(res), "sq_residual": res * res, "residual": res},
        )
        stages.reached(0.3)
        for segment in segments:
            smap, n_groups = joint.segment_map(segment)
            counts = reg.marginal(smap, n_groups)[:, 0]
            insufficient, unknown = masks(segment, counts)
            labels = segment.labels() if segment is not None else ["overall"]
            built.append((segment, _regression_groups(labels, reg, smap, n_groups, insufficient, unknown)))

    overall = built[0][1][0]
    perf_segments = []
    for segment, groups in built[1:]:
        assert segment is not None
        perf_segments.append(
            PerformanceSegment(
                name=segment.name,
                attributes=tuple(a.name for a in segment.attributes),
                groups=tuple(groups),
                unknown_count=sum(g.count for g in groups if g.unknown),
            )
        )
    params = params_json(
        label=label,
        prediction=prediction,
        sensitive=list(sensitive),
        scores=scores,
        task=task,
        positive_label=positive_shown,
        intersections=[
            seg.name.split("&") for seg in segments if seg is not None and len(seg.attributes) > 1
        ],
        bins={k: [float(e) for e in v] for k, v in (bins or {}).items()},
        min_group_size=min_group_size,
        n_resamples=n_resamples if task != "regression" else 0,
        seed=seed,
        confidence_level=0.95,
        ece_bins=ECE_BINS,
    )
    return PerformanceResult(
        params=params,
        task=task,
        n_rows=n,
        overall=overall,
        segments=tuple(perf_segments),
        classes=classes,
        positive_label=positive_shown,
        engine_version=signoff.__version__,
    )


def analyze(
    request: PerformanceRequest,
    frames: Mapping[str, pd.DataFrame],
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PerformanceResult:
    """``run_performance`` on the request's log (``frames["log"]``), with the request's parameters."""
    mapping = request.log.mapping
    return run_performance(
        frames["log"],
        label=mapping.label,
        prediction=mapping.prediction,
        scores=request.scores,
        task=request.task,
        sensitive=request.attributes,
        intersections=request.intersections,
        bins=request.bins,
        positive_label=request.positive_label,
        min_group_size=request.min_group_size,
        n_resamples=request.n_resamples,
        seed=request.seed,
        progress=progress,
        cancelled=cancelled,
    )
