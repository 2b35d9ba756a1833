"""Metric formulas on count tables, vectorised over groups and bootstrap resamples.

Every function takes arrays whose last axis (or last two) are the cells of a table and returns NaN
where a denominator is zero; NaN becomes ``None`` only when a result leaves the analysis layer.
Conventions (stated once, here):

- a rate whose denominator is 0 (TPR of a group without positives, PPV of a group without selections,
  F1 when TP+FP+FN = 0) is undefined, as with scikit-learn's ``zero_division=np.nan``. Fairlearn's own
  ``true_positive_rate`` etc. return 0 there instead; Signoff refuses to invent that 0;
- balanced accuracy is the mean of the defined recalls (TPR, TNR), as ``sklearn.metrics.balanced_accuracy_score``;
- ROC AUC is exact (Mann-Whitney with mid-ranks for ties, equal to ``roc_auc_score``), undefined for a
  group with only one label class; Brier score is the mean squared difference of score and label;
- expected calibration error uses 10 equal-width score bins on [0, 1] (a score of 1 falls in the last),
  ECE = sum over bins of (rows in bin / rows) * |mean score - positive share|.
"""

from __future__ import annotations

import numpy as np

from signoff.analysis.counts import confusion

ECE_BINS = 10

# name -> (numerator cells, denominator cells) over (tn, fp, fn, tp): Wilson intervals need both.
PROPORTIONS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "base_rate": ((2, 3), (0, 1, 2, 3)),
    "selection_rate": ((1, 3), (0, 1, 2, 3)),
    "tpr": ((3,), (2, 3)),
    "fpr": ((1,), (0, 1)),
    "tnr": ((0,), (0, 1)),
    "fnr": ((2,), (2, 3)),
    "ppv": ((3,), (1, 3)),
    "npv": ((0,), (0, 2)),
    "fdr": ((1,), (1, 3)),
    "for": ((2,), (0, 2)),
    "accuracy": ((0, 3), (0, 1, 2, 3)),
}
BINARY_RATES = (*PROPORTIONS, "balanced_accuracy", "f1")
SCORE_METRICS = ("roc_auc", "brier", "ece")
REGRESSION_METRICS = ("mean_prediction", "mae", "rmse", "mean_residual")


def divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den == 0."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def proportion_parts(table: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(successes, trials) of a proportion from a ``(..., 4)`` binary table."""
    num_cells, den_cells = PROPORTIONS[name]
    return table[..., list(num_cells)].sum(axis=-1), table[..., list(den_cells)].sum(axis=-1)


def binary_rates(table: np.ndarray) -> dict[str, np.ndarray]:
    """All confusion-table rates of a ``(..., groups, 4)`` table."""
    out = {name: divide(*proportion_parts(table, name)) for name in PROPORTIONS}
    tpr, tnr = out["tpr"], out["tnr"]
    both = ~np.isnan(tpr) & ~np.isnan(tnr)
    out["balanced_accuracy"] = np.where(both, (tpr + tnr) / 2, np.where(np.isnan(tpr), tnr, tpr))
    _tn, fp, fn, tp = confusion(table)
    out["f1"] = divide(2 * tp, 2 * tp + fp + fn)
    return out


def one_vs_rest(table: np.ndarray, n_classes: int) -> np.ndarray:
    """``(..., groups, C*C)`` multiclass table (cell = label*C + prediction) -> ``(..., groups, C, 4)``."""
    m = table.reshape(*table.shape[:-1], n_classes, n_classes)
    tp = np.diagonal(m, axis1=-2, axis2=-1)
    fn = m.sum(axis=-1) - tp
    fp = m.sum(axis=-2) - tp
    tn = m.sum(axis=(-2, -1))[..., None] - tp - fn - fp
    return np.stack([tn, fp, fn, tp], axis=-1)


def calibration(
    counts: np.ndarray, score_sums: np.ndarray, sq_error_sums: np.ndarray
) -> dict[str, np.ndarray]:
    """Brier and ECE from ``(groups, 2 * ECE_BINS)`` tables (cell = label * ECE_BINS + bin)."""
    n = counts.sum(axis=-1)
    brier = divide(sq_error_sums.sum(axis=-1), n)
    per_bin_scores = score_sums[..., :ECE_BINS] + score_sums[..., ECE_BINS:]
    per_bin_positives = counts[..., ECE_BINS:]
    ece = divide(np.abs(per_bin_scores - per_bin_positives).sum(axis=-1), n)
    return {"brier": brier, "ece": ece}


def score_bins(score: np.ndarray) -> np.ndarray:
    return np.minimum((score * ECE_BINS).astype(np.int64), ECE_BINS - 1)


class ScoreOrder:
    """Rows sorted once by score; each segment's exact AUC then needs one stable sort by small codes."""

    def __init__(self, score: np.ndarray, label: np.ndarray) -> None:
        self.order = np.argsort(score, kind="stable")
        ordered = score[self.order]
        # Dense rank of the score: equal scores share a rank, so ties are found by rank equality.
        self.rank = np.empty(len(score), dtype=np.int64)
        if len(score):
            np.cumsum(np.r_[False, ordered[1:] != ordered[:-1]], out=self.rank)
        self.label = label[self.order]

    def auc(self, row_groups: np.ndarray, n_groups: int) -> np.ndarray:
        """Exact ROC AUC per group (NaN where a group lacks positives or negatives)."""
        if len(self.order) == 0:
            return np.full(n_groups, np.nan)
        by_score = row_groups[self.order]
        perm = np.argsort(by_score, kind="stable")
        g = by_score[perm]
        r = self.rank[perm]
        y = self.label[perm]
        neg = ~y
        neg_before = np.cumsum(neg, dtype=np.int64)
        neg_before -= neg  # negatives strictly before each position
        new_group = np.r_[True, g[1:] != g[:-1]]
        block_start = np.flatnonzero(new_group | np.r_[True, r[1:] != r[:-1]])
        group_first = np.zeros(n_groups, dtype=np.int64)
        group_first[g[new_group]] = np.flatnonzero(new_group)
        block_group = g[block_start].astype(np.int64)
        pos_in = np.add.reduceat(y.astype(np.int64), block_start)
        neg_in = np.add.reduceat(neg.astype(np.int64), block_start)
        below = neg_before[block_start] - neg_before[group_first[block_group]]
        u = np.bincount(block_group, weights=pos_in * (below + 0.5 * neg_in), minlength=n_groups)
        positives = np.bincount(block_group, weights=pos_in, minlength=n_groups)
        negatives = np.bincount(block_group, weights=neg_in, minlength=n_groups)
        return divide(u, positives * negatives)
