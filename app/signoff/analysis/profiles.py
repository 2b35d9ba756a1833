"""Per-column profiles of a canonical prediction log (the data-validation view of a log).

Numbers get missing share, distinct count, range, mean, standard deviation and the quantiles in
``PROFILE_QUANTILES``; text, booleans and categories get their most frequent values; timestamps get
their range. Conventions are in ``signoff.domain.profiles``. Each column is counted first
(``count_column``: rows, missing, every category's rows, the numeric summaries) and profiled from those
counts (``profile_from_counts``, no pandas), so an exported report's count tables give the shares again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from signoff.domain.analysis_requests import DEFAULT_TOP_CATEGORIES, ValidationRequest
from signoff.domain.prediction_log import ValidationReport
from signoff.domain.profiles import (
    PROFILE_QUANTILES,
    CategoryCount,
    ColumnKind,
    ColumnProfile,
    LogProfile,
)
from signoff.domain.validation import ValidationAnalysis

if TYPE_CHECKING:  # a log's rows are pandas; profiling from the counts runs without it
    import pandas as pd

# Categories carried one by one in a column's counts; beyond, the most frequent ones and the rest's total
# (an id column has as many categories as rows, and only the most frequent are ever shown).
MAX_CARRIED_CATEGORIES = 1_000


@dataclass(frozen=True)
class ColumnCounts:
    """What a column's profile is derived from: its rows, missing and non-finite rows, distinct values,
    each category's rows (most frequent first; ``rest``: rows of categories not carried), and for numbers
    and timestamps the summaries computed on the rows (range, mean, sd, quantiles: carried as counted)."""

    name: str
    kind: ColumnKind
    dtype: str
    rows: int
    missing: int
    distinct: int
    non_finite: int = 0
    categories: tuple[tuple[str, int], ...] = ()
    rest: int = 0
    summary: dict[str, Any] | None = None  # minimum, maximum, mean, std, quantiles

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "dtype": self.dtype,
            "rows": self.rows,
            "missing": self.missing,
            "distinct": self.distinct,
            "non_finite": self.non_finite,
            "categories": [list(c) for c in self.categories],
            "rest": self.rest,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnCounts:
        return cls(
            name=str(data["name"]),
            kind=ColumnKind(data["kind"]),
            dtype=str(data["dtype"]),
            rows=int(data["rows"]),
            missing=int(data["missing"]),
            distinct=int(data["distinct"]),
            non_finite=int(data["non_finite"]),
            categories=tuple((str(v), int(n)) for v, n in data["categories"]),
            rest=int(data["rest"]),
            summary=None if data.get("summary") is None else dict(data["summary"]),
        )


def _kind(series: pd.Series) -> ColumnKind:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return ColumnKind.DATETIME
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        return ColumnKind.CATEGORICAL
    return ColumnKind.NUMERIC


def _iso(value: pd.Timestamp) -> str:
    return value.isoformat()


def count_column(series: pd.Series) -> ColumnCounts:
    """One column's counts (see ``ColumnCounts``), read from its rows."""
    name = str(series.name)
    kind = _kind(series)
    common: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "dtype": str(series.dtype),
        "rows": len(series),
        "missing": int(series.isna().sum()),
        "distinct": int(series.nunique(dropna=True)),
    }
    if kind is ColumnKind.NUMERIC:
        values = series.to_numpy(dtype=float, na_value=np.nan)
        values = values[~np.isnan(values)]
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return ColumnCounts(**common, non_finite=int(values.size))
        quantiles = np.quantile(finite, PROFILE_QUANTILES)
        summary = {
            "minimum": float(finite.min()),
            "maximum": float(finite.max()),
            "mean": float(finite.mean()),
            "std": float(finite.std(ddof=1)) if finite.size > 1 else None,
            "quantiles": [[p, float(q)] for p, q in zip(PROFILE_QUANTILES, quantiles, strict=True)],
        }
        return ColumnCounts(**common, non_finite=int(values.size - finite.size), summary=summary)
    if kind is ColumnKind.DATETIME:
        present = series.dropna()
        if present.empty:
            return ColumnCounts(**common)
        return ColumnCounts(
            **common, summary={"minimum": _iso(present.min()), "maximum": _iso(present.max())}
        )
    counts = series.dropna().astype(str).value_counts()
    # Most frequent first; equal counts in text order, so the same log always profiles the same.
    ranked = sorted(((str(v), int(n)) for v, n in counts.items()), key=lambda item: (-item[1], item[0]))
    carried = ranked[:MAX_CARRIED_CATEGORIES]
    rest = sum(n for _, n in ranked[MAX_CARRIED_CATEGORIES:])
    return ColumnCounts(**{**common, "distinct": len(counts)}, categories=tuple(carried), rest=rest)


