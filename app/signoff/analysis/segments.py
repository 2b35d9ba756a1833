"""Segments: sensitive columns turned into integer group codes, one code per row.

A categorical attribute keeps every category (an unused one is an empty group, shown with count 0);
a missing value becomes the explicit group ``"Unknown"``, counted and shown, never dropped. A numeric
attribute is binned by stated edges (``[0, 25, 45, 65, inf)`` gives ``"0-25"``, ..., ``"65+"``).
Intersections combine codes arithmetically, so every combination has a code whether observed or not.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from signoff.analysis.columns import column_names, has_column, sorted_codes
from signoff.domain.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

UNKNOWN = "Unknown"
INTERSECTION_SEPARATOR = " & "  # in group labels: "Female & Black"
SEGMENT_SEPARATOR = "&"  # in segment names: "sex&race"

_BIN_OUTSIDE = (
    "value {value!r} lies outside the stated bin edges {edges}; widen the edges (use inf for an open end)"
)


@dataclass(frozen=True)
class Attribute:
    """One sensitive attribute encoded: ``codes[i]`` indexes ``labels``; Unknown last if present."""

    name: str
    codes: np.ndarray  # small unsigned ints, one per row
    labels: tuple[str, ...]
    unknown: int | None  # the code of the Unknown group, or None when nothing is missing

    @property
    def size(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Segment:
    """A segment's groups as a product of attributes: group code = mixed-radix digits of its attributes."""

    attributes: tuple[Attribute, ...]

    @property
    def name(self) -> str:
        return SEGMENT_SEPARATOR.join(a.name for a in self.attributes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.attributes)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def labels(self) -> list[str]:
        return [
            INTERSECTION_SEPARATOR.join(parts)
            for parts in itertools.product(*(a.labels for a in self.attributes))
        ]

    def unknown_mask(self) -> np.ndarray:
        """Which groups contain an Unknown value in any of their attributes."""
        masks = [np.arange(a.size) == (a.unknown if a.unknown is not None else -1) for a in self.attributes]
        out = masks[0]
        for m in masks[1:]:
            out = np.logical_or.outer(out, m)
        return out.reshape(-1)


def _bin_label(lo: float, hi: float) -> str:
    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else f"{x:g}"

    if math.isinf(hi):
        return f"{fmt(lo)}+"
    return f"{fmt(lo)}-{fmt(hi)}"


def _unknown_label(labels: Sequence[str]) -> str:
    # A category literally called "Unknown" must not merge with missing values.
    return UNKNOWN if UNKNOWN not in labels else f"{UNKNOWN} (missing)"


def _small_codes(codes: np.ndarray, size: int) -> np.ndarray:
    dtype = np.uint8 if size <= 255 else np.uint16 if size <= 65535 else np.uint32
    return codes.astype(dtype, copy=False)


def encode_attribute(column: pd.Series, name: str, edges: Sequence[float] | None = None) -> Attribute:
    """Encode one sensitive column (pandas or plain Arrow); ``edges`` bins a numeric pandas column into
    ``[e0, e1), [e1, e2) ...``."""
    if edges is not None:
        return _encode_binned(column, name, edges)
    codes, labels = sorted_codes(column)
    missing = codes < 0
    unknown = None
    if missing.any():
        unknown = len(labels)
        labels.append(_unknown_label(labels))
        codes = np.where(missing, unknown, codes)
    return Attribute(name, _small_codes(codes, len(labels)), tuple(labels), unknown)


