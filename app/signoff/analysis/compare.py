"""Champion vs challenger on count tables: differences, paired and unpaired tests, decision changes.

The rows are counted once into (joint group x cell) with 8 cells: paired, ``4*label + 2*champion +
challenger`` (both predictions of the same row); unpaired, ``4*version + 2*label + prediction``. Each
version's confusion table, the McNemar discordant pairs, the decision changes and every bootstrap
resample (multinomial; per version when unpaired) are marginals of that table, over the segments and
groups of the fairness engine (same encoding, Unknown group, minimum size). AUCs use DeLong's
variance in its O(n log n) form (Sun & Xu 2014: mid-ranks within a group, one sort per model).
Counting (``count_paired_comparison``, ``count_unpaired_comparison``: rows -> ``ComparisonCounts``) is
apart from deriving (``comparison_from_counts``: numpy and scipy, no pandas), so an exported report's
count tables give every number again without the logs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import signoff
from signoff.analysis.counts import JointGroups, Tally, tally
from signoff.analysis.intervals import (
    chi_square_test,
    percentile_interval,
    resample,
    two_proportion_test,
    wilson,
)
from signoff.analysis.metrics import argsort_scores, binary_rates, divide, proportions
from signoff.analysis.progress import Stages
from signoff.analysis.segments import Segment, plan_segments
from signoff.domain.comparison import (
    PAIRED,
    UNPAIRED,
    ChangeTest,
    ComparisonResult,
    Coverage,
    DecisionChanges,
    GapChange,
    GroupComparison,
    HolmFamily,
    MetricChange,
    SegmentComparison,
)
from signoff.domain.errors import InputError

if TYPE_CHECKING:  # rows are pandas; deriving the result from the count tables imports neither it nor scipy
    import pandas as pd

DEFAULT_MIN_GROUP_SIZE = 30
DEFAULT_EXCLUDED_SHARE = 0.02
EXACT_MCNEMAR_BELOW = 25  # discordant pairs; below this the chi-square approximation is poor
# A compared metric's name -> its name among the count-table rates of analysis.metrics.
RATE_METRICS = {
    "accuracy": "accuracy",
    "tpr": "tpr",
    "fpr": "fpr",
    "selection_rate": "selection_rate",
    "precision": "ppv",
}
# McNemar's discordant cells (champion right/yes & challenger not, and the reverse) per paired metric.
MCNEMAR_CELLS = {
    "accuracy": ((1, 6), (2, 5)),
    "tpr": ((6,), (5,)),
    "fpr": ((2,), (1,)),
    "selection_rate": ((2, 6), (1, 5)),
}
PAIRED_BOOTSTRAP = "paired multinomial bootstrap (percentile)"
NEWCOMBE = "Newcombe hybrid score (Wilson)"
DELONG = "DeLong"
GAP_CONVENTIONS = {
    "impact_ratio": "lowest selection rate / highest, groups over the excluded share, Unknown excluded "
    "(NYC LL144)",
    "demographic_parity_difference": "max - min selection rate over judged groups (Fairlearn)",
    "equalized_odds_difference": "larger of the TPR and FPR max - min over judged groups (Fairlearn)",
}
ONE_LOG_COLUMNS_DIFFER = (
    "the champion's and the challenger's {what} must be two different columns, got {col!r}"
)


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ci(low: Any, high: Any) -> tuple[float | None, float | None]:
    return (_num(low), _num(high))


# --- inputs ---------------------------------------------------------------------------------------


def join_logs(
    champion: pd.DataFrame, challenger: pd.DataFrame, *, champion_id: str, challenger_id: str
) -> tuple[pd.DataFrame, pd.DataFrame, Coverage]:
    """The rows of two logs that share a row id, in the same order, and how many were in only one."""
    import pandas as pd

    from signoff.analysis.inputs import require_columns

    require_columns(champion, champion_id)
    require_columns(challenger, challenger_id)
    for frame, column, whose in (
        (champion, champion_id, "champion"),
        (challenger, challenger_id, "challenger"),
    ):
        repeated = frame[column].duplicated()
        if repeated.any():
            first = int(np.flatnonzero(repeated.to_numpy())[0])
            raise InputError(
                f"the {whose}'s row ids repeat ({int(repeated.sum())} rows); a paired comparison joins "
                "the two logs by row id, which must be unique",
                row=first + 1,
                column=column,
            )
    left = pd.Index(champion[champion_id].astype(str))
    right = pd.Index(challenger[challenger_id].astype(str))
    shared = left.intersection(right, sort=False)
    if len(shared) == 0:
        raise InputError(
            f"the two logs share no row id ({champion_id!r} / {challenger_id!r}); a paired comparison needs "
            "both versions' predictions for the same rows, or compare them as unpaired (an A/B test)"
        )
    a = champion.iloc[left.get_indexer(shared)].reset_index(drop=True)
    b = challenger.iloc[right.get_indexer(shared)].reset_index(drop=True)
    coverage = Coverage(
        design=PAIRED,
        champion_rows=len(champion),
        challenger_rows=len(challenger),
        compared_rows=len(shared),
        only_champion=len(champion) - len(shared),
        only_challenger=len(challenger) - len(shared),
        joined_on=champion_id if champion_id == challenger_id else f"{champion_id} = {challenger_id}",
    )
    return a, b, coverage


@dataclass(frozen=True)
class VersionColumns:
    """The columns holding one version's outcomes: the label, its prediction, and its score if any."""

    label: str
    prediction: str
    score: str | None = None


# --- statistics -----------------------------------------------------------------------------------


