"""Drift of features, scores and predictions between a reference log and a current log.

Each column is compared by PSI and Jensen-Shannon on binned distributions, plus Kolmogorov-Smirnov and a
normalised Wasserstein distance for numbers, or a chi-square test for categories, as scipy defines them.
The conventions (bins, epsilon, normalisation, log base, missing values, unseen categories) are stated in
``signoff.domain.drift.CONVENTIONS`` and carried by every result. Both logs are counted first
(``count_drift``: each column's distinct values and their rows per log, ``DriftCounts``) and every
statistic is derived from those counts (``drift_from_counts``: numpy, scipy only for the KS p-value), so an
exported report's count tables give the numbers again without the logs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from signoff.analysis.counted import ValueCounts, weighted_quantiles
from signoff.analysis.intervals import chi_square_test
from signoff.domain.analysis_requests import DriftRequest
from signoff.domain.drift import (
    DEFAULT_BINS,
    MISSING_BIN,
    PSI_EPSILON,
    ColumnDrift,
    ColumnType,
    DriftBin,
    DriftResult,
    DriftThresholds,
    DriftVerdict,
    HistogramBounds,
)
from signoff.domain.errors import Cancelled, InputError

if TYPE_CHECKING:  # a log's rows are pandas; deriving drift from its counts runs without it
    import pandas as pd

# Categorical comparisons keep every category for the statistics but show at most this many bins.
MAX_SHOWN_CATEGORIES = 50
# scipy's ks_2samp is exact up to this many rows a side: value counts that small are expanded to rows.
EXACT_KS_ROWS = 10_000

NOT_IN_LOG = "is not a column of the {which} log; drift needs it in both logs"
TIMESTAMP_COLUMN = "is a timestamp; drift of time itself is not meaningful, compare a derived feature"
MIXED_TYPES = "is numeric in one log and text in the other; map it to the same type in both imports"


def psi(reference_shares: np.ndarray, current_shares: np.ndarray, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two share vectors over the same bins (zero shares -> epsilon)."""
    p = np.where(reference_shares == 0, epsilon, reference_shares)
    q = np.where(current_shares == 0, epsilon, current_shares)
    return float(np.sum((q - p) * np.log(q / p)))


