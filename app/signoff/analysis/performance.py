"""Performance overall and per segment: binary, multiclass (one-vs-rest) and regression.

Like fairness, everything comes from one pass over the rows into a joint count table. Binary tasks
report the confusion-table rates (see ``signoff.analysis.metrics`` for the conventions) and, with
scores, exact ROC AUC, Brier score and ECE. Multiclass tasks report ``accuracy`` and every rate one
class against the rest (``tpr[cat]``). Regression reports mean prediction, MAE, RMSE and mean residual
(residual = label - prediction); its intervals are not bootstrapped from counts, so it has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import signoff
from signoff.analysis.counted import (
    CountedRows,
    ScoredRows,
    WeightedAuc,
    calibration_cells,
    calibration_sums,
    split,
    weighted_auc,
)
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
from signoff.analysis.progress import Stages, counted_analysis
from signoff.analysis.segments import Segment, plan_segments
from signoff.domain.analysis_requests import DEFAULT_MIN_GROUP_SIZE, PerformanceRequest
from signoff.domain.errors import InputError
from signoff.domain.fairness import GroupMetrics
from signoff.domain.performance import PerformanceResult, PerformanceSegment

if TYPE_CHECKING:  # a log's rows are pandas; the count tables' half of this module runs without it
    import pandas as pd

TASKS = ("binary", "multiclass", "regression")


def detect_task(frame: pd.DataFrame, label: str, prediction: str) -> str:
    """Regression when either column holds non-integer numbers; else binary or multiclass by domain."""
    import pandas as pd

    from signoff.analysis.inputs import outcome_domain

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


@dataclass(frozen=True)
class PerformanceCounts:
    """What every number of a performance result is derived from: the joint count table of the task
    (binary: label x prediction, with score bins and scores; multiclass: label class x predicted class;
    regression: sums of predictions and residuals) and the parameters. See ``FairnessCounts``."""

    task: str
    joint: JointGroups
    segments: tuple[Segment, ...]  # without the whole log, which comes first in a result
    n_rows: int
    conf: Tally  # regression: one cell, with the sums
    cal: Tally | None
    scored: ScoredRows | None
    classes: tuple[str, ...]
    params: dict[str, Any]
    order: AucAhead | WeightedAuc | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "attributes": self.joint.to_dict(),
            "segments": [[a.name for a in segment.attributes] for segment in self.segments],
            "table": self.conf.to_dict(),
            "calibration": None if self.cal is None else self.cal.to_dict(),
            "scores": None if self.scored is None else self.scored.distinct().to_dict(),
            "classes": list(self.classes),
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PerformanceCounts:
        joint = JointGroups.from_dict(data["attributes"])
        by_name = {a.name: a for a in joint.attributes}
        conf = Tally.from_dict(data["table"])
        return cls(
            task=str(data["task"]),
            joint=joint,
            segments=tuple(Segment(tuple(by_name[n] for n in names)) for names in data["segments"]),
            n_rows=int(conf.counts.sum()),  # the labelled rows, every one in the table
            conf=conf,
            cal=None if data.get("calibration") is None else Tally.from_dict(data["calibration"]),
            scored=None if data.get("scores") is None else ScoredRows.from_dict(data["scores"]),
            classes=tuple(map(str, data["classes"])),
            params=dict(data["params"]),
        )


def count_performance(
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
    stages: Stages | None = None,
) -> PerformanceCounts:
    """Count the labelled rows once into the task's table (see ``run_performance``)."""
    import pandas as pd  # here: the tables' other half (performance_from_counts) runs without pandas

    from signoff.analysis.inputs import (
        as_frame,
        binary_outcomes,
        display,
        labelled_rows,
        outcome_domain,
        probability_scores,
        require_columns,
    )
    from signoff.analysis.segments import encode_attributes

    stages = stages or Stages(None, None)
    frame, counted = split(frame)
    frame = as_frame(frame)
    require_columns(frame, label, prediction)
    labelled = labelled_rows(frame, label)
    if not labelled.all():
        # Error rates and AUC need the outcome: rows not labelled yet are left out here (only here).
        if not labelled.any():
            raise InputError("no row has a label yet, so performance cannot be measured", column=label)
        frame = frame[labelled].reset_index(drop=True)
        if counted is not None:
            counted = CountedRows(frame, counted.score_resolution)
    rows = None if counted is None else counted.rows
    task = task or detect_task(frame, label, prediction)
    if task not in TASKS:
        raise InputError(f"task must be one of {list(TASKS)}, got {task!r}")
    if counted is not None and task == "regression":
        raise InputError("a regression log's performance needs its rows; import the log to analyse it")
    attributes = encode_attributes(frame, sensitive, bins)
    segments = plan_segments(attributes, intersections)
    joint = JointGroups.from_attributes(attributes, len(frame))
    stages.reached(0.1)
    n = len(frame) if counted is None else counted.n_rows
    classes: tuple[str, ...] = ()
    positive_shown = None
    cal = order = scored = None
    if task == "binary":
        y, p, positive = binary_outcomes(frame, label, prediction, positive_label)
        positive_shown = display(positive)
        conf = tally(joint, binary_cells(y, p), 4, rows=rows)
        if scores is not None:
            s = probability_scores(frame, scores)
            cal = tally(
                joint, calibration_cells(counted, y, s), 2 * ECE_BINS, calibration_sums(counted, y, s), rows
            )
            if counted is None:
                maps = [joint.segment_map(segment) for segment in (None, *segments)]
                order = AucAhead(s, y, joint.codes, joint.size, maps)
                scored = ScoredRows(joint.codes, y, s, np.ones(len(s), dtype=np.int64))
            else:
                order = weighted_auc(counted, s, y, joint.codes)
                scored = ScoredRows(joint.codes, y, s, counted.rows, counted.score_resolution is not None)
    elif task == "multiclass":
        if scores is not None:
            raise InputError("scores are supported for binary tasks only", column=scores)
        domain = outcome_domain(frame, label, prediction)
        classes = tuple(display(v) for v in domain)
        y_codes = np.searchsorted(np.array(domain, dtype=object), frame[label].to_numpy(dtype=object))
        p_codes = np.searchsorted(np.array(domain, dtype=object), frame[prediction].to_numpy(dtype=object))
        k = len(domain)
        conf = tally(joint, y_codes.astype(np.int64) * k + p_codes, k * k, rows=rows)
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
        conf = tally(
            joint,
            np.zeros(n, dtype=np.int64),
            1,
            {"prediction": p_num, "abs_residual": np.abs(res), "sq_residual": res * res, "residual": res},
        )
    params = params_json(
        label=label,
        prediction=prediction,
        sensitive=list(sensitive),
        scores=scores,
        task=task,
        positive_label=positive_shown,
        intersections=[seg.name.split("&") for seg in segments if len(seg.attributes) > 1],
        bins={k: [float(e) for e in v] for k, v in (bins or {}).items()},
        min_group_size=min_group_size,
        n_resamples=n_resamples if task != "regression" else 0,
        seed=seed,
        confidence_level=0.95,
        ece_bins=ECE_BINS,
    )
    return PerformanceCounts(task, joint, tuple(segments), n, conf, cal, scored, classes, params, order)