def profile_from_counts(counts: ColumnCounts, *, top: int = DEFAULT_TOP_CATEGORIES) -> ColumnProfile:
    """A column's profile from its counts: missing share, the most frequent categories' shares and the
    rows in other categories (no rows, no pandas)."""
    common = {
        "name": counts.name,
        "kind": counts.kind,
        "dtype": counts.dtype,
        "rows": counts.rows,
        "missing": counts.missing,
        "distinct": counts.distinct,
    }
    summary = counts.summary or {}
    if counts.kind is ColumnKind.NUMERIC:
        if not summary:
            return ColumnProfile(**common, non_finite=counts.non_finite)
        return ColumnProfile(
            **common,
            minimum=summary["minimum"],
            maximum=summary["maximum"],
            mean=summary["mean"],
            std=summary["std"],
            non_finite=counts.non_finite,
            quantiles=tuple((float(p), float(q)) for p, q in summary["quantiles"]),
        )
    if counts.kind is ColumnKind.DATETIME:
        return ColumnProfile(**common, minimum=summary.get("minimum"), maximum=summary.get("maximum"))
    rows = counts.rows
    ranked = sorted(counts.categories, key=lambda item: (-item[1], item[0]))
    shown = tuple(
        CategoryCount(value=value, count=count, share=count / rows if rows else 0.0)
        for value, count in ranked[:top]
    )
    return ColumnProfile(
        **common,
        top_categories=shown,
        other_categories=sum(count for _, count in ranked[top:]) + counts.rest,
    )


def profile_column(series: pd.Series, *, top: int = DEFAULT_TOP_CATEGORIES) -> ColumnProfile:
    return profile_from_counts(count_column(series), top=top)


def profile_log(frame: pd.DataFrame, *, top: int = DEFAULT_TOP_CATEGORIES) -> LogProfile:
    """Profile every column of ``frame`` in its order."""
    return LogProfile(
        rows=len(frame),
        columns=tuple(profile_column(frame[name], top=top) for name in frame.columns),
    )


@dataclass(frozen=True)
class ValidationCounts:
    """What a validation result is derived from: the log's import report (rows read, kept, quarantined
    per check), its kept rows and each column's counts, and the number of categories shown."""

    report: ValidationReport
    rows: int
    columns: tuple[ColumnCounts, ...]
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": self.report.to_dict(),
            "rows": self.rows,
            "columns": [c.to_dict() for c in self.columns],
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationCounts:
        return cls(
            ValidationReport.from_dict(data["report"]),
            int(data["rows"]),
            tuple(ColumnCounts.from_dict(c) for c in data["columns"]),
            dict(data["params"]),
        )


def count_validation(frame: pd.DataFrame, report: ValidationReport, *, top: int) -> ValidationCounts:
    return ValidationCounts(
        report,
        len(frame),
        tuple(count_column(frame[name]) for name in frame.columns),
        {"top_categories": top},
    )


def validation_from_counts(counts: ValidationCounts) -> ValidationAnalysis:
    """The validation result from its counts: the import report and every column's profile."""
    top = int(counts.params["top_categories"])
    profile = LogProfile(
        rows=counts.rows, columns=tuple(profile_from_counts(c, top=top) for c in counts.columns)
    )
    return ValidationAnalysis(report=counts.report, profile=profile)


def request_counts(request: ValidationRequest, frames: Mapping[str, pd.DataFrame]) -> ValidationCounts:
    """``count_validation`` on the request's log (``frames["log"]``), with the request's parameters."""
    return count_validation(frames["log"], request.log.validation, top=request.top_categories)


def analyze(
    request: ValidationRequest,
    frames: Mapping[str, pd.DataFrame],
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ValidationAnalysis:
    """The log's import report with a profile of every column it holds."""
    return validation_from_counts(request_counts(request, frames))
