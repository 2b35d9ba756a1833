"""Fairness per segment: per-group rates and comparisons under named conventions, with intervals.

A disaggregated metric is a metric computed separately for each group of a segment (``sex``, or the
intersection ``sex&race``); a comparison condenses a segment's groups into one number under a stated
convention. ``run_fairness`` counts the log once into a joint table, derives every segment, metric,
comparison and bootstrap interval from it, and returns a frozen ``FairnessResult``.

Conventions (each comparison carries its text in the result):

- Fairlearn: ``between_groups`` difference = max - min and ratio = min / max over the groups,
  ``to_overall`` = largest |group - overall| and smallest min(g/o, o/g); groups whose value is undefined
  are skipped, like pandas does inside Fairlearn. Equalized odds takes the worse of the TPR and FPR
  comparisons (``agg="worst_case"``) or their mean (``agg="mean"``, Fairlearn 0.15).
- AIF360: signed unprivileged minus (or over) privileged, where privileged is the reference group and,
  for the segment-wide value, unprivileged is all other judged groups pooled (Unknown excluded).
- NYC Local Law 144 / EEOC: impact ratio = a group's selection rate / the highest group's; groups under
  ``excluded_share`` (2%) of the rows and the Unknown group are excluded and listed with their counts.

Groups with fewer rows than ``min_group_size`` are "insufficient data": reported, never judged, and
left out of comparisons. Empty groups (an unused category) are shown with count 0.
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
    Rates,
    group_metrics,
    interval,
    json_float,
    params_json,
    score_metrics,
    segment_rates,
)
from signoff.analysis.intervals import percentile_interval, resample, two_proportion_test
from signoff.analysis.metrics import (
    ECE_BINS,
    AucAhead,
    binary_rates,
    divide,
)
from signoff.analysis.progress import Stages, counted_analysis
from signoff.analysis.segments import Segment, plan_segments
from signoff.domain.analysis_requests import (
    DEFAULT_MIN_GROUP_SHARE,
    DEFAULT_MIN_GROUP_SIZE,
    REFERENCE_RULES,
    FairnessRequest,
)
from signoff.domain.errors import InputError
from signoff.domain.fairness import (
    Comparison,
    FairnessResult,
    ImpactRatio,
    Interval,
    SegmentResult,
    Significance,
)

if TYPE_CHECKING:  # a log's rows are pandas; the count tables' half of this module runs without it
    import pandas as pd

FAIRLEARN_BETWEEN = "Fairlearn between_groups: max - min of {metric} across groups"
FAIRLEARN_BETWEEN_RATIO = "Fairlearn between_groups: min / max of {metric} across groups"
FAIRLEARN_OVERALL = "Fairlearn to_overall: largest |group - overall| of {metric}"
FAIRLEARN_OVERALL_RATIO = "Fairlearn to_overall: smallest min(group/overall, overall/group) of {metric}"
EQUALIZED_ODDS = "Fairlearn equalized odds ({agg}): {how} of the TPR and FPR {kind}s, {method}"
AIF360_POOLED = "AIF360: {formula}, unprivileged = all judged groups except the reference, pooled"
AIF360_GROUP = "AIF360: {formula}, unprivileged = this group, privileged = the reference group"
AIF360_FORMULAS = {
    "statistical_parity_difference": "P(selected | unprivileged) - P(selected | privileged)",
    "disparate_impact": "P(selected | unprivileged) / P(selected | privileged)",
    "aif360_equal_opportunity_difference": "TPR(unprivileged) - TPR(privileged)",
    "average_odds_difference": "((FPR_u - FPR_p) + (TPR_u - TPR_p)) / 2",
}


def _reduce(values: np.ndarray, mask: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    # fmax/fmin skip NaN (an undefined group) and give NaN only when nothing is defined.
    masked = np.where(mask, values, np.nan)
    return ufunc.reduce(masked, axis=-1) if masked.shape[-1] else np.full(masked.shape[:-1], np.nan)


def _between_difference(v: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return _reduce(v, mask, np.fmax) - _reduce(v, mask, np.fmin)


def _between_ratio(v: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return divide(_reduce(v, mask, np.fmin), _reduce(v, mask, np.fmax))


def _overall_difference(v: np.ndarray, overall: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return _reduce(np.abs(v - overall[..., None]), mask, np.fmax)


def _overall_ratio(v: np.ndarray, overall: np.ndarray, mask: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        r = v / overall[..., None]
        r = np.where(r > 1, 1 / r, r)
    return _reduce(r, mask, np.fmin)


def _mean2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # pandas' Series.mean() inside Fairlearn skips an undefined member
    return np.where(np.isnan(a), b, np.where(np.isnan(b), a, (a + b) / 2))


def _pick_reference(
    segment: Segment,
    labels: list[str],
    counts: np.ndarray,
    selection: np.ndarray,
    judged: np.ndarray,
    rule: Any,
) -> int | None:
    if isinstance(rule, Mapping) and segment.name in rule:
        wanted = rule[segment.name]
        if wanted not in labels:
            raise InputError(
                f"reference group {wanted!r} for {segment.name!r} is not one of its groups {labels}"
            )
        return labels.index(wanted)
    how = rule if isinstance(rule, str) else "largest"
    if how not in REFERENCE_RULES:
        raise InputError(
            f"reference must be one of {list(REFERENCE_RULES)} or a group per segment, got {how!r}"
        )
    candidates = np.flatnonzero(judged)
    if how == "most_favoured":
        candidates = candidates[~np.isnan(selection[candidates])]
    if not len(candidates):
        return None
    key = counts[candidates] if how == "largest" else selection[candidates]
    return int(candidates[np.argmax(key)])  # first in label order on a tie: deterministic


class _Comparisons:
    """Collects comparisons, then computes all their bootstrap intervals in one vectorised pass."""

    def __init__(self) -> None:
        self._pending: list[tuple[dict[str, Any], np.ndarray, np.ndarray | None]] = []

    def add(self, name: str, convention: str, point: np.ndarray, boot: np.ndarray | None, **kw: Any) -> None:
        self._pending.append(({"name": name, "convention": convention, **kw}, point, boot))

    def finish(self) -> list[Comparison]:
        boots = [b for _, _, b in self._pending if b is not None]
        lows = highs = None
        if boots:
            lows, highs = percentile_interval(np.stack(boots, axis=1))
        out = []
        i = 0
        for kw, point, boot in self._pending:
            value = json_float(point)
            ci: Interval = (None, None)
            if boot is not None:
                assert lows is not None and highs is not None
                if value is not None:
                    ci = interval(lows[i], highs[i])
                i += 1
            insufficient = kw.pop("insufficient", False) or value is None
            out.append(Comparison(value=value, ci=ci, insufficient=insufficient, **kw))
        return out


def _extremes(v: np.ndarray, mask: np.ndarray, labels: Sequence[str]) -> tuple[str, ...]:
    masked = np.where(mask, v, np.nan)
    if np.isnan(masked).all():
        return ()
    return (labels[int(np.nanargmax(masked))], labels[int(np.nanargmin(masked))])


def _fairlearn_comparisons(
    out: _Comparisons,
    rates: Rates,
    overall: Rates,
    judged: np.ndarray,
    labels: Sequence[str],
    counts: np.ndarray,
) -> None:
    few = int(judged.sum()) < 2
    n = int(counts[judged].min()) if judged.any() else 0
    p = rates.point

    def get(rs: Rates, metric: str) -> tuple[np.ndarray, np.ndarray | None]:
        return rs.point[metric], (rs.boot[metric] if rs.boot is not None else None)

    def both(
        fn: Callable[..., np.ndarray], metric: str, with_overall: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        v, vb = get(rates, metric)
        if with_overall:
            o, ob = get(overall, metric)
            return fn(v, o[0], judged), (fn(vb, ob[:, 0], judged) if vb is not None else None)
        return fn(v, judged), (fn(vb, judged) if vb is not None else None)

    for label, metric in (
        ("demographic_parity", "selection_rate"),
        ("equal_opportunity", "tpr"),
    ):
        for suffix, fn, conv, with_overall in (
            ("difference", _between_difference, FAIRLEARN_BETWEEN, False),
            ("ratio", _between_ratio, FAIRLEARN_BETWEEN_RATIO, False),
            ("difference_to_overall", _overall_difference, FAIRLEARN_OVERALL, True),
            ("ratio_to_overall", _overall_ratio, FAIRLEARN_OVERALL_RATIO, True),
        ):
            value, boot = both(fn, metric, with_overall)
            out.add(
                f"{label}_{suffix}",
                conv.format(metric=metric),
                value,
                boot,
                groups=_extremes(p[metric], judged, labels) if not with_overall else (),
                n=n,
                insufficient=few,
            )
    for kind, fn_between, fn_overall in (
        ("difference", _between_difference, _overall_difference),
        ("ratio", _between_ratio, _overall_ratio),
    ):
        for method, fn, with_overall in (
            ("between_groups", fn_between, False),
            ("to_overall", fn_overall, True),
        ):
            tpr, tpr_b = both(fn, "tpr", with_overall)
            fpr, fpr_b = both(fn, "fpr", with_overall)
            worst_fn = np.fmax if kind == "difference" else np.fmin
            suffix = "" if method == "between_groups" else "_to_overall"
            for agg, how, combine in (
                ("worst_case", "larger" if kind == "difference" else "smaller", worst_fn),
                ("mean", "mean", _mean2),
            ):
                name = f"equalized_odds_{kind}{'_mean' if agg == 'mean' else ''}{suffix}"
                out.add(
                    name,
                    EQUALIZED_ODDS.format(agg=agg, how=how, kind=kind, method=method),
                    combine(tpr, fpr),
                    combine(tpr_b, fpr_b) if tpr_b is not None and fpr_b is not None else None,
                    n=n,
                    insufficient=few,
                )


def _aif360_comparisons(
    out: _Comparisons,
    table: np.ndarray,
    boot_table: np.ndarray | None,
    rates: Rates,
    ref: int | None,
    judged: np.ndarray,
    unknown: np.ndarray,
    labels: Sequence[str],
    counts: np.ndarray,
) -> None:
    ref_label = labels[ref] if ref is not None else None

    def signed(u: Mapping[str, np.ndarray], pr: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            "statistical_parity_difference": u["selection_rate"] - pr["selection_rate"],
            "disparate_impact": divide(u["selection_rate"], pr["selection_rate"]),
            "aif360_equal_opportunity_difference": u["tpr"] - pr["tpr"],
            "average_odds_difference": ((u["fpr"] - pr["fpr"]) + (u["tpr"] - pr["tpr"])) / 2,
        }

    if ref is None:
        for name, formula in AIF360_FORMULAS.items():
            out.add(name, AIF360_POOLED.format(formula=formula), np.float64(np.nan), None, insufficient=True)
        return
    pooled_mask = judged & ~unknown
    pooled_mask[ref] = False
    pooled = binary_rates(table[pooled_mask].sum(axis=0))
    privileged = binary_rates(table[ref])
    values = signed(pooled, privileged)
    boot_values: dict[str, np.ndarray] | None = None
    if boot_table is not None:
        boot_values = signed(
            binary_rates(boot_table[:, pooled_mask].sum(axis=1)), binary_rates(boot_table[:, ref])
        )
    pooled_n = int(counts[pooled_mask].sum())
    ref_insufficient = not judged[ref]
    for name, formula in AIF360_FORMULAS.items():
        out.add(
            name,
            AIF360_POOLED.format(formula=formula),
            values[name],
            boot_values[name] if boot_values is not None else None,
            reference=ref_label,
            groups=tuple(labels[i] for i in np.flatnonzero(pooled_mask)),
            n=min(pooled_n, int(counts[ref])),
            insufficient=ref_insufficient or pooled_n == 0,
        )
    # Each group against the reference, vectorised over groups (and resamples).
    per_group = signed(
        {k: rates.point[k] for k in ("selection_rate", "tpr", "fpr")},
        {k: rates.point[k][ref] for k in ("selection_rate", "tpr", "fpr")},
    )
    per_group_boot = None
    if rates.boot is not None:
        per_group_boot = signed(
            {k: rates.boot[k] for k in ("selection_rate", "tpr", "fpr")},
            {k: rates.boot[k][:, ref : ref + 1] for k in ("selection_rate", "tpr", "fpr")},
        )
    for i, label in enumerate(labels):
        if i == ref or counts[i] == 0:
            continue
        for name, formula in AIF360_FORMULAS.items():
            out.add(
                name,
                AIF360_GROUP.format(formula=formula),
                per_group[name][i],
                per_group_boot[name][:, i] if per_group_boot is not None else None,
                reference=ref_label,
                group=label,
                groups=(label, labels[ref]),
                n=int(min(counts[i], counts[ref])),
                insufficient=ref_insufficient or not judged[i],
            )


def _impact_ratios(
    rates: Rates,
    counts: np.ndarray,
    unknown: np.ndarray,
    insufficient: np.ndarray,
    labels: Sequence[str],
    n_rows: int,
    excluded_share: float,
) -> tuple[list[ImpactRatio], list[str]]:
    share = divide(counts, n_rows)
    included = (counts > 0) & ~unknown & (share >= excluded_share)
    sr = rates.point["selection_rate"]
    highest = _reduce(sr, included, np.fmax)
    ratio = divide(sr, highest)
    boot_lo = boot_hi = None
    if rates.boot is not None:
        bsr = rates.boot["selection_rate"]
        boot_lo, boot_hi = percentile_interval(divide(bsr, _reduce(bsr, included, np.fmax)[:, None]))
    out = []
    excluded = []
    for i, label in enumerate(labels):
        if counts[i] == 0:
            continue
        if not included[i]:
            if not unknown[i]:
                excluded.append(label)
            out.append(
                ImpactRatio(
                    label,
                    int(counts[i]),
                    json_float(sr[i]),
                    None,
                    excluded=True,
                    insufficient=bool(insufficient[i]),
                )
            )
            continue
        ci = interval(boot_lo[i], boot_hi[i]) if boot_lo is not None and boot_hi is not None else (None, None)
        out.append(
            ImpactRatio(
                label,
                int(counts[i]),
                json_float(sr[i]),
                json_float(ratio[i]),
                ci,
                insufficient=bool(insufficient[i]),
            )
        )
    return out, excluded


def _significance(table: np.ndarray, ref: int | None, labels: Sequence[str]) -> list[Significance | None]:
    if ref is None:
        return [None] * len(labels)
    counts = table.sum(axis=-1)
    selected = table[:, 1] + table[:, 3] + (table[:, 5] if table.shape[-1] > 4 else 0)
    out: list[Significance | None] = []
    for i in range(len(labels)):
        if i == ref or counts[i] == 0:
            out.append(None)
            continue
        test, stat, p = two_proportion_test(
            int(selected[i]), int(counts[i]), int(selected[ref]), int(counts[ref])
        )
        out.append(Significance(test, stat, p, labels[ref]))
    return out


def _segment_result(ctx: GroupContext, segment: Segment, overall: Rates) -> SegmentResult:
    smap, n_groups = ctx.joint.segment_map(segment)
    labels = segment.labels()
    table, rates, boot_table = segment_rates(ctx, smap, n_groups)
    counts = table.sum(axis=-1)
    unknown = segment.unknown_mask()
    insufficient = counts < ctx.min_group_size
    judged = (counts > 0) & ~insufficient
    ref = _pick_reference(
        segment, labels, counts, rates.point["selection_rate"], judged & ~unknown, ctx.reference
    )
    extra = score_metrics(ctx, segment, smap, n_groups)
    groups = group_metrics(
        labels, table, rates, extra, insufficient, unknown, ctx.n_rows, _significance(table, ref, labels)
    )
    pending = _Comparisons()
    _fairlearn_comparisons(pending, rates, overall, judged, labels, counts)
    _aif360_comparisons(pending, table, boot_table, rates, ref, judged, unknown, labels, counts)
    comparisons = pending.finish()
    ratios, excluded = _impact_ratios(
        rates, counts, unknown, insufficient, labels, ctx.n_rows, ctx.excluded_share
    )
    return SegmentResult(
        name=segment.name,
        attributes=tuple(a.name for a in segment.attributes),
        reference=labels[ref] if ref is not None else None,
        groups=tuple(groups),
        comparisons=tuple(comparisons),
        impact_ratios=tuple(ratios),
        excluded=tuple(excluded),
        unknown_count=int(counts[unknown].sum()),
    )


@dataclass(frozen=True)
class FairnessCounts:
    """What every number of a fairness result is derived from: the joint count tables and the parameters.

    ``count_fairness`` makes it from a log's rows (or an engine's count table), ``fairness_from_counts``
    derives the result from it alone. ``to_dict``/``from_dict`` carry it inside an exported report, where
    verifying the report derives every number again without the log, the database or pandas.
    """

    joint: JointGroups
    segments: tuple[Segment, ...]
    n_rows: int
    conf: Tally  # joint group x (label, prediction); cells 4/5: unlabelled rows
    cal: Tally | None  # labelled rows: joint group x (label, score bin), with score and squared-error sums
    scored: ScoredRows | None  # labelled rows' (joint group, label, score), for ROC AUC
    params: dict[str, Any]  # the result's parameters: seed, resamples, reference, minimum group size ...
    order: AucAhead | WeightedAuc | None = None  # the AUC, already under way on a log's rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "attributes": self.joint.to_dict(),
            "segments": [[a.name for a in segment.attributes] for segment in self.segments],
            "confusion": self.conf.to_dict(),
            "calibration": None if self.cal is None else self.cal.to_dict(),
            "scores": None if self.scored is None else self.scored.distinct().to_dict(),
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FairnessCounts:
        joint = JointGroups.from_dict(data["attributes"])
        by_name = {a.name: a for a in joint.attributes}
        conf = Tally.from_dict(data["confusion"])
        return cls(
            joint=joint,
            segments=tuple(Segment(tuple(by_name[n] for n in names)) for names in data["segments"]),
            n_rows=int(conf.counts.sum()),  # every row is in the confusion table, unlabelled ones too
            conf=conf,
            cal=None if data.get("calibration") is None else Tally.from_dict(data["calibration"]),
            scored=None if data.get("scores") is None else ScoredRows.from_dict(data["scores"]),
            params=dict(data["params"]),
        )


def count_fairness(
    frame: pd.DataFrame,
    *,
    label: str,
    prediction: str,
    sensitive: Sequence[str],
    scores: str | None = None,
    positive_label: Any = None,
    intersections: bool | int | Sequence[Sequence[str]] = True,
    bins: Mapping[str, Sequence[float]] | None = None,
    reference: str | Mapping[str, str] = "largest",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    excluded_share: float = DEFAULT_MIN_GROUP_SHARE,
    n_resamples: int = 1000,
    seed: int = 0,
    stages: Stages | None = None,
) -> FairnessCounts:
    """Count the log once into the tables every fairness number is derived from (see ``run_fairness``)."""
    # Imported here: the tables' other half (fairness_from_counts) runs where pandas is not loaded.
    from signoff.analysis.columns import plain_arrow
    from signoff.analysis.inputs import (
        as_frame,
        binary_outcomes,
        display,
        labelled_rows,
        probability_scores,
    )
    from signoff.analysis.segments import encode_attributes

    stages = stages or Stages(None, None)
    frame, counted = split(frame)
    if not plain_arrow(frame, [label, prediction, *sensitive], numeric=[scores], binned=bins):
        frame = as_frame(frame)  # pandas, as before; a stored log's plain columns are read as Arrow
    rows = None if counted is None else counted.rows
    n_rows = len(frame) if counted is None else counted.n_rows
    if not sensitive:
        raise InputError("name at least one sensitive attribute to analyse")
    if n_resamples < 0 or min_group_size < 0:
        raise InputError("n_resamples and min_group_size must not be negative")
    y, p, positive = binary_outcomes(frame, label, prediction, positive_label, allow_unlabelled=True)
    labelled = labelled_rows(frame, label)
    everyone = bool(labelled.all())
    s = probability_scores(frame, scores) if scores is not None else None
    attributes = encode_attributes(frame, sensitive, bins)
    segments = plan_segments(attributes, intersections)
    stages.reached(0.1)
    joint = JointGroups.from_attributes(attributes, len(frame))
    # Unlabelled rows (outcome not known yet) count for selection rates only: cells 4 and 5.
    conf = tally(joint, binary_cells(y, p, None if everyone else labelled), 4 if everyone else 6, rows=rows)
    cal = order = scored_rows = None
    if s is not None:
        known, ys, ss, scored = joint, y, s, counted
        if not everyone:
            # Calibration and ROC AUC need the outcome: only the labelled rows (or count-table rows).
            known = JointGroups(joint.attributes, joint.codes[labelled])
            ys, ss = y[labelled], s[labelled]
            if counted is not None:
                scored = CountedRows(counted.frame[labelled].reset_index(drop=True), counted.score_resolution)
        cal = tally(
            known,
            calibration_cells(scored, ys, ss),
            2 * ECE_BINS,
            calibration_sums(scored, ys, ss),
            None if scored is None else scored.rows,
        )
        stages.reached(0.2)
        if scored is None:
            maps = [joint.segment_map(segment) for segment in (*segments, None)]  # in the order used
            order = AucAhead(ss, ys, known.codes, joint.size, maps)
            scored_rows = ScoredRows(known.codes, ys, ss, np.ones(len(ss), dtype=np.int64))
        else:
            order = weighted_auc(scored, ss, ys, known.codes)
            scored_rows = ScoredRows(known.codes, ys, ss, scored.rows, scored.score_resolution is not None)
    params = params_json(
        label=label,
        prediction=prediction,
        sensitive=list(sensitive),
        scores=scores,
        positive_label=display(positive),
        intersections=[list(seg.name.split("&")) for seg in segments if len(seg.attributes) > 1],
        bins={k: [float(e) for e in v] for k, v in (bins or {}).items()},
        reference=dict(reference) if isinstance(reference, Mapping) else reference,
        min_group_size=min_group_size,
        excluded_share=excluded_share,
        n_resamples=n_resamples,
        seed=seed,
        confidence_level=0.95,
        ece_bins=ECE_BINS,
    )
    if counted is not None:
        params["score_resolution"] = counted.score_resolution
    return FairnessCounts(joint, tuple(segments), n_rows, conf, cal, scored_rows, params, order)


def fairness_from_counts(counts: FairnessCounts, stages: Stages | None = None) -> FairnessResult:
    """Every number of a fairness result from its count tables and parameters (no rows, no pandas)."""
    stages = stages or Stages(None, None)
    params = counts.params
    order = counts.order
    if order is None and counts.scored is not None:
        order = counts.scored.auc()
    stages.reached(0.3)
    n_resamples, seed = int(params["n_resamples"]), int(params["seed"])
    boot = resample(counts.conf, n_resamples, seed) if n_resamples else None
    stages.reached(0.4)
    min_group_size = int(params["min_group_size"])
    ctx = GroupContext(
        counts.n_rows,
        counts.conf,
        boot,
        counts.cal,
        order,
        counts.joint,
        min_group_size,
        float(params["excluded_share"]),
        params["reference"],
    )
    smap, _ = counts.joint.segment_map(None)
    table, overall_rates, _ = segment_rates(ctx, smap, 1)
    results = []
    for i, segment in enumerate(counts.segments):
        results.append(_segment_result(ctx, segment, overall_rates))
        stages.reached(0.4 + 0.6 * (i + 1) / len(counts.segments))
    overall = group_metrics(  # last: its AUC is the last one the second thread computes
        ["overall"],
        table,
        overall_rates,
        score_metrics(ctx, None, smap, 1),
        np.array([table.sum() < min_group_size]),
        np.array([False]),
        counts.n_rows,
    )[0]
    return FairnessResult(
        params=params,
        n_rows=counts.n_rows,
        positive_label=str(params["positive_label"]),
        overall=overall,
        segments=tuple(results),
        engine_version=signoff.__version__,
    )


def run_fairness(
    frame: pd.DataFrame,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    **parameters: Any,
) -> FairnessResult:
    """Fairness of binary predictions for every sensitive attribute and chosen intersection.

    ``parameters`` are ``count_fairness``'s: ``label``, ``prediction``, ``sensitive``, ``scores``,
    ``positive_label``, ``intersections``, ``bins``, ``reference`` (``"largest"``, ``"most_favoured"``
    (highest selection rate) or a mapping from segment name to group label, ``{"sex": "Male",
    "sex&race": "Male & White"}``; segments not named use the largest group), ``min_group_size``,
    ``excluded_share``, ``n_resamples`` (0 skips the bootstrap) and ``seed``.
    """
    stages = Stages(progress, cancelled)
    return fairness_from_counts(count_fairness(frame, stages=stages, **parameters), stages)


def request_counts(
    request: FairnessRequest, frames: Mapping[str, pd.DataFrame], stages: Stages | None = None
) -> FairnessCounts:
    """``count_fairness`` on the request's log (``frames["log"]``), with the request's parameters."""
    mapping = request.log.mapping
    return count_fairness(
        frames["log"],
        label=mapping.label,
        prediction=mapping.prediction,
        scores=request.scores,
        sensitive=request.attributes,
        intersections=request.intersections,
        bins=request.bins,
        reference=request.reference,
        positive_label=request.positive_label,
        min_group_size=request.min_group_size,
        excluded_share=request.excluded_share,
        n_resamples=request.n_resamples,
        seed=request.seed,
        stages=stages,
    )


# The fairness of the request's log (``frames["log"]``), with the request's parameters.
analyze = counted_analysis(request_counts, fairness_from_counts)