def quantile_edges(reference_values: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges: the reference's quantiles k/bins for k = 1..bins-1, duplicates merged."""
    if reference_values.size == 0:
        return np.empty(0)
    return np.unique(np.quantile(reference_values, np.arange(1, bins) / bins))


def _bin_counts(values: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    # side="left" puts x in bin i when edges[i-1] < x <= edges[i]: right-closed bins.
    where = np.searchsorted(edges, values, side="left")
    if weights is None:
        return np.bincount(where, minlength=edges.size + 1)
    return np.rint(np.bincount(where, weights=weights, minlength=edges.size + 1)).astype(np.int64)


def drift_verdict(
    psi_value: float | None, p_value: float | None, effect: bool, thresholds: DriftThresholds
) -> DriftVerdict:
    significant = p_value is not None and p_value < thresholds.p_value
    if psi_value is not None and psi_value >= thresholds.psi_significant:
        return DriftVerdict.DRIFTED
    if effect and significant:
        return DriftVerdict.DRIFTED
    if (psi_value is not None and psi_value >= thresholds.psi_moderate) or effect:
        return DriftVerdict.MODERATE
    return DriftVerdict.STABLE


def _numeric_values(series: Any) -> np.ndarray:
    return series.to_numpy(dtype=float, na_value=np.nan)


# Beyond this many distinct values of a number column over both logs, a report's count tables carry it
# as a histogram (with the PSI bins exactly): KS and Wasserstein are then checked within stated bounds.
MAX_EXACT_VALUES = 50_000
# The histogram's bins over the column's range, when it is carried binned.
CARRIED_BINS = 10_000


@dataclass(frozen=True)
class ColumnCounts:
    """One compared column over both logs: each distinct value (numbers: finite, sorted; categories:
    their keys, the missing bin included) with its rows in the reference and in the current log.

    ``infinite`` counts infinite numbers (missing for the statistics); ``resolutions`` is, per log, the
    width of the histogram bins whose lower edges the values are (None: exact values); ``psi_bins`` are
    the exact PSI bins (inner edges, reference counts, current counts) of a column carried binned."""

    name: str
    type: ColumnType
    values: np.ndarray
    reference: np.ndarray
    current: np.ndarray
    reference_rows: int
    current_rows: int
    infinite: int = 0
    resolutions: tuple[float | None, float | None] = (None, None)
    psi_bins: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def to_dict(self, bins: int = DEFAULT_BINS) -> dict[str, Any]:
        carried = self
        if self.type is ColumnType.NUMERIC and len(self.values) > MAX_EXACT_VALUES:
            carried = self.binned(bins)
        out: dict[str, Any] = {
            "name": carried.name,
            "type": carried.type.value,
            **(
                _numbers_to_json(carried.values)
                if carried.type is ColumnType.NUMERIC
                else {"values": [str(v) for v in carried.values]}
            ),
            "reference": carried.reference.tolist(),
            "current": carried.current.tolist(),
            "reference_rows": carried.reference_rows,
            "current_rows": carried.current_rows,
            "infinite": carried.infinite,
            "resolutions": list(carried.resolutions),
        }
        if carried.psi_bins is not None:
            edges, ref, cur = carried.psi_bins
            out["psi_bins"] = {"edges": edges.tolist(), "reference": ref.tolist(), "current": cur.tolist()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnCounts:
        kind = ColumnType(data["type"])
        values = (
            _numbers_from_json(data)
            if kind is ColumnType.NUMERIC
            else np.asarray([str(v) for v in data["values"]], dtype=object)
        )
        reference = np.asarray(data["reference"], dtype=np.int64)
        current = np.asarray(data["current"], dtype=np.int64)
        if not len(values) == len(reference) == len(current) or (reference < 0).any() or (current < 0).any():
            raise ValueError(f"the counts of column {data['name']!r} do not match its values")
        if kind is ColumnType.NUMERIC and (not np.isfinite(values).all() or (np.diff(values) <= 0).any()):
            raise ValueError(f"the values of column {data['name']!r} are not finite and sorted")
        psi_bins = data.get("psi_bins")
        resolutions = tuple(None if r is None else float(r) for r in data["resolutions"])
        return cls(
            name=str(data["name"]),
            type=kind,
            values=values,
            reference=reference,
            current=current,
            reference_rows=int(data["reference_rows"]),
            current_rows=int(data["current_rows"]),
            infinite=int(data["infinite"]),
            resolutions=(resolutions[0], resolutions[1]),
            psi_bins=None
            if psi_bins is None
            else (
                np.asarray(psi_bins["edges"], dtype=float),
                np.asarray(psi_bins["reference"], dtype=np.int64),
                np.asarray(psi_bins["current"], dtype=np.int64),
            ),
        )

    def side(self, reference: bool) -> _Side:
        counts = self.reference if reference else self.current
        present = counts > 0
        return self.values[present], counts[present], self.reference_rows if reference else self.current_rows

    def binned(self, bins: int) -> ColumnCounts:
        """The column as a histogram of ``CARRIED_BINS`` bins (lower edges), keeping its exact PSI bins."""
        ref_values, ref_counts, _ = self.side(True)
        edges = _psi_edges(ref_values, ref_counts, bins)
        cur_values, cur_counts, _ = self.side(False)
        psi_ref = _bin_counts(ref_values, edges, ref_counts)
        psi_cur = _bin_counts(cur_values, edges, cur_counts)
        low, high = float(self.values[0]), float(self.values[-1])
        resolution = (high - low) / CARRIED_BINS or 1.0
        index = np.minimum(np.floor((self.values - low) / resolution), CARRIED_BINS - 1).astype(np.int64)
        kept, start = np.unique(index, return_index=True)
        return replace(
            self,
            values=low + kept * resolution,
            reference=np.add.reduceat(self.reference, start),
            current=np.add.reduceat(self.current, start),
            resolutions=(resolution, resolution),
            psi_bins=(edges, psi_ref, psi_cur),
        )


def _numbers_to_json(values: np.ndarray) -> dict[str, Any]:
    """Sorted numbers as JSON, small: numbers with at most 9 decimals (a log's usual rounding) as the
    steps between consecutive ones in units of 10**-decimals (each value is then ``integer / 10**decimals``,
    which is the float the decimal text reads as), else each float as Python writes it."""
    for decimals in range(10):
        scaled = np.round(values * 10.0**decimals)
        if np.abs(scaled).max(initial=0) < 2**53 and (scaled / 10.0**decimals == values).all():
            steps = np.diff(scaled, prepend=0.0).astype(np.int64)
            return {"decimals": decimals, "steps": steps.tolist()}
    return {"values": [float(v) for v in values]}


def _numbers_from_json(data: Mapping[str, Any]) -> np.ndarray:
    if "steps" not in data:
        return np.asarray(data["values"], dtype=float)
    decimals = int(data["decimals"])
    if not 0 <= decimals <= 9:
        raise ValueError(f"{decimals} decimals: the counts write numbers with at most 9")
    return np.cumsum(np.asarray(data["steps"], dtype=np.int64)) / 10.0**decimals


@dataclass(frozen=True)
class DriftCounts:
    """What every number of a drift result is derived from: each compared column's counts, the rows of
    both logs and the parameters (bins, thresholds)."""

    columns: tuple[ColumnCounts, ...]
    reference_rows: int
    current_rows: int
    bins: int
    thresholds: DriftThresholds

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.to_dict(self.bins) for c in self.columns],
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "params": {"bins": self.bins, "thresholds": self.thresholds.to_dict()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftCounts:
        return cls(
            columns=tuple(ColumnCounts.from_dict(c) for c in data["columns"]),
            reference_rows=int(data["reference_rows"]),
            current_rows=int(data["current_rows"]),
            bins=int(data["params"]["bins"]),
            thresholds=DriftThresholds.from_dict(data["params"]["thresholds"]),
        )


_Side = tuple[np.ndarray, np.ndarray, int]  # sorted finite values, the rows of each, the log's rows


def _psi_edges(values: np.ndarray, counts: np.ndarray, bins: int) -> np.ndarray:
    """Inner PSI bin edges: the reference's quantiles k/bins (weighted: equal to ``quantile_edges`` on
    its rows, bit for bit)."""
    if not counts.sum():
        return np.empty(0)
    return np.unique(weighted_quantiles(values, counts, np.arange(1, bins) / bins))


def _numeric_column(
    column: ColumnCounts, bins: int, thresholds: DriftThresholds, ks_p_value: float | None
) -> ColumnDrift:
    """Every statistic of a number column from its counts. ``ks_p_value``: taken as given (verifying a
    report, where scipy's Kolmogorov distributions are not loaded), else computed."""
    notes: list[str] = []
    if column.infinite:
        notes.append(f"{column.infinite} infinite values counted as missing")
    # The values of both logs, sorted, with each log's rows (zero where only the other log has it).
    values, ref_w, cur_w = column.values, column.reference, column.current
    ref_rows, cur_rows = column.reference_rows, column.current_rows
    ref_n, cur_n = int(ref_w.sum()), int(cur_w.sum())
    ref_missing, cur_missing = ref_rows - ref_n, cur_rows - cur_n

    if column.psi_bins is not None:  # carried binned: the PSI bins as the rows gave them
        edges, ref_counts, cur_counts = column.psi_bins
    else:
        edges = _psi_edges(values, ref_w, bins)
    if ref_n:
        if column.psi_bins is None:
            ref_counts, cur_counts = _bin_counts(values, edges, ref_w), _bin_counts(values, edges, cur_w)
        bounds = [-np.inf, *edges.tolist(), np.inf]
        shown = [
            DriftBin(
                label=f"({bounds[i]:.6g}, {bounds[i + 1]:.6g}]",
                reference_count=int(ref_counts[i]),
                current_count=int(cur_counts[i]),
                lower=None if i == 0 else float(bounds[i]),
                upper=None if i == edges.size else float(bounds[i + 1]),
            )
            for i in range(edges.size + 1)
        ]
    else:
        ref_counts = cur_counts = np.empty(0, dtype=np.int64)
        shown = []
        # Without reference values there are no quantile bins: current values form one bin.
        if cur_n:
            ref_counts, cur_counts = np.array([0]), np.array([cur_n])
            shown = [DriftBin("(values)", 0, int(cur_n))]
    if ref_missing or cur_missing:
        ref_counts = np.append(ref_counts, ref_missing)
        cur_counts = np.append(cur_counts, cur_missing)
        shown.append(DriftBin(MISSING_BIN, ref_missing, cur_missing))
    if edges.size + 1 < bins and ref_n:
        notes.append(f"{edges.size + 1} bins instead of {bins}: the reference has tied quantiles")

    psi_value = psi(ref_counts / ref_rows, cur_counts / cur_rows)
    js_value = jensen_shannon(ref_counts, cur_counts)

    ks_stat = ks_p = w_raw = w_norm = None
    effect = False
    if ref_n and cur_n:
        ks_stat = _ks_statistic(ref_w, cur_w)
        ks_p = ks_p_value if ks_p_value is not None else _ks_p_value(ks_stat, values, ref_w, cur_w)
        w_raw = wasserstein(values, ref_w, cur_w)
        mean = np.average(values, weights=ref_w)
        spread = float(np.sqrt(np.average((values - mean) ** 2, weights=ref_w)))
        if spread > 0:
            w_norm = w_raw / spread
            effect = w_norm >= thresholds.wasserstein
        else:
            notes.append("the reference is constant: Wasserstein cannot be normalised")
            effect = w_raw > 0
    if not ref_n:
        notes.append("the reference log has no values in this column")
    if not cur_n:
        notes.append("the current log has no values in this column")

    drift = ColumnDrift(
        column=column.name,
        type=ColumnType.NUMERIC,
        verdict=drift_verdict(psi_value, ks_p, effect, thresholds),
        reference_rows=int(ref_rows),
        current_rows=int(cur_rows),
        reference_missing=int(ref_missing),
        current_missing=int(cur_missing),
        psi=psi_value,
        jensen_shannon=js_value,
        ks_statistic=ks_stat,
        ks_p_value=ks_p,
        wasserstein=w_raw,
        wasserstein_normalised=w_norm,
        bins=tuple(shown),
        notes=tuple(notes),
    )
    return _with_bounds(drift, column) if any(r is not None for r in column.resolutions) else drift


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """``scipy.spatial.distance.jensenshannon(p, q, base=2)``: the square root of the divergence."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    divergence = (np.sum(left) + np.sum(right)) / np.log(2.0)
    return float(np.sqrt(divergence / 2.0))


def wasserstein(values: np.ndarray, u_w: np.ndarray, v_w: np.ndarray) -> float:
    """``scipy.stats.wasserstein_distance`` of two weighted samples over the same sorted ``values``: the
    area between their step functions (scipy's sum up to terms of zero width)."""
    u_cdf = np.cumsum(u_w)[:-1] / u_w.sum()
    v_cdf = np.cumsum(v_w)[:-1] / v_w.sum()
    return float(np.sum(np.multiply(np.abs(u_cdf - v_cdf), np.diff(values))))


def _ks_statistic(ref_w: np.ndarray, cur_w: np.ndarray) -> float:
    """The two-sample KS statistic as ``scipy.stats.ks_2samp`` takes it (the largest gap between the two
    step functions at the pooled values), from each log's rows of the same sorted values."""
    cdf1 = np.cumsum(ref_w) / float(ref_w.sum())
    cdf2 = np.cumsum(cur_w) / float(cur_w.sum())
    return float(max(np.max(cdf1 - cdf2), np.clip(-np.min(cdf1 - cdf2), 0, 1)))


def _ks_p_value(d: float, values: np.ndarray, ref_w: np.ndarray, cur_w: np.ndarray) -> float:
    """ks_2samp's p-value ('auto'): exact on the rows up to ``EXACT_KS_ROWS`` a side, else the
    asymptotic Kolmogorov distribution it uses above that."""
    from scipy.stats import ks_2samp, kstwo  # a second: imported only when a p-value is computed

    n1, n2 = int(ref_w.sum()), int(cur_w.sum())
    if max(n1, n2) <= EXACT_KS_ROWS:
        return float(ks_2samp(np.repeat(values, ref_w), np.repeat(values, cur_w)).pvalue)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    return float(np.clip(kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))


def histogram_bounds(column: ColumnDrift, counts: ColumnCounts) -> HistogramBounds:
    """The most a numeric column's statistics can differ from its rows' when a side came as histogram
    bins (values at the bins' lower edges, each off by less than the side's resolution).

    Wasserstein: moving every row by less than w moves the distance by less than w (triangle
    inequality), per binned side. KS: a binned side's step function equals the rows' at every bin edge,
    so between edges the supremum can hide at most one bin's share of that side. The normalised
    Wasserstein also divides by the reference's standard deviation, itself off by less than w when the
    reference is binned (Minkowski)."""
    widths, ks = [], 0.0
    for reference, resolution in zip((True, False), counts.resolutions, strict=True):
        if resolution is None:
            continue
        _, finite, _ = counts.side(reference)
        widths.append(resolution)
        ks += float(finite.max() / finite.sum()) if finite.sum() else 0.0
    resolution = max(widths)
    moved = float(sum(widths))
    normalised = None
    if column.wasserstein is not None and column.wasserstein_normalised is not None:
        w = column.wasserstein
        values, weights, _ = counts.side(True)
        mean = np.average(values, weights=weights)
        spread = float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))
        off = counts.resolutions[0] or 0.0
        if spread > off:
            normalised = max(
                (w + moved) / (spread - off) - w / spread, w / spread - max(w - moved, 0.0) / (spread + off)
            )
    return HistogramBounds(
        resolution=resolution,
        ks_statistic=min(ks, 1.0) if column.ks_statistic is not None else None,
        wasserstein=moved if column.wasserstein is not None else None,
        wasserstein_normalised=normalised,
    )


HISTOGRAM_NOTE = (
    "read in histogram bins of width {resolution:g} (too many distinct values to fetch one by one): "
    "KS statistic within {ks}, Wasserstein within {wasserstein} of the rows'; PSI and Jensen-Shannon "
    "are exact for bin edges within {resolution:g} of the reference's quantiles"
)


def _with_bounds(column: ColumnDrift, counts: ColumnCounts) -> ColumnDrift:
    bounds = histogram_bounds(column, counts)
    note = HISTOGRAM_NOTE.format(
        resolution=bounds.resolution,
        ks="n/a" if bounds.ks_statistic is None else f"{bounds.ks_statistic:.3g}",
        wasserstein="n/a" if bounds.wasserstein is None else f"{bounds.wasserstein:.3g}",
    )
    return replace(column, error_bounds=bounds, notes=(*column.notes, note))


def _category_key(value: object) -> str:
    import pandas as pd

    if pd.isna(value):
        return MISSING_BIN
    # A class label read as 1.0 in one log (a float column because of a missing value) and as 1 in
    # the other is the same category.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _category_counts(counted: ValueCounts) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value, count in zip(counted.values, counted.counts, strict=True):
        if count:  # a pandas Categorical lists its unused categories with a count of 0
            key = _category_key(value)
            counts[key] = counts.get(key, 0) + int(count)
    return counts


def _categorical_column(column: ColumnCounts, thresholds: DriftThresholds) -> ColumnDrift:
    notes: list[str] = []
    ref_counts = {str(k): int(n) for k, n in zip(column.values, column.reference, strict=True) if n}
    cur_counts = {str(k): int(n) for k, n in zip(column.values, column.current, strict=True) if n}
    seen = sorted(k for k in ref_counts if k != MISSING_BIN)
    unseen = sorted(k for k in cur_counts if k not in ref_counts and k != MISSING_BIN)
    categories = (
        seen + unseen + ([MISSING_BIN] if MISSING_BIN in ref_counts or MISSING_BIN in cur_counts else [])
    )
    ref = np.array([ref_counts.get(c, 0) for c in categories], dtype=np.int64)
    cur = np.array([cur_counts.get(c, 0) for c in categories], dtype=np.int64)
    if unseen:
        notes.append(f"{len(unseen)} categories appear only in the current log")

    psi_value = psi(ref / ref.sum(), cur / cur.sum())
    js_value = jensen_shannon(ref, cur)
    statistic, p_value, dof, expected = chi_square_test(np.column_stack([ref, cur]))
    sparse = int((expected < 5).sum())
    if sparse:
        notes.append(f"{sparse} cells have an expected count below 5: the chi-square p-value is approximate")
    effect = js_value >= thresholds.jensen_shannon

    order = sorted(range(len(categories)), key=lambda i: (-(ref[i] + cur[i]), categories[i]))
    shown = [DriftBin(categories[i], int(ref[i]), int(cur[i])) for i in order[:MAX_SHOWN_CATEGORIES]]
    rest = order[MAX_SHOWN_CATEGORIES:]
    if rest:
        shown.append(
            DriftBin(
                f"(other {len(rest)} categories)",
                int(ref[rest].sum()),
                int(cur[rest].sum()),
            )
        )
    return ColumnDrift(
        column=column.name,
        type=ColumnType.CATEGORICAL,
        verdict=drift_verdict(psi_value, p_value, effect, thresholds),
        reference_rows=int(ref.sum()),
        current_rows=int(cur.sum()),
        reference_missing=ref_counts.get(MISSING_BIN, 0),
        current_missing=cur_counts.get(MISSING_BIN, 0),
        psi=psi_value,
        jensen_shannon=js_value,
        chi2_statistic=statistic,
        chi2_p_value=p_value,
        chi2_dof=dof,
        unseen_categories=tuple(unseen),
        bins=tuple(shown),
        notes=tuple(notes),
    )


def _column_type(name: str, reference: Any, current: Any, categorical: Collection[str]) -> ColumnType:
    import pandas as pd

    if name in categorical:
        return ColumnType.CATEGORICAL
    kinds = set()
    for series in (reference, current):
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            raise InputError(TIMESTAMP_COLUMN, column=name)
        if series.isna().all():
            continue  # an empty column says nothing about its type
        if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
            kinds.add(ColumnType.CATEGORICAL)
        else:
            kinds.add(ColumnType.NUMERIC)
    if len(kinds) > 1:
        raise InputError(MIXED_TYPES, column=name)
    return kinds.pop() if kinds else ColumnType.NUMERIC


Counted = Mapping[str, ValueCounts]  # a log's columns as value counts (a log that stays where it lives)


def _numeric_side(side: Any) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A log's number column (rows, or value counts) as its distinct finite values, sorted, with the
    rows of each, its rows and its infinite values."""
    if isinstance(side, ValueCounts):
        values = _numeric_values(side.values)
        ok = np.isfinite(values)
        order = np.argsort(values[ok], kind="stable")
        return values[ok][order], side.counts[ok][order], side.rows, int(side.counts[np.isinf(values)].sum())
    values = _numeric_values(side)
    ok = np.isfinite(values)
    finite = np.sort(values[ok])  # one sort; the distinct values and their rows are then one pass
    new = np.ones(finite.size, dtype=bool)
    new[1:] = finite[1:] != finite[:-1]
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, finite.size))
    return finite[starts], counts.astype(np.int64), values.size, int(np.isinf(values).sum())


def _numeric_counts(name: str, reference: Any, current: Any) -> ColumnCounts:
    ref, ref_counts, ref_rows, ref_inf = _numeric_side(reference)
    cur, cur_counts, cur_rows, cur_inf = _numeric_side(current)
    both = np.concatenate([ref, cur])
    order = np.argsort(both, kind="stable")  # two sorted runs: a merge
    merged = both[order]
    new = np.ones(merged.size, dtype=bool)
    new[1:] = merged[1:] != merged[:-1]
    slot = np.cumsum(new) - 1  # each merged value's place among the distinct values of both logs
    pooled = merged[new]
    from_reference = order < ref.size
    counts = np.concatenate([ref_counts, cur_counts])[order]
    # added, not assigned: value counts may list one number twice (1 and "1.0" read as numbers)
    per_side = [
        np.rint(np.bincount(slot, weights=np.where(mine, counts, 0), minlength=pooled.size)).astype(np.int64)
        for mine in (from_reference, ~from_reference)
    ]
    resolutions = tuple(
        side.resolution if isinstance(side, ValueCounts) else None for side in (reference, current)
    )
    return ColumnCounts(
        name,
        ColumnType.NUMERIC,
        pooled,
        per_side[0],
        per_side[1],
        ref_rows,
        cur_rows,
        ref_inf + cur_inf,
        (resolutions[0], resolutions[1]),
    )


def _categorical_counts(name: str, reference: ValueCounts, current: ValueCounts) -> ColumnCounts:
    ref, cur = _category_counts(reference), _category_counts(current)
    keys = sorted(set(ref) | set(cur))
    return ColumnCounts(
        name,
        ColumnType.CATEGORICAL,
        np.asarray(keys, dtype=object),
        np.array([ref.get(k, 0) for k in keys], dtype=np.int64),
        np.array([cur.get(k, 0) for k in keys], dtype=np.int64),
        reference.rows,
        current.rows,
    )


def count_drift(
    reference: pd.DataFrame | Counted,
    current: pd.DataFrame | Counted,
    *,
    columns: Sequence[str],
    categorical: Collection[str] | None = None,
    bins: int = DEFAULT_BINS,
    thresholds: DriftThresholds | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DriftCounts:
    """Count ``columns`` of both logs into the tables ``drift_from_counts`` derives drift from (see
    ``run_drift``)."""
    if bins < 2:
        raise InputError(f"drift needs at least 2 bins, got {bins}")
    if _rows(reference) == 0 or _rows(current) == 0:
        which = "reference" if _rows(reference) == 0 else "current"
        raise InputError(f"the {which} log has no rows; drift needs rows in both logs")
    categorical = set(categorical or ())
    for name in columns:
        for which, frame in (("reference", reference), ("current", current)):
            if name not in (frame if isinstance(frame, Mapping) else frame.columns):
                raise InputError(NOT_IN_LOG.format(which=which), column=name)
    counted = []
    for index, name in enumerate(columns):
        if cancelled is not None and cancelled():
            raise Cancelled("drift analysis cancelled; nothing was stored")
        ref, cur = reference[name], current[name]
        kind = _column_type(
            name,
            ref.values if isinstance(ref, ValueCounts) else ref,
            cur.values if isinstance(cur, ValueCounts) else cur,
            categorical,
        )
        if kind is ColumnType.NUMERIC:
            counted.append(_numeric_counts(name, ref, cur))
        else:
            ref_vc = ref if isinstance(ref, ValueCounts) else ValueCounts.of(ref)
            cur_vc = cur if isinstance(cur, ValueCounts) else ValueCounts.of(cur)
            counted.append(_categorical_counts(name, ref_vc, cur_vc))
        if progress is not None:
            progress((index + 1) / len(columns))
    return DriftCounts(
        tuple(counted), _rows(reference), _rows(current), bins, thresholds or DriftThresholds()
    )


def drift_from_counts(
    counts: DriftCounts, *, ks_p_values: Mapping[str, float | None] | None = None
) -> DriftResult:
    """Every drift statistic from the counts (no rows, no pandas). ``ks_p_values``: the KS p-value of each
    column as already known (a report's), so that only the statistics are derived."""
    results = []
    for column in counts.columns:
        if column.type is ColumnType.NUMERIC:
            given = None if ks_p_values is None else ks_p_values.get(column.name)
            results.append(_numeric_column(column, counts.bins, counts.thresholds, given))
        else:
            results.append(_categorical_column(column, counts.thresholds))
    return DriftResult(
        columns=tuple(results),
        bins=counts.bins,
        epsilon=PSI_EPSILON,
        thresholds=counts.thresholds,
        reference_rows=counts.reference_rows,
        current_rows=counts.current_rows,
    )


def run_drift(
    reference: pd.DataFrame | Counted,
    current: pd.DataFrame | Counted,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    **parameters: Any,
) -> DriftResult:
    """Compare ``columns`` of ``current`` with ``reference``.

    Columns are numeric when their dtype is numeric (booleans excluded) and categorical otherwise, or
    when named in ``categorical`` (use it for class labels stored as numbers). ``progress`` receives the
    fraction done after each column; ``cancelled`` is asked before each column and a True answer raises
    ``Cancelled``. Either log may be given as value counts per column instead of rows. ``parameters``
    are ``count_drift``'s: ``columns``, ``categorical``, ``bins``, ``thresholds``.
    """
    counts = count_drift(reference, current, progress=progress, cancelled=cancelled, **parameters)
    return drift_from_counts(counts)


def _rows(log: pd.DataFrame | Counted) -> int:
    if isinstance(log, Mapping):
        return next(iter(log.values())).rows if log else 0
    return len(log)


def request_counts(
    request: DriftRequest,
    frames: Mapping[str, pd.DataFrame],
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DriftCounts:
    """``count_drift`` of the request's current log against its reference log."""
    return count_drift(
        frames["reference_log"],
        frames["current_log"],
        columns=request.compared,
        categorical=request.as_categories,
        bins=request.bins,
        thresholds=request.thresholds,
        progress=progress,
        cancelled=cancelled,
    )


def analyze(
    request: DriftRequest,
    frames: Mapping[str, pd.DataFrame],
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DriftResult:
    """The drift of the request's current log against its reference log: counted, then derived."""
    return drift_from_counts(request_counts(request, frames, progress=progress, cancelled=cancelled))
