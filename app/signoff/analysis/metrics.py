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

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from signoff.analysis.counts import confusion

ECE_BINS = 10

# name -> (numerator cells, denominator cells) over (tn, fp, fn, tp): Wilson intervals need both.
PROPORTIONS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "base_rate": ((2, 3), (0, 1, 2, 3)),
    # Cells 4 and 5 (unlabelled rows predicted negative / positive) exist only in a fairness table of a
    # log with unlabelled rows: they count for the selection rate and for nothing else.
    "selection_rate": ((1, 3, 5), (0, 1, 2, 3, 4, 5)),
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
    return proportions(table)[name]


def proportions(table: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(successes, trials) of every proportion; each sum of cells is added up once, by plain views.

    A bootstrap table is ``(resamples, groups, 4)``: picking cells by fancy indexing copied it once
    per numerator and denominator, 26 times per table.
    """
    sums: dict[tuple[int, ...], np.ndarray] = {}

    def cell_sum(cells: tuple[int, ...]) -> np.ndarray:
        if cells not in sums:
            present = [cell for cell in cells if cell < table.shape[-1]]
            total = table[..., present[0]]
            for cell in present[1:]:
                total = total + table[..., cell]
            sums[cells] = total
        return sums[cells]

    return {name: (cell_sum(num), cell_sum(den)) for name, (num, den) in PROPORTIONS.items()}


def binary_rates(table: np.ndarray) -> dict[str, np.ndarray]:
    """All confusion-table rates of a ``(..., groups, 4)`` table."""
    out = {name: divide(num, den) for name, (num, den) in proportions(table).items()}
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
    """Rows sorted once by score; each segment's exact AUC then needs one stable sort by small codes.

    Within a group sorted by score, the AUC is the Mann-Whitney statistic: the sum of the positives'
    mid-ranks minus P(P+1)/2, over P*N. Positions give the ranks directly; only rows whose score is
    shared with another row (ties) need the mid-rank correction, so that work is kept to those rows.
    ``cells`` (the joint group of each row) is taken in score order once, so a segment's groups in
    score order are a lookup in a small table rather than a gather over the whole log.
    """

    def __init__(self, score: np.ndarray, label: np.ndarray, cells: np.ndarray, n_cells: int) -> None:
        self.order = argsort_scores(score)
        ordered = score[self.order]
        n = len(score)
        new_value = np.ones(n, dtype=bool)
        if n:
            np.not_equal(ordered[1:], ordered[:-1], out=new_value[1:])
        del ordered
        # A row is tied when its score block has more than one row.
        next_new = np.ones(n, dtype=bool)
        next_new[:-1] = new_value[1:]
        self.tied = ~(new_value & next_new)
        self.rank = np.cumsum(new_value, dtype=np.int64) if self.tied.any() else None
        self.label = label[self.order]
        self.cells = cells[self.order].astype(_small_dtype(n_cells))

    def auc(self, segment_map: np.ndarray, n_groups: int) -> np.ndarray:
        """Exact ROC AUC per group (NaN where a group lacks positives or negatives)."""
        n = len(self.order)
        if n == 0:
            return np.full(n_groups, np.nan)
        if n_groups == 1:  # the whole log: already in score order, no sort by group
            by_score = np.zeros(n, dtype=np.uint8)
            perm = np.arange(n)
        else:
            by_score = segment_map.astype(_small_dtype(n_groups))[self.cells]
            perm = np.argsort(by_score, kind="stable")  # radix sort on small codes: O(n)
        counts = np.bincount(by_score, minlength=n_groups)
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        # Positions (in group order, hence 0-based rank + first[g]) of the positives, per group.
        at = np.flatnonzero(self.label[perm]).astype(float)
        bounds = np.searchsorted(at, np.append(first, n))
        positives = np.diff(bounds).astype(float)
        negatives = counts - positives
        position_sums = np.add.reduceat(np.append(at, 0.0), bounds[:-1])
        position_sums[positives == 0] = 0.0  # reduceat gives the element at an empty slice's start
        # sum over positives of their 1-based rank within the group (float64 is exact below 2**53)
        rank_sum = position_sums - positives * (first - 1)
        if self.rank is not None:
            rank_sum += self._tie_correction(perm, by_score, n_groups)
        u = rank_sum - positives * (positives + 1) / 2
        return divide(u, positives * negatives)

    def _tie_correction(self, perm: np.ndarray, by_score: np.ndarray, n_groups: int) -> np.ndarray:
        """Mid-rank minus position, summed over tied positives, per group."""
        assert self.rank is not None
        at = np.flatnonzero(self.tied[perm])  # positions (in group order) of tied rows
        if not len(at):
            return np.zeros(n_groups)
        rows = perm[at]
        g = by_score[rows]
        r = self.rank[rows]
        # Rows of one (group, score) block are adjacent in group order, hence adjacent in ``at``.
        new_block = np.ones(len(at), dtype=bool)
        new_block[1:] = (g[1:] != g[:-1]) | (r[1:] != r[:-1])
        block = np.cumsum(new_block) - 1
        starts = at[new_block]
        ends = np.append(at[np.flatnonzero(new_block)[1:] - 1], at[-1])
        mid = (starts + ends) / 2
        yt = self.label[rows]
        correction = mid[block][yt] - at[yt]
        return np.bincount(g[yt], weights=correction, minlength=n_groups)


class AucAhead:
    """Every segment's exact AUC, computed on a second thread while the caller does the rest.

    The score order and each segment's AUC are sorts and gathers that numpy runs with the GIL
    released, so on a second core they overlap the count-table metrics (mostly Python) instead of
    following them. ``auc`` waits for the answer it is asked for; the thread ends when all are done.
    """

    def __init__(
        self,
        score: np.ndarray,
        label: np.ndarray,
        cells: np.ndarray,
        n_cells: int,
        maps: Sequence[tuple[np.ndarray, int]],
    ) -> None:
        pool = ThreadPoolExecutor(1, thread_name_prefix="signoff-auc")
        order = pool.submit(ScoreOrder, score, label, cells, n_cells)
        self._pending: dict[tuple[int, bytes], Future[np.ndarray]] = {
            (n_groups, segment_map.tobytes()): pool.submit(
                lambda m=segment_map, k=n_groups: order.result().auc(m, k)
            )
            for segment_map, n_groups in maps
        }
        pool.shutdown(wait=False)

    def auc(self, segment_map: np.ndarray, n_groups: int) -> np.ndarray:
        # Not popped: two segments can share a map (an attribute with one group is the whole log).
        return self._pending[(n_groups, segment_map.tobytes())].result()


def argsort_scores(score: np.ndarray) -> np.ndarray:
    """An ascending order of scores in [0, 1], about 3x faster than ``np.argsort`` on large logs.

    Non-negative doubles order like their bit patterns, so the score's high bits and the row index
    pack into one uint64 that a plain (SIMD) sort orders, in two threads for large logs. Rows whose
    scores agree in the kept bits are then put in exact order by their full scores. The order among
    equal scores is arbitrary: every use gives tied rows the same mid-rank.
    """
    n = len(score)
    idx_bits = max(1, (n - 1).bit_length())
    shift = np.uint64(idx_bits)
    key = np.add(score, 0.0).view(np.uint64) >> shift << shift  # + 0.0 turns -0.0 into 0.0
    key |= np.arange(n, dtype=np.uint64)
    if n >= 1 << 21:
        half = n // 2
        with ThreadPoolExecutor(2) as pool:  # numpy's sort releases the GIL
            list(pool.map(np.ndarray.sort, (key[:half], key[half:])))
        key = np.sort(key, kind="stable")  # merges the two sorted runs in linear time
    else:
        key.sort()
    order = (key & np.uint64((1 << idx_bits) - 1)).astype(np.intp)
    coarse = key >> shift
    continues = np.zeros(n, dtype=bool)
    np.equal(coarse[1:], coarse[:-1], out=continues[1:])
    if continues.any():
        in_run = continues.copy()
        in_run[:-1] |= continues[1:]
        at = np.flatnonzero(in_run)
        run = np.cumsum(~continues[at])
        rows = order[at]
        order[at] = rows[np.lexsort((score[rows], run))]
    return order


def _small_dtype(size: int) -> type[np.unsignedinteger]:
    return np.uint8 if size <= 256 else np.uint16 if size <= 65536 else np.uint32
