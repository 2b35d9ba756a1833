"""What an analysis asks of a column, for a pandas Series and an Arrow column alike.

A stored log is read as Arrow. The analyses that take it so (fairness) ask these questions of its
columns directly rather than converting the table to pandas, whose import alone is a quarter of a
second of a first call. The pandas answers are the ones the analyses always gave; the Arrow answers
agree with them for the plain column types a canonical log holds (``plain_arrow``), which tests check
on the same rows. Anything else (dictionary columns, binned attributes, count tables) goes through
pandas as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


def is_arrow(data: Any) -> bool:
    """An Arrow table or column (checked by module, so that a pandas caller never imports pyarrow)."""
    return type(data).__module__.startswith("pyarrow")


def plain_arrow(
    frame: Any,
    names: Iterable[str | None],
    *,
    numeric: Iterable[str | None] = (),
    binned: Mapping | None = None,
) -> bool:
    """Whether ``frame`` is an Arrow table whose columns ``names`` (and ``numeric``) are all there and of
    the plain types these answers cover: integers, floats, booleans, text (``numeric``: no text), and
    none of them binned (binning works on pandas)."""
    if not is_arrow(frame):
        return False
    import pyarrow as pa

    kinds = [(n, True) for n in names if n is not None] + [(n, False) for n in numeric if n is not None]
    for name, text_ok in kinds:
        if name not in frame.column_names or (binned and name in binned):
            return False
        t = frame.schema.field(name).type
        numbers = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
        if not (numbers or (text_ok and (pa.types.is_string(t) or pa.types.is_large_string(t)))):
            return False
    return True


# Arrow's own to_numpy() imports pandas (a quarter of a second), and so does turning any Python value
# into an Arrow scalar; so fixed-width numbers are read from their buffer (``_numbers``) and values are
# compared with scalars taken from the column itself.
_DTYPES = {
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
    "float": np.float32, "double": np.float64,
}  # fmt: skip


def _numbers(column: Any, missing_as: Any = None) -> np.ndarray:
    """An Arrow column of fixed-width numbers or booleans as a numpy array, ``missing_as`` where null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    boolean = pa.types.is_boolean(array.type)
    if boolean:  # stored as bits: one byte each
        array = pc.cast(array, pa.uint8())
    dtype = np.dtype(_DTYPES[str(array.type)])
    if len(array) == 0:
        return np.empty(0, dtype=bool if boolean else dtype)
    values = np.frombuffer(
        array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize
    )
    # A copy: Arrow's buffer is read-only, and the analyses may write into what pandas handed them.
    values = (values.view(bool) if boolean else values).copy()
    if array.null_count:
        values[_numbers(pc.is_null(array))] = missing_as
    return values


def column_names(frame: Any) -> list[str]:
    return list(frame.column_names) if is_arrow(frame) else list(map(str, frame.columns))


def has_column(frame: Any, name: str) -> bool:
    return name in (frame.column_names if is_arrow(frame) else frame.columns)


def missing(column: Any) -> np.ndarray:
    """Which rows have no value (null, or NaN in a float column), as booleans."""
    if is_arrow(column):
        import pyarrow.compute as pc

        return _numbers(pc.is_null(column, nan_is_null=True))
    return column.isna().to_numpy()


def present_values(column: Any) -> list[Any]:
    """The column's distinct values that are not missing, as Python values, in no set order."""
    if is_arrow(column):
        import pyarrow.compute as pc

        return pc.unique(column.filter(pc.invert(pc.is_null(column, nan_is_null=True)))).to_pylist()
    return [v.item() if hasattr(v, "item") else v for v in _distinct(column.dropna())]


def _distinct(column: Any) -> np.ndarray:
    """The column's distinct values; small integers (0/1 outcomes) by counting, not hashing (~10x)."""
    import pandas as pd

    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iu" and len(column):
        values = column.to_numpy()
        low, high = int(values.min()), int(values.max())
        if high - low < 1 << 16:
            present = np.flatnonzero(np.bincount((values - low).astype(np.intp, copy=False)))
            return (present + low).astype(values.dtype)
    return pd.unique(column)


def equal_to(column: Any, value: Any) -> np.ndarray:
    """Which rows hold ``value`` (a missing value never does), as booleans."""
    if is_arrow(column):
        import pyarrow.compute as pc

        uniques = pc.unique(column)
        for i, held in enumerate(uniques.to_pylist()):
            if held is not None and held == value:  # Python's equality, as pandas compares
                return _numbers(pc.equal(column, uniques[i]), missing_as=False)
        return np.zeros(len(column), dtype=bool)
    return (column == value).to_numpy(dtype=bool)


def floats(column: Any) -> np.ndarray:
    """The column as floats, NaN where missing (``ValueError`` or ``TypeError`` if it holds no numbers)."""
    if is_arrow(column):
        import pyarrow as pa

        return _numbers(column.cast(pa.float64()), missing_as=np.nan)
    import pandas as pd

    return pd.to_numeric(column, errors="raise").to_numpy(dtype=float, na_value=np.nan)


def sorted_codes(column: Any) -> tuple[np.ndarray, list[str]]:
    """Each row's position among the column's sorted distinct values (-1 where missing), and those
    values as text. A pandas categorical keeps its categories, in their order."""
    if is_arrow(column):
        import pyarrow as pa
        import pyarrow.compute as pc

        # One hashing pass: each row's index into the distinct values, then those few values sorted.
        encoded = (
            column.combine_chunks().dictionary_encode() if len(column) else pa.array([]).dictionary_encode()
        )
        values = encoded.dictionary
        order = _numbers(pc.sort_indices(values)).astype(np.intp)
        kept = order[~_numbers(pc.is_null(values, nan_is_null=True))[order]]  # NaN is missing, as in pandas
        rank = np.full(len(values) + 1, -1, dtype=np.int64)  # the last slot: null rows (index -1)
        rank[kept] = np.arange(len(kept))
        codes = rank[_numbers(encoded.indices.cast(pa.int64()), missing_as=-1)]
        distinct = values.to_pylist()
        return codes, [str(distinct[i]) for i in kept]
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), [str(c) for c in column.cat.categories]
    codes, uniques = pd.factorize(column, sort=True, use_na_sentinel=True)
    return codes, [str(u) for u in uniques]
