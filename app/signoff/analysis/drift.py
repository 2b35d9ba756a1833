"""Drift of features, scores and predictions between a reference log and a current log.

Each column is compared by PSI and Jensen-Shannon on binned distributions, plus Kolmogorov-Smirnov and a
normalised Wasserstein distance for numbers, or a chi-square test for categories, all from scipy. The
conventions (bins, epsilon, normalisation, log base, missing values, unseen categories) are stated in
``signoff.domain.drift.CONVENTIONS`` and carried by every result.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, kstwo, wasserstein_distance

from signoff.analysis.counted import ValueCounts, weighted_quantiles
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


def _verdict(
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


def _numeric_values(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=float, na_value=np.nan)


def _numeric_drift(
    name: str, reference: pd.Series, current: pd.Series, bins: int, thresholds: DriftThresholds
) -> ColumnDrift:
    ref_all, cur_all = _numeric_values(reference), _numeric_values(current)
    # Sorted once: the quantiles, the bin search and scipy's own sorts are all faster on sorted input,
    # and the statistics do not depend on row order.
    ref_ok, cur_ok = np.isfinite(ref_all), np.isfinite(cur_all)
    ref, cur = np.sort(ref_all[ref_ok]), np.sort(cur_all[cur_ok])
    infinite = int(np.isinf(ref_all).sum() + np.isinf(cur_all).sum())
    return _numeric_column(
        name, (ref, None, ref_all.size), (cur, None, cur_all.size), infinite, bins, thresholds
    )


def _numeric_counted(
    name: str, reference: ValueCounts, current: ValueCounts, bins: int, thresholds: DriftThresholds
) -> ColumnDrift:
    """The same statistics from value counts (a log that stays where it lives): weighted quantiles,
    bins, Wasserstein; the KS statistic from the two step functions, its p-value by the asymptotic
    formula ks_2samp itself uses above ``EXACT_KS_ROWS`` rows."""
    sides = []
    infinite = 0
    for counted in (reference, current):
        values = _numeric_values(counted.values)
        ok = np.isfinite(values)
        infinite += int(counted.counts[np.isinf(values)].sum())
        order = np.argsort(values[ok], kind="stable")
        sides.append((values[ok][order], counted.counts[ok][order], counted.rows))
    return _numeric_column(name, sides[0], sides[1], infinite, bins, thresholds)


_Side = tuple[np.ndarray, np.ndarray | None, int]  # sorted finite values, their counts (None: one each), rows


def _numeric_column(
    name: str, reference: _Side, current: _Side, infinite: int, bins: int, thresholds: DriftThresholds
) -> ColumnDrift:
    notes: list[str] = []
    if infinite:
        notes.append(f"{infinite} infinite values counted as missing")
    ref, ref_w, ref_rows = reference
    cur, cur_w, cur_rows = current
    ref_n = ref.size if ref_w is None else int(ref_w.sum())
    cur_n = cur.size if cur_w is None else int(cur_w.sum())
    ref_missing, cur_missing = ref_rows - ref_n, cur_rows - cur_n

    if ref_w is None:
        edges = quantile_edges(ref, bins)
    else:
        edges = np.unique(weighted_quantiles(ref, ref_w, np.arange(1, bins) / bins)) if ref_n else np.empty(0)
    if ref_n:
        ref_counts, cur_counts = _bin_counts(ref, edges, ref_w), _bin_counts(cur, edges, cur_w)
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
    js_value = float(jensenshannon(ref_counts, cur_counts, base=2))

    ks_stat = ks_p = w_raw = w_norm = None
    effect = False
    if ref_n and cur_n:
        if ref_w is None and cur_w is None:
            ks = ks_2samp(ref, cur)
            ks_stat, ks_p = float(ks.statistic), float(ks.pvalue)
            w_raw = float(wasserstein_distance(ref, cur))
            spread = float(np.std(ref))
        else:
            ks_stat, ks_p = _weighted_ks(ref, ref_w, cur, cur_w)
            w_raw = float(wasserstein_distance(ref, cur, ref_w, cur_w))
            mean = np.average(ref, weights=ref_w)
            spread = float(np.sqrt(np.average((ref - mean) ** 2, weights=ref_w)))
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

    return ColumnDrift(
        column=name,
        type=ColumnType.NUMERIC,
        verdict=_verdict(psi_value, ks_p, effect, thresholds),
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


def _weighted_ks(
    ref: np.ndarray, ref_w: np.ndarray | None, cur: np.ndarray, cur_w: np.ndarray | None
) -> tuple[float, float]:
    ref_w = np.ones(ref.size) if ref_w is None else ref_w
    cur_w = np.ones(cur.size) if cur_w is None else cur_w
    n1, n2 = float(ref_w.sum()), float(cur_w.sum())
    pooled = np.union1d(ref, cur)
    cdf1 = np.concatenate(([0.0], np.cumsum(ref_w)))[np.searchsorted(ref, pooled, side="right")] / n1
    cdf2 = np.concatenate(([0.0], np.cumsum(cur_w)))[np.searchsorted(cur, pooled, side="right")] / n2
    d = float(max(np.max(cdf1 - cdf2), np.clip(-np.min(cdf1 - cdf2), 0, 1)))
    m, n = sorted([n1, n2], reverse=True)
    return d, float(np.clip(kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))


def histogram_bounds(column: ColumnDrift, reference: ValueCounts, current: ValueCounts) -> HistogramBounds:
    """The most a numeric column's statistics can differ from its rows' when a side came as histogram
    bins (values at the bins' lower edges, each off by less than the side's resolution).

    Wasserstein: moving every row by less than w moves the distance by less than w (triangle
    inequality), per binned side. KS: a binned side's step function equals the rows' at every bin edge,
    so between edges the supremum can hide at most one bin's share of that side. The normalised
    Wasserstein also divides by the reference's standard deviation, itself off by less than w when the
    reference is binned (Minkowski)."""
    widths, ks = [], 0.0
    for side in (reference, current):
        if side.resolution is None:
            continue
        values = _numeric_values(side.values)
        finite = side.counts[np.isfinite(values)]
        widths.append(side.resolution)
        ks += float(finite.max() / finite.sum()) if finite.sum() else 0.0
    resolution = max(widths)
    moved = float(sum(widths))
    normalised = None
    if column.wasserstein is not None and column.wasserstein_normalised is not None:
        w = column.wasserstein
        values = _numeric_values(reference.values)
        ok = np.isfinite(values)
        mean = np.average(values[ok], weights=reference.counts[ok])
        spread = float(np.sqrt(np.average((values[ok] - mean) ** 2, weights=reference.counts[ok])))
        off = reference.resolution or 0.0
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


def _with_bounds(column: ColumnDrift, reference: ValueCounts, current: ValueCounts) -> ColumnDrift:
    bounds = histogram_bounds(column, reference, current)
    note = HISTOGRAM_NOTE.format(
        resolution=bounds.resolution,
        ks="n/a" if bounds.ks_statistic is None else f"{bounds.ks_statistic:.3g}",
        wasserstein="n/a" if bounds.wasserstein is None else f"{bounds.wasserstein:.3g}",
    )
    return replace(column, error_bounds=bounds, notes=(*column.notes, note))


def _category_key(value: object) -> str:
    if pd.isna(value):
        return MISSING_BIN
    # A class label read as 1.0 in one log (a float column because of a missing value) and as 1 in
    # the other is the same category.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _category_counts(series: pd.Series | ValueCounts) -> dict[str, int]:
    counts: dict[str, int] = {}
    counted = series if isinstance(series, ValueCounts) else ValueCounts.of(series)
    for value, count in zip(counted.values, counted.counts, strict=True):
        if count:  # a pandas Categorical lists its unused categories with a count of 0
            key = _category_key(value)
            counts[key] = counts.get(key, 0) + int(count)
    return counts


def _categorical_drift(
    name: str,
    reference: pd.Series | ValueCounts,
    current: pd.Series | ValueCounts,
    thresholds: DriftThresholds,
) -> ColumnDrift:
    notes: list[str] = []
    ref_counts, cur_counts = _category_counts(reference), _category_counts(current)
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
    js_value = float(jensenshannon(ref, cur, base=2))
    chi = chi2_contingency(np.column_stack([ref, cur]), correction=False)
    sparse = int((chi.expected_freq < 5).sum())
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
        column=name,
        type=ColumnType.CATEGORICAL,
        verdict=_verdict(psi_value, float(chi.pvalue), effect, thresholds),
        reference_rows=int(ref.sum()),
        current_rows=int(cur.sum()),
        reference_missing=ref_counts.get(MISSING_BIN, 0),
        current_missing=cur_counts.get(MISSING_BIN, 0),
        psi=psi_value,
        jensen_shannon=js_value,
        chi2_statistic=float(chi.statistic),
        chi2_p_value=float(chi.pvalue),
        chi2_dof=int(chi.dof),
        unseen_categories=tuple(unseen),
        bins=tuple(shown),
        notes=tuple(notes),
    )


def _column_type(
    name: str, reference: pd.Series, current: pd.Series, categorical: Collection[str]
) -> ColumnType:
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


def run_drift(
    reference: pd.DataFrame | Counted,
    current: pd.DataFrame | Counted,
    *,
    columns: Sequence[str],
    categorical: Collection[str] | None = None,
    bins: int = DEFAULT_BINS,
    thresholds: DriftThresholds | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DriftResult:
    """Compare ``columns`` of ``current`` with ``reference``.

    Columns are numeric when their dtype is numeric (booleans excluded) and categorical otherwise, or
    when named in ``categorical`` (use it for class labels stored as numbers). ``progress`` receives the
    fraction done after each column; ``cancelled`` is asked before each column and a True answer raises
    ``Cancelled``. Either log may be given as value counts per column instead of rows.
    """
    if bins < 2:
        raise InputError(f"drift needs at least 2 bins, got {bins}")
    if _rows(reference) == 0 or _rows(current) == 0:
        which = "reference" if _rows(reference) == 0 else "current"
        raise InputError(f"the {which} log has no rows; drift needs rows in both logs")
    thresholds = thresholds or DriftThresholds()
    categorical = set(categorical or ())
    for name in columns:
        for which, frame in (("reference", reference), ("current", current)):
            if name not in (frame.columns if isinstance(frame, pd.DataFrame) else frame):
                raise InputError(NOT_IN_LOG.format(which=which), column=name)

    results = []
    for index, name in enumerate(columns):
        if cancelled is not None and cancelled():
            raise Cancelled("drift analysis cancelled; nothing was stored")
        ref, cur = reference[name], current[name]
        binned = [v for v in (ref, cur) if isinstance(v, ValueCounts) and v.resolution is not None]
        counted = isinstance(ref, ValueCounts) or isinstance(cur, ValueCounts)
        if counted:
            ref_vc = ref if isinstance(ref, ValueCounts) else ValueCounts.of(ref)
            cur_vc = cur if isinstance(cur, ValueCounts) else ValueCounts.of(cur)
            if max(ref_vc.rows, cur_vc.rows) <= EXACT_KS_ROWS:  # scipy's exact KS wants the rows
                ref, cur, counted = ref_vc.rows_again(), cur_vc.rows_again(), False
        kind = _column_type(
            name,
            ref_vc.values if counted else ref,
            cur_vc.values if counted else cur,
            categorical,
        )
        if kind is ColumnType.NUMERIC:
            column = (
                _numeric_counted(name, ref_vc, cur_vc, bins, thresholds)
                if counted
                else _numeric_drift(name, ref, cur, bins, thresholds)
            )
            results.append(_with_bounds(column, ref_vc, cur_vc) if binned else column)
        else:
            results.append(
                _categorical_drift(name, ref_vc if counted else ref, cur_vc if counted else cur, thresholds)
            )
        if progress is not None:
            progress((index + 1) / len(columns))
    return DriftResult(
        columns=tuple(results),
        bins=bins,
        epsilon=PSI_EPSILON,
        thresholds=thresholds,
        reference_rows=_rows(reference),
        current_rows=_rows(current),
    )


def _rows(log: pd.DataFrame | Counted) -> int:
    if isinstance(log, pd.DataFrame):
        return len(log)
    return next(iter(log.values())).rows if log else 0


def analyze(
    request: DriftRequest,
    frames: Mapping[str, pd.DataFrame],
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DriftResult:
    """``run_drift`` of the request's current log against its reference log."""
    return run_drift(
        frames["reference_log"],
        frames["current_log"],
        columns=request.compared,
        categorical=request.as_categories,
        bins=request.bins,
        thresholds=request.thresholds,
        progress=progress,
        cancelled=cancelled,
    )