def _encode_binned(column: pd.Series, name: str, edges: Sequence[float]) -> Attribute:
    edges_arr = np.asarray(edges, dtype=float)
    if edges_arr.ndim != 1 or len(edges_arr) < 2 or np.any(np.diff(edges_arr) <= 0):
        raise InputError(f"bin edges must be at least two increasing numbers, got {list(edges)}", column=name)
    numbers, index = _distinct_numbers(column, name)
    bins = np.searchsorted(edges_arr, numbers, side="right") - 1
    outside = ~np.isnan(numbers) & ((bins < 0) | (bins >= len(edges_arr) - 1))
    if outside.any():
        first = int(np.flatnonzero(outside if index is None else outside[index])[0])
        value = float(numbers[first if index is None else index[first]])
        raise InputError(_BIN_OUTSIDE.format(value=value, edges=list(edges)), row=first + 1, column=name)
    labels = [_bin_label(lo, hi) for lo, hi in itertools.pairwise(edges_arr)]
    bins[np.isnan(numbers)] = len(labels)  # the Unknown group's code, if any row is missing
    codes = bins if index is None else bins[index]
    unknown = None
    if (codes == len(labels)).any():
        unknown = len(labels)
        labels.append(_unknown_label(labels))
    return Attribute(name, _small_codes(codes, len(labels)), tuple(labels), unknown)


def _distinct_numbers(column: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The column's numbers (NaN where missing), and for each row its position among them.

    Binning works on distinct values, not rows, where that is cheaper: a log's sensitive columns hold
    few of them (often as text, as the canonical log stores them), and converting a million strings
    one by one holds the GIL for seconds, freezing the app's window while the analysis runs in a
    worker. ``None`` as the positions means the numbers are the rows themselves.
    """
    import pandas as pd

    if pd.api.types.is_integer_dtype(column.dtype) and isinstance(column.dtype, np.dtype):
        values = column.to_numpy()  # a numpy integer column has no missing values
        if len(values) and int(values.max()) - int(values.min()) < max(len(values), 1 << 16):
            low = int(values.min())  # ages and other small ranges: every integer in range, once
            return np.arange(low, int(values.max()) + 1, dtype=float), (values - low).astype(np.intp)
        return values.astype(float), None
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=float, na_value=np.nan), None
    if isinstance(column.dtype, pd.CategoricalDtype):
        positions, uniques = column.cat.codes.to_numpy(), pd.Series(column.cat.categories)
    else:
        positions, unique_values = pd.factorize(column, use_na_sentinel=True)
        uniques = pd.Series(unique_values)
    try:
        numbers = pd.to_numeric(uniques, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot bin a non-numeric attribute: {exc}", column=name) from exc
    # One more "distinct value" for the rows pandas found missing, so every row indexes the numbers.
    numbers = np.append(numbers, np.nan)
    return numbers, np.where(positions < 0, len(numbers) - 1, positions)


def encode_attributes(
    frame: pd.DataFrame, sensitive: Sequence[str], bins: Mapping[str, Sequence[float]] | None = None
) -> list[Attribute]:
    bins = dict(bins or {})
    unknown_bins = set(bins) - set(sensitive)
    if unknown_bins:
        raise InputError(f"bins given for columns that are not sensitive attributes: {sorted(unknown_bins)}")
    out = []
    for name in sensitive:
        if not has_column(frame, name):
            raise InputError(f"no such column; the log has {column_names(frame)}", column=str(name))
        out.append(encode_attribute(frame[name], name, bins.get(name)))
    return out


def plan_segments(
    attributes: Sequence[Attribute], intersections: bool | int | Sequence[Sequence[str]] = True
) -> list[Segment]:
    """Each attribute alone, then intersections.

    ``intersections`` is True (all 2- and 3-way combinations), False (none), 2 (pairs only) or an
    explicit list of attribute-name tuples such as ``[("sex", "race")]``.
    """
    by_name = {a.name: a for a in attributes}
    segments = [Segment((a,)) for a in attributes]
    combos: list[tuple[str, ...]]
    if intersections is True:
        combos = [c for k in (2, 3) for c in itertools.combinations(by_name, k)]
    elif intersections is False:
        combos = []
    elif isinstance(intersections, int):
        combos = [c for k in range(2, intersections + 1) for c in itertools.combinations(by_name, k)]
    else:
        combos = [tuple(c) for c in intersections]
    for combo in combos:
        missing = [n for n in combo if n not in by_name]
        if missing or len(combo) < 2 or len(set(combo)) != len(combo):
            raise InputError(
                f"intersection {list(combo)} must name 2 or more distinct sensitive attributes "
                f"from {list(by_name)}"
            )
        segments.append(Segment(tuple(by_name[n] for n in combo)))
    return segments
