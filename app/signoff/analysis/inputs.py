"""Checking and normalising the columns an analysis reads: outcome domains, positive label, scores.

Errors name the column and the first offending row, so a reviewer can find it in the source file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signoff.domain.errors import InputError

POSITIVE_LABEL_REQUIRED = (
    "the outcome values are {domain}; say which one is the favourable outcome (positive_label)"
)


def as_frame(frame: Any) -> pd.DataFrame:
    """Accept a pandas DataFrame or anything with ``to_pandas()`` (a pyarrow Table)."""
    if isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "to_pandas"):
        return frame.to_pandas()
    raise InputError(f"expected a table of rows, got {type(frame).__name__}")


def require_columns(frame: pd.DataFrame, *names: str | None) -> None:
    for name in names:
        if name is not None and name not in frame.columns:
            raise InputError(f"no such column; the log has {list(map(str, frame.columns))}", column=name)


def _no_missing(column: pd.Series, name: str) -> None:
    missing = column.isna().to_numpy()
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"{int(missing.sum())} rows have no value; outcomes must be complete (the import quarantines such rows)",
            row=first + 1,
            column=name,
        )


def _display(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def outcome_domain(frame: pd.DataFrame, *columns: str) -> list[Any]:
    values: list[Any] = []
    for name in columns:
        _no_missing(frame[name], name)
        for v in _distinct(frame[name]):
            v = v.item() if hasattr(v, "item") else v
            if v not in values:
                values.append(v)
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _distinct(column: pd.Series) -> np.ndarray:
    """The column's distinct values; small integers (0/1 outcomes) by counting, not hashing (~10x)."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iu" and len(column):
        values = column.to_numpy()
        low, high = int(values.min()), int(values.max())
        if high - low < 1 << 16:
            present = np.flatnonzero(np.bincount((values - low).astype(np.intp, copy=False)))
            return (present + low).astype(values.dtype)
    return pd.unique(column)


def resolve_positive_label(domain: list[Any], positive_label: Any) -> Any:
    """The favourable outcome: given, or 1/True when the outcomes are {0, 1} / {False, True}."""
    shown = "{" + ", ".join(_display(v) for v in domain) + "}"
    if positive_label is None:
        if all(isinstance(v, (bool, np.bool_)) for v in domain):
            return True
        if all(isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1) for v in domain):
            return 1
        raise InputError(POSITIVE_LABEL_REQUIRED.format(domain=shown))
    if positive_label in domain:
        return positive_label
    # A label typed on a command line arrives as text: match it against the values' text.
    matches = [v for v in domain if _display(v) == str(positive_label)]
    if len(matches) == 1:
        return matches[0]
    raise InputError(f"positive label {positive_label!r} is not among the outcome values {shown}")


def binary_outcomes(
    frame: pd.DataFrame, label: str, prediction: str, positive_label: Any
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Labels and predictions as booleans (True = the positive label), and the positive label."""
    require_columns(frame, label, prediction)
    domain = outcome_domain(frame, label, prediction)
    if len(domain) > 2:
        raise InputError(
            f"a binary analysis needs two outcome values; {label!r} and {prediction!r} hold "
            f"{len(domain)}: {[_display(v) for v in domain[:10]]}; use a multiclass performance analysis"
        )
    positive = resolve_positive_label(domain, positive_label)
    y = (frame[label] == positive).to_numpy(dtype=bool)
    p = (frame[prediction] == positive).to_numpy(dtype=bool)
    return y, p, positive


def probability_scores(frame: pd.DataFrame, scores: str) -> np.ndarray:
    """A score column as floats in [0, 1] (the positive class's probability)."""
    require_columns(frame, scores)
    try:
        s = pd.to_numeric(frame[scores], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InputError(f"scores must be numbers: {exc}", column=scores) from exc
    bad = np.isnan(s) | (s < 0) | (s > 1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{int(bad.sum())} scores are missing or outside [0, 1] (first: {s[first]!r}); "
            "scores must be probabilities of the positive outcome",
            row=first + 1,
            column=scores,
        )
    return s


def display(value: Any) -> str:
    return _display(value)
