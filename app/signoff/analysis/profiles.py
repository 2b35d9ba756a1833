"""Per-column profiles of a canonical prediction log (the data-validation view of a log).

Numbers get missing share, distinct count, range, mean, standard deviation and the quantiles in
``PROFILE_QUANTILES``; text, booleans and categories get their most frequent values; timestamps get
their range. Conventions are in ``signoff.domain.profiles``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from signoff.domain.analysis_requests import DEFAULT_TOP_CATEGORIES, ValidationRequest
from signoff.domain.profiles import (
    PROFILE_QUANTILES,
    CategoryCount,
    ColumnKind,
    ColumnProfile,
    LogProfile,
)
from signoff.domain.validation import ValidationAnalysis


def _kind(series: pd.Series) -> ColumnKind:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return ColumnKind.DATETIME
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        return ColumnKind.CATEGORICAL
    return ColumnKind.NUMERIC


def _iso(value: pd.Timestamp) -> str:
    return value.isoformat()


def profile_column(series: pd.Series, *, top: int = DEFAULT_TOP_CATEGORIES) -> ColumnProfile:
    name = str(series.name)
    kind = _kind(series)
    rows = len(series)
    missing = int(series.isna().sum())
    common = {
        "name": name,
        "kind": kind,
        "dtype": str(series.dtype),
        "rows": rows,
        "missing": missing,
        "distinct": int(series.nunique(dropna=True)),
    }
    if kind is ColumnKind.NUMERIC:
        values = series.to_numpy(dtype=float, na_value=np.nan)
        values = values[~np.isnan(values)]
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return ColumnProfile(**common, non_finite=int(values.size))
        quantiles = np.quantile(finite, PROFILE_QUANTILES)
        return ColumnProfile(
            **common,
            minimum=float(finite.min()),
            maximum=float(finite.max()),
            mean=float(finite.mean()),
            std=float(finite.std(ddof=1)) if finite.size > 1 else None,
            non_finite=int(values.size - finite.size),
            quantiles=tuple((p, float(q)) for p, q in zip(PROFILE_QUANTILES, quantiles, strict=True)),
        )
    if kind is ColumnKind.DATETIME:
        present = series.dropna()
        if present.empty:
            return ColumnProfile(**common)
        return ColumnProfile(**common, minimum=_iso(present.min()), maximum=_iso(present.max()))

    counts = series.dropna().astype(str).value_counts()
    # Most frequent first; equal counts in text order, so the same log always profiles the same.
    ranked = sorted(counts.items(), key=lambda item: (-int(item[1]), item[0]))
    shown = tuple(
        CategoryCount(value=value, count=int(count), share=int(count) / rows if rows else 0.0)
        for value, count in ranked[:top]
    )
    return ColumnProfile(
        **{**common, "distinct": len(counts)},
        top_categories=shown,
        other_categories=int(sum(count for _, count in ranked[top:])),
    )


def profile_log(frame: pd.DataFrame, *, top: int = DEFAULT_TOP_CATEGORIES) -> LogProfile:
    """Profile every column of ``frame`` in its order."""
    return LogProfile(
        rows=len(frame),
        columns=tuple(profile_column(frame[name], top=top) for name in frame.columns),
    )


def analyze(
    request: ValidationRequest,
    frames: Mapping[str, pd.DataFrame],
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ValidationAnalysis:
    """The log's import report with a profile of every column it holds."""
    return ValidationAnalysis(
        report=request.log.validation, profile=profile_log(frames["log"], top=request.top_categories)
    )