def performance_from_counts(counts: PerformanceCounts, stages: Stages | None = None) -> PerformanceResult:
    """Every number of a performance result from its count table and parameters (no rows, no pandas)."""
    stages = stages or Stages(None, None)
    params, task, joint, conf, n = counts.params, counts.task, counts.joint, counts.conf, counts.n_rows
    min_group_size = int(params["min_group_size"])
    n_resamples, seed = int(params["n_resamples"]), int(params["seed"])
    segments: list[Segment | None] = [None, *counts.segments]
    built: list[tuple[Segment | None, list[GroupMetrics]]] = []

    def masks(segment: Segment | None, group_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unknown = segment.unknown_mask() if segment is not None else np.array([False])
        return group_counts < min_group_size, unknown

    if task == "binary":
        order = counts.order
        if order is None and counts.scored is not None:
            order = counts.scored.auc()
        boot = resample(conf, n_resamples, seed) if n_resamples else None
        ctx = GroupContext(n, conf, boot, counts.cal, order, joint, min_group_size, 0.0, "largest")
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
        boot = resample(conf, n_resamples, seed) if n_resamples else None
        stages.reached(0.3)
        for i, segment in enumerate(segments):
            smap, n_groups = joint.segment_map(segment)
            table = conf.marginal(smap, n_groups)
            boot_table = boot.marginal(smap, n_groups) if boot is not None else None
            insufficient, unknown = masks(segment, table.sum(axis=-1))
            labels = segment.labels() if segment is not None else ["overall"]
            built.append(
                (
                    segment,
                    _multiclass_groups(labels, counts.classes, table, boot_table, insufficient, unknown),
                )
            )
            stages.reached(0.3 + 0.7 * (i + 1) / len(segments))
    else:
        stages.reached(0.3)
        for segment in segments:
            smap, n_groups = joint.segment_map(segment)
            group_counts = conf.marginal(smap, n_groups)[:, 0]
            insufficient, unknown = masks(segment, group_counts)
            labels = segment.labels() if segment is not None else ["overall"]
            built.append((segment, _regression_groups(labels, conf, smap, n_groups, insufficient, unknown)))

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
    return PerformanceResult(
        params=params,
        task=task,
        n_rows=n,
        overall=overall,
        segments=tuple(perf_segments),
        classes=counts.classes,
        positive_label=params["positive_label"],
        engine_version=signoff.__version__,
    )


def run_performance(
    frame: pd.DataFrame,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    **parameters: Any,
) -> PerformanceResult:
    """Performance overall and for every group of every segment; ``parameters`` are
    ``count_performance``'s (``task`` None: detected)."""
    stages = Stages(progress, cancelled)
    return performance_from_counts(count_performance(frame, stages=stages, **parameters), stages)


def request_counts(
    request: PerformanceRequest, frames: Mapping[str, pd.DataFrame], stages: Stages | None = None
) -> PerformanceCounts:
    """``count_performance`` on the request's log (``frames["log"]``), with the request's parameters."""
    mapping = request.log.mapping
    return count_performance(
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
        stages=stages,
    )


# The performance on the request's log (``frames["log"]``), with the request's parameters.
analyze = counted_analysis(request_counts, performance_from_counts)
