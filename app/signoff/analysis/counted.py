"""Count tables fetched from a database engine, fed to the same analyses as a log's rows.

An engine (DuckDB, PostgreSQL, Spark) answers one GROUP BY over segment x label x prediction (x score),
so each row of the fetched frame stands for ``rows`` rows of the log. The analyses count with those
weights instead of ones; every metric, intersection and bootstrap resample then follows unchanged.
Scores come either exactly (one row per distinct score) or as a fine histogram; on a histogram the
ROC AUC treats pairs in one bin as ties, which bounds its error by half their share (stated per group).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from signoff.analysis.metrics import ECE_BINS, divide, score_bins
from signoff.domain.log_source import ECE_BIN, ROWS, SCORE_SQUARES, SCORE_SUM

if TYPE_CHECKING:  # at run time only where rows are rebuilt: verifying a report's counts loads no pandas
    import pandas as pd


@dataclass(frozen=True)
class CountedRows:
    """A count table: ``frame`` holds the grouped columns plus ``ROWS`` (and score sums with scores).

    ``score_resolution`` is None when the score column holds each distinct score exactly, else the
    width of the histogram bin whose lower edge it holds.
    """

    frame: pd.DataFrame
    score_resolution: float | None = None

    @property
    def rows(self) -> np.ndarray:
        return self.frame[ROWS].to_numpy(dtype=np.int64)

    @property
    def n_rows(self) -> int:
        return int(self.rows.sum())


def weighted_auc(
    counted: CountedRows, score: np.ndarray, label: np.ndarray, joint_codes: np.ndarray
) -> WeightedAuc:
    return WeightedAuc(
        score, label, counted.rows, joint_codes, histogram=counted.score_resolution is not None
    )


def split(data: object) -> tuple[object, CountedRows | None]:
    """(the frame to read columns from, the count table or None for a plain log's rows)."""
    if isinstance(data, CountedRows):
        return data.frame, data
    return data, None


def calibration_cells(counted: CountedRows | None, y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Cell ``label * ECE_BINS + bin``; a histogram uses the engine's bin, computed from exact scores."""
    bins = score_bins(s) if counted is None or ECE_BIN not in counted.frame else counted.frame[ECE_BIN]
    return y.astype(np.int64) * ECE_BINS + np.asarray(bins, dtype=np.int64)


def calibration_sums(counted: CountedRows | None, y: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row totals of score and squared error that the calibration tally adds up."""
    if counted is None:
        return {"score": s, "sq_error": (s - y) ** 2}
    if SCORE_SUM in counted.frame:
        total = counted.frame[SCORE_SUM].to_numpy(dtype=float)
        squares = counted.frame[SCORE_SQUARES].to_numpy(dtype=float)
    else:
        total = s * counted.rows
        squares = s * s * counted.rows
    # sum (s - y)^2 over a cell whose label y is fixed = sum s^2 - 2 y sum s + y n
    yf = y.astype(float)
    return {"score": total, "sq_error": squares - 2 * yf * total + yf * counted.rows}


@dataclass(frozen=True)
class ScoredRows:
    """The labelled rows as (joint group, label, score) and how many rows each stands for: all the ROC AUC
    needs, as a count table carries it. ``histogram``: the scores are histogram bins, not exact scores."""

    joint: np.ndarray
    label: np.ndarray
    score: np.ndarray
    rows: np.ndarray
    histogram: bool = False

    def distinct(self) -> ScoredRows:
        """Equal (joint group, label, score) rows merged into one with their total: the AUC is unchanged."""
        order = np.lexsort((self.score, self.label, self.joint))
        joint, label, score = self.joint[order], self.label[order], self.score[order]
        new = np.ones(len(order), dtype=bool)
        if len(order):
            new[1:] = (joint[1:] != joint[:-1]) | (label[1:] != label[:-1]) | (score[1:] != score[:-1])
        starts = np.flatnonzero(new)
        rows = np.add.reduceat(self.rows[order], starts) if len(order) else self.rows[:0]
        return ScoredRows(joint[starts], label[starts], score[starts], rows, self.histogram)

    def auc(self) -> WeightedAuc:
        return WeightedAuc(self.score, self.label, self.rows, self.joint, histogram=self.histogram)

    def to_dict(self) -> dict[str, Any]:
        return {
            "joint": self.joint.tolist(),
            "label": self.label.astype(np.int64).tolist(),
            "score": self.score.astype(float).tolist(),
            "rows": self.rows.astype(np.int64).tolist(),
            "histogram": self.histogram,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoredRows:
        return cls(
            np.asarray(data["joint"], dtype=np.int64),
            np.asarray(data["label"], dtype=bool),
            np.asarray(data["score"], dtype=float),
            np.asarray(data["rows"], dtype=np.int64),
            bool(data["histogram"]),
        )


class WeightedAuc:
    """Per-group ROC AUC from (score, label, count) rows: the Mann-Whitney statistic on counts.

    Equal scores count one half, as mid-ranks do on rows, so on exact scores this equals the rows' AUC.
    ``bound`` is the largest possible error when the scores are histogram bins: half the share of
    (positive, negative) pairs that fall in one bin, whose order the histogram cannot see.
    """

    def __init__(
        self,
        score: np.ndarray,
        label: np.ndarray,
        rows: np.ndarray,
        joint_codes: np.ndarray,
        *,
        histogram: bool = False,
    ) -> None:
        self.histogram = histogram
        self._score = np.asarray(score, dtype=float)
        self._label = np.asarray(label, dtype=bool)
        self._rows = np.asarray(rows, dtype=float)
        self._joint = np.asarray(joint_codes, dtype=np.int64)

    def _blocks(self, segment_map: np.ndarray, n_groups: int) -> tuple[np.ndarray, ...]:
        groups = segment_map[self._joint]
        order = np.lexsort((self._score, groups))
        g, s = groups[order], self._score[order]
        new = np.ones(len(order), dtype=bool)
        if len(order):
            new[1:] = (g[1:] != g[:-1]) | (s[1:] != s[:-1])
        block = np.cumsum(new) - 1
        w, y = self._rows[order], self._label[order]
        positives = np.bincount(block, weights=w * y, minlength=int(new.sum()))
        negatives = np.bincount(block, weights=w * ~y, minlength=int(new.sum()))
        return g[new], positives, negatives

    def auc(self, segment_map: np.ndarray, n_groups: int) -> np.ndarray:
        block_group, positives, negatives = self._blocks(segment_map, n_groups)
        # negatives below each block within its group: a running total restarted at each group
        running = np.cumsum(negatives) - negatives
        group_negatives = np.bincount(block_group, weights=negatives, minlength=n_groups)
        group_start = np.cumsum(group_negatives) - group_negatives
        below = running - group_start[block_group]
        u = np.bincount(block_group, weights=positives * (below + negatives / 2), minlength=n_groups)
        p = np.bincount(block_group, weights=positives, minlength=n_groups)
        return divide(u, p * group_negatives)

    def bound(self, segment_map: np.ndarray, n_groups: int) -> np.ndarray:
        block_group, positives, negatives = self._blocks(segment_map, n_groups)
        same_bin = np.bincount(block_group, weights=positives * negatives, minlength=n_groups)
        p = np.bincount(block_group, weights=positives, minlength=n_groups)
        n = np.bincount(block_group, weights=negatives, minlength=n_groups)
        return divide(same_bin / 2, p * n)


@dataclass(frozen=True)
class ValueCounts:
    """One column of a log as its distinct values and how many rows hold each (missing: a None value).

    ``resolution`` is None when each value is exact, else the width of the histogram bins whose lower
    edges the values are."""

    values: pd.Series
    counts: np.ndarray
    resolution: float | None = None

    @property
    def rows(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def of(cls, column: pd.Series) -> ValueCounts:
        counted = column.value_counts(dropna=False, sort=False)
        counted = counted[counted > 0]
        # type(column) is pd.Series: pandas is imported only where a log is read
        return cls(type(column)(counted.index, name=column.name), counted.to_numpy(dtype=np.int64))


def weighted_quantiles(values: np.ndarray, counts: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """``np.quantile`` (linear) of the rows that sorted ``values`` with ``counts`` stand for."""
    n = int(counts.sum())
    cumulative = np.cumsum(counts)
    h = (n - 1) * np.asarray(probabilities, dtype=float)
    low = np.floor(h).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    a = values[np.searchsorted(cumulative, low, side="right")]
    b = values[np.searchsorted(cumulative, high, side="right")]
    t = h - low
    # numpy's own interpolation, so edges equal to the rows' quantiles bit for bit
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
