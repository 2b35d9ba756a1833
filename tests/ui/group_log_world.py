"""A small prediction log whose fairness table is known by hand, imported through the real service.

Groups (sex x race), rows and positive predictions, chosen so every number below is easy to check:

    F & A: 60 rows, 12 selected (0.20)    M & A: 40 rows, 24 selected (0.60)    X & A: 10 rows, 3 selected (0.30)
    F & B: 60 rows, 24 selected (0.40)    M & B: 40 rows, 16 selected (0.40)

so sex: F 36/120 = 0.30 (largest group: the reference), M 40/80 = 0.50, X 3/10 = 0.30 (fewer than 30
rows: insufficient data); race: A 39/110, B 40/100. ``income`` is missing in rows 0-4.
"""

from __future__ import annotations

from pathlib import Path

from signoff.domain.prediction_log import ColumnMapping
from signoff.services.logs import import_log
from signoff.services.models import add_model_version

CELLS = {
    ("F", "A"): (60, 12),
    ("F", "B"): (60, 24),
    ("M", "A"): (40, 24),
    ("M", "B"): (40, 16),
    ("X", "A"): (10, 3),
}
SELECTED = {"F": 36 / 120, "M": 40 / 80, "X": 3 / 10}
COUNTS = {"F": 120, "M": 80, "X": 10}
MISSING_INCOME = 5
MAPPING = ColumnMapping(
    label="y_true",
    prediction="prediction",
    scores=("score",),
    sensitive=("sex", "race"),
    features=("income",),
    id="request_id",
    timestamp="event_time",
)


def rows() -> list[dict]:
    out = []
    for (sex, race), (n, selected) in CELLS.items():
        for k in range(n):
            i = len(out)
            out.append(
                {
                    "request_id": f"r{i}",
                    "event_time": f"2026-01-{1 + i % 28:02d}T10:00:00Z",
                    "y_true": i % 2,
                    "prediction": 1 if k < selected else 0,
                    "score": 0.75 if k < selected else 0.25,
                    "sex": sex,
                    "race": race,
                    "income": "" if i < MISSING_INCOME else str(1000 + 10 * i),
                }
            )
    return out


def incomes() -> list[int]:
    return [1000 + 10 * i for i in range(len(rows())) if i >= MISSING_INCOME]


def write_csv(path: Path) -> Path:
    table = rows()
    header = list(table[0])
    lines = [",".join(header)] + [",".join(str(row[c]) for c in header) for row in table]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build(db, tmp_path: Path, *, name: str = "credit", version: str = "1"):
    """A model version with the log above; returns (model version, log)."""
    model_version = add_model_version(db, name=name, version=version, actor="tester")
    imported = import_log(
        db, write_csv(tmp_path / "groups.csv"), model=name, version=version, mapping=MAPPING, actor="tester"
    )
    return model_version, imported.log


def import_multiclass(db, tmp_path: Path, *, name: str = "credit", version: str = "1"):
    """A second log of the version whose outcomes have three classes: a binary fairness analysis refuses it."""
    path = tmp_path / "three-classes.csv"
    lines = ["request_id,y_true,prediction,sex"] + [
        f"m{i},{i % 3},{(i + 1) % 3},{'F' if i % 2 else 'M'}" for i in range(90)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = ColumnMapping(label="y_true", prediction="prediction", sensitive=("sex",), id="request_id")
    return import_log(db, path, model=name, version=version, mapping=mapping, actor="tester").log


def import_million(db, tmp_path: Path, *, name: str = "credit", version: str = "1"):
    """A 1,000,000-row log of the version: row i has y = i % 2, prediction = (i // 2) % 2, sex F unless i % 3 == 0."""
    import numpy as np
    import pandas as pd

    i = np.arange(1_000_000)
    path = tmp_path / "million.parquet"
    pd.DataFrame({"y": i % 2, "prediction": (i // 2) % 2, "sex": np.where(i % 3, "F", "M")}).to_parquet(
        path, index=False
    )
    mapping = ColumnMapping(label="y", prediction="prediction", sensitive=("sex",))
    return import_log(db, path, model=name, version=version, mapping=mapping, actor="tester").log
