"""How the UI writes numbers: one set of formatters for every page, table and chart label.

Plain Python (no Qt, no pandas), so the Qt-free chart builders use it too. A number that could not be
computed (None, NaN) is written ``EMPTY`` ("—"), never "nan" or 0.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

EMPTY = "—"


def missing(value: Any) -> bool:
    """None or a float NaN: nothing to show."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, digits: int = 4) -> str:
    """``digits`` significant digits (0.1235, 1.235e+05): analysis results in tables."""
    return EMPTY if missing(value) else f"{value:.{digits}g}"


def fixed(value: float | None, places: int = 3) -> str:
    """``places`` decimals (0.812): rates, ratios and intervals a reader compares across groups."""
    return EMPTY if missing(value) else f"{value:.{places}f}"


def p_value(value: float | None) -> str:
    """Three decimals; "< 0.001" below that, where more digits would only suggest false precision."""
    if missing(value):
        return EMPTY
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def full(value: float | None) -> str:
    """A number at full precision, for tooltips."""
    return EMPTY if value is None else repr(value)


def cell(value: Any, *, grouped: bool = False) -> str:
    """Any value of a data cell: a float with 6 significant digits (``grouped``: with thousands
    separators), anything else as its text."""
    if missing(value):
        return EMPTY
    if isinstance(value, float):
        return f"{value:,.6g}" if grouped else f"{value:.6g}"
    return str(value)


def when(moment: datetime | None) -> str:
    """A time as a reader wants it, in UTC to the minute ("2026-12-03 12:49 UTC"); the exact hashed
    form (microseconds, "Z") stays in tooltips, exports and the audit chain."""
    return EMPTY if moment is None else f"{_utc(moment):%Y-%m-%d %H:%M} UTC"


def timestamp(moment: datetime | None) -> str:
    """To the second, without the zone, for columns headed "(UTC)" and signature times."""
    return EMPTY if moment is None else f"{_utc(moment):%Y-%m-%d %H:%M:%S}"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


def words(value: str) -> str:
    """An identifier as words: "approved_with_conditions" -> "approved with conditions"."""
    return value.replace("_", " ")


def column_type(dtype: str, *, categorical: bool = False) -> str:
    """A stored column type in words ("whole number", "date and time, UTC"), not the library's name
    ("int64", "datetime64[us, UTC]"); text that is profiled as categories is a "category"."""
    name = dtype.strip().lower()
    if name.startswith("datetime64") or name.startswith("timestamp"):
        return "date and time, UTC" if "utc" in name else "date and time"
    if name.startswith("date"):
        return "date"
    if name.startswith("timedelta") or name.startswith("duration"):
        return "duration"
    if name in ("bool", "boolean"):
        return "yes / no"
    if name.startswith(("int", "uint")):
        return "whole number"
    if name.startswith(("float", "double", "decimal")):
        return "decimal number"
    if name in ("object", "string", "str", "large_string", "category", "dictionary", "utf8"):
        return "category" if categorical or name == "category" else "text"
    return dtype
