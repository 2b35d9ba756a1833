"""Checking and normalising the columns an analysis reads: outcome domains, positive label, scores.

Errors name the column and the first offending row, so a reviewer can find it in the source file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from signoff.analysis.columns import column_names, equal_to, floats, has_column, missing, present_values
from signoff.domain.errors import InputError

if TYPE_CHECKING:  # a pandas frame, or an Arrow table of plain columns (``columns.plain_arrow``)
    import pandas as pd

POSITIVE_LABEL_REQUIRED = (
    "the outcome values are {domain}; say which one is the favourable outcome (positive_label)"
)


def as_frame(frame: Any) -> pd.DataFrame:
    """Accept a pandas DataFrame or anything with ``to_pandas()`` (a pyarrow Table)."""
    import pandas as pd

    if isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "to_pandas"):
        return frame.to_pandas()
    raise InputError(f"expected a table of rows, got {type(frame).__name__}")


def require_columns(frame: pd.DataFrame, *names: str | None) -> None:
    for name in names:
        if name is not None and not has_column(frame, name):
            raise InputError(f"no such column; the log has {column_names(frame)}", column=name)


def _no_missing(column: Any, name: str) -> None:
    absent = missing(column)
    if absent.any():
        first = int(np.flatnonzero(absent)[0])
        raise InputError(
            f"{int(absent.sum())} rows have no value; outcomes must be complete (the import quarantines such rows)",
            row=first + 1,
            column=name,
        )


def _display(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def outcome_domain(frame: pd.DataFrame, *columns: str, unlabelled: str | None = None) -> list[Any]:
    """The outcome values of ``columns``; only the column named ``unlabelled`` may have missing values
    (rows whose outcome is not known yet)."""
    values: list[Any] = []
    for name in columns:
        column = frame[name]
        if name != unlabelled:
            _no_missing(column, name)
        for v in present_values(column):
            if v not in values:
                values.append(v)
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


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


def labelled_rows(frame: pd.DataFrame, label: str) -> np.ndarray:
    """Rows whose outcome is known; the others (an empty label in a production log) are unlabelled."""
    return ~missing(frame[label])


def binary_outcomes(
    frame: pd.DataFrame, label: str, prediction: str, positive_label: Any, *, allow_unlabelled: bool = False
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Labels and predictions as booleans (True = the positive label), and the positive label. With
    ``allow_unlabelled`` a missing label is allowed and reads False: callers mask it with ``labelled_rows``."""
    require_columns(frame, label, prediction)
    domain = outcome_domain(frame, label, prediction, unlabelled=label if allow_unlabelled else None)
    if len(domain) > 2:
        raise InputError(
            f"a binary analysis needs two outcome values; {label!r} and {prediction!r} hold "
            f"{len(domain)}: {[_display(v) for v in domain[:10]]}; use a multiclass performance analysis"
        )
    positive = resolve_positive_label(domain, positive_label)
    y = equal_to(frame[label], positive)
    p = equal_to(frame[prediction], positive)
    return y, p, positive


def probability_scores(frame: pd.DataFrame, scores: str) -> np.ndarray:
    """A score column as floats in [0, 1] (the positive class's probability)."""
    require_columns(frame, scores)
    try:
        s = floats(frame[scores])
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