def mcnemar(b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """McNemar's test per entry: exact binomial below ``EXACT_MCNEMAR_BELOW`` discordant pairs, else
    the chi-square with continuity correction. Returns (exact?, statistic, p value), as statsmodels'
    ``mcnemar(exact=True)`` (statistic = min(b, c)) and ``mcnemar(exact=False)``."""
    from scipy import special  # imported when a comparison is derived, not when its module is loaded

    b = np.asarray(b, dtype=float)
    c = np.asarray(c, dtype=float)
    n = b + c
    exact = n < EXACT_MCNEMAR_BELOW
    small = np.minimum(b, c)
    p_exact = np.minimum(1.0, 2 * special.bdtr(small.astype(np.int64), n.astype(np.int64), 0.5))
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = (np.abs(b - c) - 1) ** 2 / n
    p_chi2 = special.chdtrc(1, chi2)
    statistic = np.where(exact, small, chi2)
    p = np.where(exact, np.where(n > 0, p_exact, 1.0), p_chi2)
    return exact, statistic, p


def newcombe(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (1998, method 10) for p2 - p1 from two independent samples."""
    p1, p2 = divide(k1, n1), divide(k2, n2)
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p2 - p1
    return d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p values, in the given order."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out.tolist()


@dataclass(frozen=True)
class _Placements:
    """One model's DeLong placement values for one segment, with its rows in (group, score) order.

    A positive's placement is the share of its group's negatives scored below it, a negative's the
    share of the group's positives scored above it (ties count a half); a group's AUC is the mean
    placement of its positives, and the placements' variances give the AUC's variance.
    """

    rows: np.ndarray  # original row of each position
    group: np.ndarray  # group of each position (non-decreasing)
    label: np.ndarray  # bool, per position
    value: np.ndarray  # placement, per position
    auc: np.ndarray  # per group


@dataclass(frozen=True)
class _ScoreRanks:
    """One model's rows sorted by score once; each segment then costs one radix sort of small codes."""

    order: np.ndarray
    label: np.ndarray  # in score order
    joint: np.ndarray  # joint group codes in score order
    tied: np.ndarray  # the row's score is shared with another row
    rank: np.ndarray | None  # distinct-score rank in score order, when there are ties

    @classmethod
    def build(cls, score: np.ndarray, label: np.ndarray, joint: np.ndarray) -> _ScoreRanks:
        order = argsort_scores(score)
        ordered = score[order]
        n = len(order)
        new_value = np.ones(n, dtype=bool)
        if n:
            np.not_equal(ordered[1:], ordered[:-1], out=new_value[1:])
        next_new = np.ones(n, dtype=bool)
        next_new[:-1] = new_value[1:]
        tied = ~(new_value & next_new)
        rank = np.cumsum(new_value, dtype=np.int64) if tied.any() else None
        small = (
            np.uint8 if int(joint.max(initial=0)) < 256 else np.uint16 if joint.max() < 65536 else np.int64
        )
        return cls(order, label[order], joint[order].astype(small), tied, rank)

    def placements(self, segment_map: np.ndarray, n_groups: int) -> _Placements:
        n = len(self.order)
        if n_groups == 1:
            perm = None
            counts = np.array([n])
        else:
            dtype = np.uint8 if n_groups <= 256 else np.uint16 if n_groups <= 65536 else np.int64
            by_score = segment_map.astype(dtype)[self.joint]
            perm = np.argsort(by_score, kind="stable")  # radix sort of small codes: O(n)
            counts = np.bincount(by_score, minlength=n_groups)
        # In (group, score) order the groups are consecutive runs: no gather needed for the codes.
        group = np.repeat(np.arange(n_groups, dtype=np.int64 if n_groups > 256 else np.uint8), counts)
        y = self.label if perm is None else self.label[perm]
        starts = np.cumsum(counts) - counts
        positives = np.zeros(n_groups, dtype=np.int64)
        value = np.empty(n)
        ties = self.rank is not None
        # Counts before each row are kept only for the tie correction, which reads them at block starts.
        pos_before = np.empty(n if ties else 0, dtype=np.int64)
        neg_before = np.empty(n if ties else 0, dtype=np.int64)
        # Group by group over contiguous slices: sequential passes, no gathers by group code.
        with np.errstate(divide="ignore", invalid="ignore"):
            for g in np.flatnonzero(counts):
                part = slice(starts[g], starts[g] + counts[g])
                yg = y[part]
                before = np.cumsum(yg, dtype=np.int64)
                positives[g] = before[-1]
                before -= yg
                neg = np.arange(counts[g]) - before  # negatives before the row
                if ties:
                    pos_before[part] = before
                    neg_before[part] = neg
                value[part] = np.where(yg, neg / (counts[g] - positives[g]), 1.0 - before / positives[g])
            negatives = counts - positives
            if ties:
                self._tie_correction(value, perm, group, y, pos_before, neg_before, positives, negatives)
            auc = np.full(n_groups, np.nan)
            for g in np.flatnonzero(counts):
                part = slice(starts[g], starts[g] + counts[g])
                auc[g] = np.sum(value[part], where=y[part]) / positives[g]
        rows = self.order if perm is None else self.order[perm]
        return _Placements(rows, group, y, value, auc)

    def _tie_correction(
        self,
        value: np.ndarray,
        perm: np.ndarray | None,
        group: np.ndarray,
        y: np.ndarray,
        pos_before: np.ndarray,
        neg_before: np.ndarray,
        positives: np.ndarray,
        negatives: np.ndarray,
    ) -> None:
        """Rows sharing a score within a group: counts before the whole block plus half the block."""
        assert self.rank is not None
        tied = self.tied if perm is None else self.tied[perm]
        at = np.flatnonzero(tied)
        if not len(at):
            return
        g = group[at]
        r = self.rank[at] if perm is None else self.rank[perm[at]]
        start = np.ones(len(at), dtype=bool)
        start[1:] = (g[1:] != g[:-1]) | (r[1:] != r[:-1]) | (at[1:] != at[:-1] + 1)
        block = np.cumsum(start) - 1
        yt = y[at]
        pos_in = np.bincount(block, weights=yt)
        neg_in = np.bincount(block) - pos_in
        first = at[start]
        pos_block = (pos_before[first])[block]
        neg_block = (neg_before[first])[block]
        value[at] = np.where(
            yt,
            (neg_block + neg_in[block] / 2) / negatives[g],
            1.0 - (pos_block + pos_in[block] / 2) / positives[g],
        )


def _delong_variance(
    group: np.ndarray, label: np.ndarray, a: np.ndarray, b: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: variance of AUC a, of AUC b and their covariance, from the placement values.

    ``group`` is non-decreasing, so each group is a slice; its sums over positives are one
    matrix-vector product with the labels, and over negatives the rest.
    """
    counts = np.bincount(group, minlength=n_groups) if len(group) else np.zeros(n_groups, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    sums = np.zeros((2, 5, n_groups))  # [negatives, positives] x [a, b, aa, bb, ab]
    n = np.zeros((2, n_groups))
    for g in np.flatnonzero(counts):
        part = slice(starts[g], starts[g] + counts[g])
        x, w = a[part], b[part]
        y = label[part].astype(float)
        xy, wy = x * y, w * y

        def dot(u: np.ndarray, v: np.ndarray) -> float:
            # einsum's own loop, not BLAS: a threaded BLAS spins and stalls on a busy machine
            return float(np.einsum("i,i->", u, v))

        every = np.array([x.sum(), w.sum(), dot(x, x), dot(w, w), dot(x, w)])
        sums[1, :, g] = [xy.sum(), wy.sum(), dot(xy, x), dot(wy, w), dot(xy, w)]
        sums[0, :, g] = every - sums[1, :, g]
        n[1, g] = y.sum()
        n[0, g] = counts[g] - n[1, g]
    sa, sb, saa, sbb, sab = (sums[:, i] for i in range(5))
    with np.errstate(divide="ignore", invalid="ignore"):
        # (sum of products - n * mean * mean) / (n - 1), divided by n: the variance of a mean
        def component(sxy: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
            return ((sxy - sx * sy / n) / (n - 1) / n).sum(axis=0)

        return component(saa, sa, sa), component(sbb, sb, sb), component(sab, sa, sb)


def _normal_test(diff: np.ndarray, variance: np.ndarray, z: float) -> tuple[np.ndarray, ...]:
    from scipy import special

    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(variance)
        statistic = np.where(se > 0, diff / se, np.nan)
    p = np.where(se > 0, 2 * special.ndtr(-np.abs(statistic)), np.where(diff == 0, 1.0, np.nan))
    return statistic, p, diff - z * se, diff + z * se


# --- the comparison -------------------------------------------------------------------------------


@dataclass
class _Data:
    design: str
    n_rows: int
    joint: JointGroups
    conf: Tally
    boot: Tally | None
    ranks: tuple[_ScoreRanks, _ScoreRanks] | None  # paired: (champion, challenger)
    unpaired_ranks: tuple[_ScoreRanks, _ScoreRanks] | None
    z: float
    level: float
    min_group_size: int
    excluded_share: float


def _version_tables(table: np.ndarray, design: str) -> tuple[np.ndarray, np.ndarray]:
    """(champion, challenger) confusion tables ``(..., 4)`` = (tn, fp, fn, tp) from the 8 cells."""
    c = [table[..., i] for i in range(8)]
    if design == PAIRED:
        a = np.stack([c[0] + c[1], c[2] + c[3], c[4] + c[5], c[6] + c[7]], axis=-1)
        b = np.stack([c[0] + c[2], c[1] + c[3], c[4] + c[6], c[5] + c[7]], axis=-1)
        return a, b
    return table[..., :4], table[..., 4:]


def _masked(values: np.ndarray, mask: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    masked = np.where(mask, values, np.nan)
    if not masked.shape[-1]:
        return np.full(masked.shape[:-1], np.nan)
    with np.errstate(invalid="ignore"):
        return ufunc.reduce(masked, axis=-1)


def _gap_values(rates: Mapping[str, np.ndarray], judged: np.ndarray, included: np.ndarray) -> dict[str, Any]:
    def spread(v: np.ndarray) -> np.ndarray:
        return _masked(v, judged, np.fmax) - _masked(v, judged, np.fmin)

    sr = rates["selection_rate"]
    highest = _masked(sr, included, np.fmax)
    return {
        "impact_ratio": _masked(divide(sr, highest[..., None]), included, np.fmin),
        "demographic_parity_difference": spread(sr),
        "equalized_odds_difference": np.fmax(spread(rates["tpr"]), spread(rates["fpr"])),
    }


def _resample_by_version(conf: Tally, n_resamples: int, seed: int) -> Tally:
    """Unpaired: each version's rows resampled on their own (its own n), as a two-sample bootstrap."""
    counts = np.zeros((n_resamples, len(conf.counts)), dtype=np.int64)
    for i, version in enumerate((conf.cells < 4, conf.cells >= 4)):
        part = Tally(conf.groups[version], conf.cells[version], conf.n_cells, conf.counts[version], {})
        counts[:, version] = resample(part, n_resamples, seed + i).counts
    return conf.with_counts(counts)


@dataclass
class _Group:
    """A group's numbers before they become frozen results (p values still to be Holm-adjusted)."""

    label: str
    counts: tuple[int, int]
    insufficient: bool
    unknown: bool
    metrics: dict[str, dict[str, Any]]
    changes: DecisionChanges | None


def _auc_changes(data: _Data, smap: np.ndarray, n_groups: int) -> dict[str, np.ndarray] | None:
    if data.ranks is not None:
        with ThreadPoolExecutor(2) as pool:  # sorts and gathers release the GIL
            pa, pb = pool.map(lambda r: r.placements(smap, n_groups), data.ranks)
        # The champion's placements in the challenger's (group, score) order: the same rows, paired.
        by_row = np.empty(len(pa.rows))
        by_row[pa.rows] = pa.value
        var_a, var_b, cov = _delong_variance(pb.group, pb.label, by_row[pb.rows], pb.value, n_groups)
        auc_a, auc_b = pa.auc, pb.auc
        variance = var_a + var_b - 2 * cov
    elif data.unpaired_ranks is not None:
        aucs, variances = [], []
        for ranks in data.unpaired_ranks:
            p = ranks.placements(smap, n_groups)
            var, _, _ = _delong_variance(p.group, p.label, p.value, p.value, n_groups)
            aucs.append(p.auc)
            variances.append(var)
        auc_a, auc_b = aucs
        variance = variances[0] + variances[1]
    else:
        return None
    diff = auc_b - auc_a
    statistic, p_value, low, high = _normal_test(diff, variance, data.z)
    return {
        "champion": auc_a,
        "challenger": auc_b,
        "statistic": statistic,
        "p": p_value,
        "low": low,
        "high": high,
    }


def _segment_groups(
    data: _Data, smap: np.ndarray, n_groups: int, labels: Sequence[str], unknown: np.ndarray
) -> tuple[list[_Group], list[GapChange], ChangeTest | None]:
    table = data.conf.marginal(smap, n_groups)
    a, b = _version_tables(table, data.design)
    counts_a, counts_b = a.sum(axis=-1), b.sum(axis=-1)
    rates_a, rates_b = binary_rates(a), binary_rates(b)
    smaller = np.minimum(counts_a, counts_b)
    insufficient = smaller < data.min_group_size
    judged = (smaller > 0) & ~insufficient
    share = divide(counts_a + counts_b, 2 * data.n_rows if data.design == PAIRED else data.n_rows)
    included = (smaller > 0) & ~unknown & (share >= data.excluded_share)

    boot_a = boot_b = None
    if data.boot is not None:
        boot_table = data.boot.marginal(smap, n_groups)
        ta, tb = _version_tables(boot_table, data.design)
        boot_a, boot_b = binary_rates(ta), binary_rates(tb)

    metrics: dict[str, dict[str, Any]] = {}
    prop_a, prop_b = proportions(a), proportions(b)
    for name, key in RATE_METRICS.items():
        entry: dict[str, Any] = {"champion": rates_a[key], "challenger": rates_b[key]}
        entry["difference"] = rates_b[key] - rates_a[key]
        if data.design == PAIRED:
            entry["method"] = PAIRED_BOOTSTRAP
            if boot_a is not None and boot_b is not None:
                entry["low"], entry["high"] = percentile_interval(boot_b[key] - boot_a[key], data.level)
            if name in MCNEMAR_CELLS:
                first, second = MCNEMAR_CELLS[name]
                exact, statistic, p = mcnemar(table[:, list(first)].sum(-1), table[:, list(second)].sum(-1))
                entry["test"] = np.where(exact, "mcnemar_exact", "mcnemar_chi2")
                entry["statistic"], entry["p"] = statistic, p
        else:
            (k1, n1), (k2, n2) = prop_a[key], prop_b[key]
            entry["method"] = NEWCOMBE
            entry["low"], entry["high"] = newcombe(k1, n1, k2, n2, data.z)
            tests = [
                two_proportion_test(int(k2[i]), int(n2[i]), int(k1[i]), int(n1[i])) for i in range(n_groups)
            ]
            entry["test"] = np.array([t[0] for t in tests], dtype=object)
            entry["statistic"] = np.array([np.nan if t[1] is None else t[1] for t in tests])
            entry["p"] = np.array([np.nan if t[2] is None else t[2] for t in tests])
        metrics[name] = entry
    auc = _auc_changes(data, smap, n_groups)
    if auc is not None:
        metrics["roc_auc"] = {
            "champion": auc["champion"],
            "challenger": auc["challenger"],
            "difference": auc["challenger"] - auc["champion"],
            "method": DELONG,
            "low": auc["low"],
            "high": auc["high"],
            "test": np.full(n_groups, "delong", dtype=object),
            "statistic": auc["statistic"],
            "p": auc["p"],
        }

    changes: list[DecisionChanges | None] = [None] * n_groups
    change_test = None
    if data.design == PAIRED:
        approved = table[:, 1] + table[:, 5]
        declined = table[:, 2] + table[:, 6]
        approved_rate, declined_rate = divide(approved, counts_a), divide(declined, counts_a)
        approval_ratio = divide(approved_rate, _masked(approved_rate, included, np.fmax))
        decline_ratio = divide(_masked(declined_rate, included, np.fmin), declined_rate)
        changes = [
            DecisionChanges(
                newly_approved=int(approved[i]),
                newly_declined=int(declined[i]),
                unchanged=int(counts_a[i] - approved[i] - declined[i]),
                newly_approved_rate=_num(approved_rate[i]),
                newly_declined_rate=_num(declined_rate[i]),
                approval_ratio=_num(approval_ratio[i]) if included[i] else None,
                decline_ratio=_num(decline_ratio[i]) if included[i] else None,
            )
            for i in range(n_groups)
        ]
        change_test = _change_test(approved, declined, counts_a, judged & ~unknown, labels)

    gaps = []
    gap_a, gap_b = _gap_values(rates_a, judged, included), _gap_values(rates_b, judged, included)
    boot_gap = None
    if boot_a is not None and boot_b is not None:
        ga, gb = _gap_values(boot_a, judged, included), _gap_values(boot_b, judged, included)
        boot_gap = {k: percentile_interval(gb[k] - ga[k], data.level) for k in ga}
    for name, convention in GAP_CONVENTIONS.items():
        mask = included if name == "impact_ratio" else judged
        difference = _num(gap_b[name] - gap_a[name])
        ci = _ci(*boot_gap[name]) if boot_gap is not None and difference is not None else (None, None)
        gaps.append(
            GapChange(
                name=name,
                convention=convention,
                champion=_num(gap_a[name]),
                challenger=_num(gap_b[name]),
                difference=difference,
                ci=ci,
                insufficient=int(mask.sum()) < 2 or difference is None,
            )
        )
    groups = [
        _Group(
            label=labels[i],
            counts=(int(counts_a[i]), int(counts_b[i])),
            insufficient=bool(insufficient[i]),
            unknown=bool(unknown[i]),
            metrics={
                name: {k: (v[i] if isinstance(v, np.ndarray) else v) for k, v in m.items()}
                for name, m in metrics.items()
            },
            changes=changes[i],
        )
        for i in range(n_groups)
    ]
    return groups, gaps, change_test


def _change_test(
    approved: np.ndarray, declined: np.ndarray, counts: np.ndarray, judged: np.ndarray, labels: Sequence[str]
) -> ChangeTest:
    observed = np.stack([approved, declined, counts - approved - declined], axis=1)[judged]
    observed = observed[:, observed.sum(axis=0) > 0]
    names = tuple(label for label, j in zip(labels, judged, strict=True) if j)
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1) if observed.size else 0
    if dof <= 0:
        return ChangeTest(None, 0, None, groups=names)
    statistic, p, dof, _ = chi_square_test(observed)
    return ChangeTest(_num(statistic), int(dof), _num(p), groups=names)


def _metric_change(name: str, m: Mapping[str, Any], p_holm: float | None) -> MetricChange:
    p = _num(m.get("p"))
    return MetricChange(
        metric=name,
        champion=_num(m["champion"]),
        challenger=_num(m["challenger"]),
        difference=_num(m["difference"]),
        ci=_ci(m.get("low"), m.get("high")) if _num(m["difference"]) is not None else (None, None),
        interval_method=m["method"],
        test=None if p is None or m.get("test") is None else str(m["test"]),
        statistic=_num(m.get("statistic")) if p is not None else None,
        p_value=p,
        p_holm=p_holm,
    )


def _params_json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, Mapping):
        return {str(k): _params_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_params_json(v) for v in value]
    return value


def _compare(
    data: _Data,
    segments: Sequence[Segment],
    stages: Stages,
    coverage: Coverage,
    params: dict[str, Any],
) -> ComparisonResult:
    overall_groups, _, _ = _segment_groups(
        data, np.zeros(data.joint.size, dtype=np.int64), 1, ["overall"], np.array([False])
    )
    built: list[tuple[Segment, list[_Group], list[GapChange], ChangeTest | None]] = []
    for i, segment in enumerate(segments):
        smap, n_groups = data.joint.segment_map(segment)
        groups, gaps, test = _segment_groups(data, smap, n_groups, segment.labels(), segment.unknown_mask())
        built.append((segment, groups, gaps, test))
        stages.reached(0.5 + 0.45 * (i + 1) / max(len(segments), 1))

    # Holm per metric over every tested, judged group (overall included): one family per metric.
    scoped = [("overall", g) for g in overall_groups] + [
        (seg.name, g) for seg, groups, _, _ in built for g in groups
    ]
    adjusted: dict[tuple[int, str], float] = {}
    families = []
    metric_names = list(overall_groups[0].metrics)
    for name in metric_names:
        members = [
            (i, g.metrics[name]["p"])
            for i, (_, g) in enumerate(scoped)
            if not g.insufficient and _num(g.metrics[name].get("p")) is not None
        ]
        if not members:
            continue
        for (i, _), q in zip(members, holm([p for _, p in members]), strict=True):
            adjusted[(i, name)] = q
        tests = sorted({str(scoped[i][1].metrics[name]["test"]) for i, _ in members})
        families.append(
            HolmFamily(
                metric=name,
                test=", ".join(tests),
                size=len(members),
                description=f"Holm over the {len(members)} tests of {name} (challenger vs champion): overall "
                "and every group of every segment with at least the minimum group size",
            )
        )
    tests = [(k, t) for k, (_, _, _, t) in enumerate(built) if t is not None and t.p_value is not None]
    change_holm = dict(zip([k for k, _ in tests], holm([t.p_value for _, t in tests]), strict=True))
    if tests:
        families.append(
            HolmFamily(
                metric="decision_changes",
                test="chi_square_homogeneity",
                size=len(tests),
                description=f"Holm over the {len(tests)} segments' chi-square tests of whether decision "
                "changes fall evenly on their groups",
            )
        )

    def freeze(i: int, g: _Group) -> GroupComparison:
        return GroupComparison(
            group=g.label,
            champion_count=g.counts[0],
            challenger_count=g.counts[1],
            metrics=tuple(_metric_change(n, m, adjusted.get((i, n))) for n, m in g.metrics.items()),
            changes=g.changes,
            insufficient=g.insufficient,
            unknown=g.unknown,
        )

    index = 1
    segment_results = []
    for k, (segment, groups, gaps, test) in enumerate(built):
        frozen = []
        for g in groups:
            frozen.append(freeze(index, g))
            index += 1
        if test is not None and k in change_holm:
            test = dataclasses.replace(test, p_holm=change_holm[k])
        attributes = tuple(a.name for a in segment.attributes)
        segment_results.append(SegmentComparison(segment.name, attributes, tuple(frozen), tuple(gaps), test))
    return ComparisonResult(
        params=params,
        design=data.design,
        confidence_level=data.level,
        positive_label=str(params["positive_label"]),
        coverage=coverage,
        overall=freeze(0, overall_groups[0]),
        segments=tuple(segment_results),
        families=tuple(families),
        engine_version=signoff.__version__,
    )


def _check_options(sensitive: Sequence[str], n_resamples: int, min_group_size: int, level: float) -> None:
    if not sensitive:
        raise InputError("name at least one sensitive attribute to compare the versions per group")
    if n_resamples < 0 or min_group_size < 0:
        raise InputError("the number of resamples and the minimum group size must not be negative")
    if not 0 < level < 1:
        raise InputError(f"the confidence level must lie between 0 and 1, got {level}")


@dataclass(frozen=True)
class ScoredPairs:
    """The scored rows as the AUCs need them: (joint group, label, scores) and how many rows each stands
    for. Paired: ``scores`` holds the champion's and the challenger's score of one row; unpaired: the
    row's own version's score, and ``challenger`` says whose row it is."""

    joint: np.ndarray
    label: np.ndarray
    scores: np.ndarray  # (rows, 2) paired, (rows, 1) unpaired
    rows: np.ndarray
    challenger: np.ndarray | None = None  # unpaired only

    def distinct(self) -> ScoredPairs:
        """Equal rows merged into one with their total: every placement, AUC and variance is unchanged."""
        keys = [self.joint, self.label, *self.scores.T]
        if self.challenger is not None:
            keys.append(self.challenger)
        order = np.lexsort(keys[::-1])
        new = np.ones(len(order), dtype=bool)
        for key in keys:
            ordered = key[order]
            new[1:] &= ordered[1:] == ordered[:-1]
        new = ~new
        if len(order):
            new[0] = True
        starts = np.flatnonzero(new)
        rows = np.add.reduceat(self.rows[order], starts) if len(order) else self.rows[:0]
        picked = order[starts]
        return ScoredPairs(
            self.joint[picked],
            self.label[picked],
            self.scores[picked],
            rows,
            None if self.challenger is None else self.challenger[picked],
        )

    def expanded(self) -> ScoredPairs:
        """One entry per row again, as the rank statistics take them (no copy when each is one row)."""
        if bool((self.rows == 1).all()):
            return self
        if int(self.rows.sum()) > MAX_SCORED_ROWS or bool((self.rows < 0).any()):
            raise ValueError(f"{int(self.rows.sum()):,} scored rows, more than a comparison reads")
        index = np.repeat(np.arange(len(self.rows)), self.rows)
        return ScoredPairs(
            self.joint[index],
            self.label[index],
            self.scores[index],
            np.ones(len(index), dtype=np.int64),
            None if self.challenger is None else self.challenger[index],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "joint": self.joint.tolist(),
            "label": self.label.astype(np.int64).tolist(),
            "scores": self.scores.astype(float).tolist(),
            "rows": self.rows.astype(np.int64).tolist(),
            "challenger": None if self.challenger is None else self.challenger.astype(np.int64).tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoredPairs:
        scores = np.asarray(data["scores"], dtype=float)
        if scores.ndim != 2 or scores.shape[1] not in (1, 2):
            raise ValueError("the scored rows hold neither score pairs nor single scores")
        challenger = data.get("challenger")
        return cls(
            np.asarray(data["joint"], dtype=np.int64),
            np.asarray(data["label"], dtype=bool),
            scores,
            np.asarray(data["rows"], dtype=np.int64),
            None if challenger is None else np.asarray(challenger, dtype=bool),
        )


# A hostile count table must not make verification expand billions of rows for the AUCs.
MAX_SCORED_ROWS = 20_000_000


@dataclass(frozen=True)
class ComparisonCounts:
    """What every number of a comparison is derived from: the 8-cell joint count table, the scored rows
    (for AUCs), which rows were compared, and the parameters (seed, resamples, level, minimum size ...).

    ``count_paired_comparison`` / ``count_unpaired_comparison`` make it from rows;
    ``comparison_from_counts`` derives the result from it alone; ``to_dict``/``from_dict`` carry it
    inside an exported report.
    """

    design: str
    joint: JointGroups
    segments: tuple[Segment, ...]
    n_rows: int
    conf: Tally
    scored: ScoredPairs | None
    coverage: Coverage
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "attributes": self.joint.to_dict(),
            "segments": [[a.name for a in segment.attributes] for segment in self.segments],
            "confusion": self.conf.to_dict(),
            "scores": None if self.scored is None else self.scored.distinct().to_dict(),
            "coverage": self.coverage.to_dict(),
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComparisonCounts:
        joint = JointGroups.from_dict(data["attributes"])
        by_name = {a.name: a for a in joint.attributes}
        conf = Tally.from_dict(data["confusion"])
        design = str(data["design"])
        if design not in (PAIRED, UNPAIRED) or conf.n_cells != 8:
            raise ValueError(
                f"a comparison is paired or unpaired over 8 cells, not {design} over {conf.n_cells}"
            )
        scored = None if data.get("scores") is None else ScoredPairs.from_dict(data["scores"])
        if scored is not None and int(scored.rows.sum()) > int(
            conf.counts.sum()
        ):  # they are expanded to rows
            raise ValueError("more scored rows than compared rows")
        return cls(
            design=design,
            joint=joint,
            segments=tuple(Segment(tuple(by_name[n] for n in names)) for names in data["segments"]),
            n_rows=int(conf.counts.sum()),
            conf=conf,
            scored=scored,
            coverage=Coverage.from_dict(data["coverage"]),
            params=dict(data["params"]),
        )


def _count(
    *,
    design: str,
    label_cells: np.ndarray,
    scored: ScoredPairs | None,
    sensitive_frame: pd.DataFrame,
    sensitive: Sequence[str],
    positive: Any,
    coverage: Coverage,
    params: dict[str, Any],
    intersections: bool | int | Sequence[Sequence[str]],
    bins: Mapping[str, Sequence[float]] | None,
    min_group_size: int,
    excluded_share: float,
    confidence_level: float,
    n_resamples: int,
    seed: int,
    stages: Stages,
) -> ComparisonCounts:
    from signoff.analysis.inputs import display
    from signoff.analysis.segments import encode_attributes

    attributes = encode_attributes(sensitive_frame, sensitive, bins)
    segments = plan_segments(attributes, intersections)
    joint = JointGroups.from_attributes(attributes, len(sensitive_frame))
    stages.reached(0.1)
    conf = tally(joint, label_cells, 8)
    if scored is not None:
        scored = dataclasses.replace(scored, joint=joint.codes)
    params.update(
        sensitive=list(sensitive),
        intersections=[seg.name.split("&") for seg in segments if len(seg.attributes) > 1],
        bins={k: [float(e) for e in v] for k, v in (bins or {}).items()},
        positive_label=display(positive),
        min_group_size=min_group_size,
        excluded_share=excluded_share,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        seed=seed,
    )
    return ComparisonCounts(
        design, joint, tuple(segments), len(sensitive_frame), conf, scored, coverage, _params_json(params)
    )


def comparison_from_counts(counts: ComparisonCounts, stages: Stages | None = None) -> ComparisonResult:
    """Every number of a comparison from its count tables and parameters (no rows, no pandas)."""
    from scipy import special

    stages = stages or Stages(None, None)
    params = counts.params
    design, conf = counts.design, counts.conf
    n_resamples, seed = int(params["n_resamples"]), int(params["seed"])
    confidence_level = float(params["confidence_level"])
    boot = None
    if n_resamples:
        boot = (
            resample(conf, n_resamples, seed)
            if design == PAIRED
            else _resample_by_version(conf, n_resamples, seed)
        )
    stages.reached(0.2)
    ranks: tuple[_ScoreRanks, _ScoreRanks] | None = None
    unpaired_ranks: tuple[_ScoreRanks, _ScoreRanks] | None = None
    if counts.scored is not None:
        scored = counts.scored.expanded()
        if design == PAIRED:
            with ThreadPoolExecutor(2) as pool:  # numpy's sorts release the GIL
                a, b = pool.map(
                    lambda s: _ScoreRanks.build(s, scored.label, scored.joint),
                    (scored.scores[:, 0], scored.scores[:, 1]),
                )
            ranks = (a, b)
        else:
            mine = scored.challenger if scored.challenger is not None else np.zeros(len(scored.rows), bool)
            score = scored.scores[:, 0]
            unpaired_ranks = (
                _ScoreRanks.build(score[~mine], scored.label[~mine], scored.joint[~mine]),
                _ScoreRanks.build(score[mine], scored.label[mine], scored.joint[mine]),
            )
    stages.reached(0.5)
    data = _Data(
        design=design,
        n_rows=counts.n_rows,
        joint=counts.joint,
        conf=conf,
        boot=boot,
        ranks=ranks,
        unpaired_ranks=unpaired_ranks,
        z=float(special.ndtri(0.5 + confidence_level / 2)),
        level=confidence_level,
        min_group_size=int(params["min_group_size"]),
        excluded_share=float(params["excluded_share"]),
    )
    result = _compare(data, counts.segments, stages, counts.coverage, params)
    stages.reached(1.0)
    return result


def _binary(frame: pd.DataFrame, column: str, positive: Any) -> np.ndarray:
    return (frame[column] == positive).to_numpy(dtype=bool)


def _positive(frames: Sequence[tuple[pd.DataFrame, Sequence[str]]], positive_label: Any) -> Any:
    from signoff.analysis.inputs import display, outcome_domain, resolve_positive_label

    domain: list[Any] = []
    for frame, columns in frames:
        for v in outcome_domain(frame, *columns):
            if v not in domain:
                domain.append(v)
    if len(domain) > 2:
        raise InputError(
            f"a comparison of binary decisions needs two outcome values; the logs hold {len(domain)}: "
            f"{[display(v) for v in sorted(domain, key=str)[:10]]}"
        )
    try:
        domain = sorted(domain)
    except TypeError:
        domain = sorted(domain, key=str)
    return resolve_positive_label(domain, positive_label)


def count_paired_comparison(
    frame: pd.DataFrame,
    *,
    champion: VersionColumns,
    challenger: VersionColumns,
    sensitive: Sequence[str],
    positive_label: Any = None,
    intersections: bool | int | Sequence[Sequence[str]] = True,
    bins: Mapping[str, Sequence[float]] | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    excluded_share: float = DEFAULT_EXCLUDED_SHARE,
    confidence_level: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    coverage: Coverage | None = None,
    stages: Stages | None = None,
) -> ComparisonCounts:
    """Count the rows both versions scored into the tables of ``run_paired_comparison``."""
    from signoff.analysis.inputs import as_frame, probability_scores, require_columns

    stages = stages or Stages(None, None)
    frame = as_frame(frame)
    _check_options(sensitive, n_resamples, min_group_size, confidence_level)
    for what in ("prediction", "score"):
        col = getattr(champion, what)
        if col is not None and col == getattr(challenger, what):
            raise InputError(ONE_LOG_COLUMNS_DIFFER.format(what=what, col=col))
    require_columns(frame, champion.label, challenger.label, champion.prediction, challenger.prediction)
    if (champion.score is None) != (challenger.score is None):
        raise InputError("give a score for both versions or for neither: AUC compares the two scores")
    positive = _positive(
        [(frame, (champion.label, challenger.label, champion.prediction, challenger.prediction))],
        positive_label,
    )
    y = _binary(frame, champion.label, positive)
    if challenger.label != champion.label:
        differs = y != _binary(frame, challenger.label, positive)
        if differs.any():
            raise InputError(
                f"{int(differs.sum())} paired rows have a different label in the two logs; the same row "
                "must have the same outcome for both versions",
                row=int(np.flatnonzero(differs)[0]) + 1,
                column=challenger.label,
            )
    pa, pb = _binary(frame, champion.prediction, positive), _binary(frame, challenger.prediction, positive)
    scored = None
    if champion.score is not None and challenger.score is not None:
        pair = np.column_stack(
            [probability_scores(frame, champion.score), probability_scores(frame, challenger.score)]
        )
        scored = ScoredPairs(y, y, pair, np.ones(len(frame), dtype=np.int64))  # joint codes set by _count
    cells = y.astype(np.int64) * 4
    cells += pa.astype(np.int64) * 2
    cells += pb
    coverage = coverage or Coverage(PAIRED, len(frame), len(frame), len(frame))
    params: dict[str, Any] = {
        "design": PAIRED,
        "champion": dataclasses.asdict(champion),
        "challenger": dataclasses.asdict(challenger),
    }
    return _count(
        design=PAIRED,
        label_cells=cells,
        scored=scored,
        sensitive_frame=frame,
        sensitive=sensitive,
        positive=positive,
        coverage=coverage,
        params=params,
        intersections=intersections,
        bins=bins,
        min_group_size=min_group_size,
        excluded_share=excluded_share,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        seed=seed,
        stages=stages,
    )


def run_paired_comparison(
    frame: pd.DataFrame,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    **parameters: Any,
) -> ComparisonResult:
    """Both versions scored the same rows: one row, its label, and each version's prediction (and score).

    ``parameters`` are ``count_paired_comparison``'s: ``champion`` and ``challenger`` (``VersionColumns``),
    ``sensitive``, ``positive_label``, ``intersections``, ``bins``, ``min_group_size``, ``excluded_share``,
    ``confidence_level``, ``n_resamples`` (0 skips the bootstrap: paired rate differences then have no
    interval), ``seed`` and ``coverage`` (how the rows were paired, ``join_logs``; one log holding both
    versions' columns needs none).
    """
    stages = Stages(progress, cancelled)
    return comparison_from_counts(count_paired_comparison(frame, stages=stages, **parameters), stages)


def count_unpaired_comparison(
    champion_frame: pd.DataFrame,
    challenger_frame: pd.DataFrame,
    *,
    champion: VersionColumns,
    challenger: VersionColumns,
    sensitive: Sequence[str],
    positive_label: Any = None,
    intersections: bool | int | Sequence[Sequence[str]] = True,
    bins: Mapping[str, Sequence[float]] | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    excluded_share: float = DEFAULT_EXCLUDED_SHARE,
    confidence_level: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    stages: Stages | None = None,
) -> ComparisonCounts:
    """Count each version's own rows into the tables of ``run_unpaired_comparison``."""
    import pandas as pd

    from signoff.analysis.inputs import as_frame, probability_scores, require_columns

    stages = stages or Stages(None, None)
    a, b = as_frame(champion_frame), as_frame(challenger_frame)
    _check_options(sensitive, n_resamples, min_group_size, confidence_level)
    require_columns(a, champion.label, champion.prediction, *sensitive)
    require_columns(b, challenger.label, challenger.prediction, *sensitive)
    if (champion.score is None) != (challenger.score is None):
        raise InputError("give a score for both versions or for neither: AUC compares the two scores")
    positive = _positive(
        [(a, (champion.label, champion.prediction)), (b, (challenger.label, challenger.prediction))],
        positive_label,
    )
    y = np.concatenate([_binary(a, champion.label, positive), _binary(b, challenger.label, positive)])
    p = np.concatenate(
        [_binary(a, champion.prediction, positive), _binary(b, challenger.prediction, positive)]
    )
    version = np.concatenate([np.zeros(len(a), dtype=bool), np.ones(len(b), dtype=bool)])
    scored = None
    if champion.score is not None and challenger.score is not None:
        both = np.concatenate(
            [probability_scores(a, champion.score), probability_scores(b, challenger.score)]
        )
        scored = ScoredPairs(y, y, both[:, None], np.ones(len(y), dtype=np.int64), version)
    cells = version.astype(np.int64) * 4
    cells += y.astype(np.int64) * 2
    cells += p
    sensitive_frame = pd.concat(
        [a[list(sensitive)].reset_index(drop=True), b[list(sensitive)].reset_index(drop=True)],
        ignore_index=True,
    )
    coverage = Coverage(UNPAIRED, len(a), len(b), len(a) + len(b))
    params: dict[str, Any] = {
        "design": UNPAIRED,
        "champion": dataclasses.asdict(champion),
        "challenger": dataclasses.asdict(challenger),
    }
    return _count(
        design=UNPAIRED,
        label_cells=cells,
        scored=scored,
        sensitive_frame=sensitive_frame,
        sensitive=sensitive,
        positive=positive,
        coverage=coverage,
        params=params,
        intersections=intersections,
        bins=bins,
        min_group_size=min_group_size,
        excluded_share=excluded_share,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        seed=seed,
        stages=stages,
    )


def run_unpaired_comparison(
    champion_frame: pd.DataFrame,
    challenger_frame: pd.DataFrame,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    **parameters: Any,
) -> ComparisonResult:
    """Each version served its own rows (an A/B test): independent samples, unpaired tests.
    ``parameters`` are ``count_unpaired_comparison``'s."""
    stages = Stages(progress, cancelled)
    counts = count_unpaired_comparison(champion_frame, challenger_frame, stages=stages, **parameters)
    return comparison_from_counts(counts, stages)
