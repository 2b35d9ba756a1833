"""A canonical log's stored Parquet read as an Arrow table: only the columns asked for, and no pandas.

An analysis that works on Arrow columns (fairness) reads its rows here, so its first call does not
import pandas (a quarter of a second of start-up); ``prediction_log.read_canonical_log`` is the same
read handed over as a DataFrame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from signoff.domain.errors import InputError

SOURCE_ROW = "source_row"  # the row's line or position in the file it was imported from


def read_canonical_table(source: Path | bytes, columns: Sequence[str] | None = None) -> pa.Table:
    """A canonical log (a path or the stored bytes) as an Arrow table, with its ``source_row`` column.

    ``columns``: decode only these (Parquet column projection: an analysis needs a few of many). A
    column the log lacks is left out: the analysis that asked for it says what it misses.
    """
    where = str(source) if isinstance(source, Path | str) else None
    try:
        parquet = pq.ParquetFile(
            pa.BufferReader(source) if isinstance(source, bytes | bytearray | memoryview) else Path(source)
        )
        names = parquet.schema_arrow.names
        if SOURCE_ROW not in names:
            raise InputError(f"not a canonical log: it has no {SOURCE_ROW!r} column.", file=where)
        wanted = None if columns is None else [c for c in dict.fromkeys(columns) if c in names]
        # With none of them there, the table still has the log's rows (and no columns).
        table = parquet.read(columns=wanted or ([SOURCE_ROW] if wanted is not None else None))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable canonical log ({exc}).", file=where) from exc
    return table.drop_columns([SOURCE_ROW]) if wanted == [] else table
