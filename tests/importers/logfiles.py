"""Builders of prediction-log files for the importer tests: one valid log, written in every format.

The frame is the oracle: tests compute what the importer must report from it with pandas, never
from the importer's own output.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from signoff.domain.prediction_log import ColumnMapping

MAPPING = ColumnMapping(
    id="id",
    timestamp="ts",
    label="label",
    prediction="pred",
    scores=("score",),
    sensitive=("group",),
    features=("x", "n"),
)


def valid_frame(rows: int = 12, seed: int = 0) -> pd.DataFrame:
    """A small valid binary log; the group column has names outside ASCII and one missing value."""
    rng = np.random.default_rng(seed)
    groups = np.array(["Zoë", "Łukasz", "Ñúñez", "plain"], dtype=object)[rng.integers(0, 4, rows)]
    groups[rows // 2] = None
    return pd.DataFrame(
        {
            "id": [f"r{i:05d}" for i in range(rows)],
            "ts": pd.date_range("2024-03-01 08:00", periods=rows, freq="37min", tz="UTC"),
            "label": rng.integers(0, 2, rows),
            "pred": rng.integers(0, 2, rows),
            "score": np.round(rng.random(rows), 6),
            "group": groups,
            "x": np.round(rng.normal(size=rows), 4),
            "n": rng.integers(0, 100, rows),
        }
    )


def csv_text(frame: pd.DataFrame, *, sep: str = ",", decimal: str = ".") -> str:
    out = frame.copy()
    if "ts" in out and pd.api.types.is_datetime64_any_dtype(out["ts"]):
        out["ts"] = out["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\n")


def write_csv(
    path: Path, frame: pd.DataFrame, *, sep: str = ",", encoding: str = "utf-8", bom: bool = False
) -> Path:
    data = csv_text(frame, sep=sep, decimal="," if sep == ";" else ".").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            utc = series.dt.tz_convert(None).to_numpy()
            columns[name] = pa.array(utc).cast(pa.timestamp("ns", tz="UTC"))
        elif pd.api.types.is_string_dtype(series) or series.dtype == object:
            columns[name] = pa.array([None if pd.isna(v) else v for v in series], pa.string())
        else:
            columns[name] = pa.array(series.to_numpy())
    return pa.table(columns)


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    pq.write_table(arrow_table(frame), path)
    return path


def write_jsonl(path: Path, frame: pd.DataFrame) -> Path:
    lines = []
    for record in frame.to_dict(orient="records"):
        clean = {}
        for key, value in record.items():
            if isinstance(value, pd.Timestamp):
                value = value.strftime("%Y-%m-%dT%H:%M:%SZ")
            elif isinstance(value, np.generic):
                value = value.item()
            elif value is None or (isinstance(value, float) and np.isnan(value)):
                value = None
            clean[key] = value
        lines.append(json.dumps(clean, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
