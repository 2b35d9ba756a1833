"""Column profiles of a prediction log: what each column holds, at a glance and on the record.

A profile is the data-validation half of the evidence a reviewer reads next to the import report:
missing share, distinct count, range and quantiles for numbers, the most frequent values for
categories. Quantiles use linear interpolation between order statistics (numpy's default, Hyndman and
Fan type 7), over the non-missing finite values.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROFILE_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


class ColumnKind(enum.StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"  # text, booleans, pandas categories
    DATETIME = "datetime"


@dataclass(frozen=True)
class CategoryCount:
    value: str
    count: int
    share: float  # of all rows, missing included

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count, "share": self.share}


@dataclass(frozen=True)
class ColumnProfile:
    """One column. Numeric fields are None for categorical columns and the reverse.

    ``minimum``/``maximum`` are numbers for numeric columns and ISO 8601 text for timestamps;
    ``non_finite`` counts infinities, which are excluded from the range, mean and quantiles.
    """

    name: str
    kind: ColumnKind
    dtype: str
    rows: int
    missing: int
    distinct: int  # distinct non-missing values
    minimum: float | str | None = None
    maximum: float | str | None = None
    mean: float | None = None
    std: float | None = None  # sample standard deviation (ddof=1)
    non_finite: int = 0
    quantiles: tuple[tuple[float, float], ...] = ()  # (probability, value)
    top_categories: tuple[CategoryCount, ...] = ()
    other_categories: int = 0  # rows in categories beyond the top ones

    @property
    def missing_share(self) -> float:
        return self.missing / self.rows if self.rows else 0.0

    def quantile(self, probability: float) -> float:
        for p, value in self.quantiles:
            if p == probability:
                return value
        raise KeyError(probability)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "dtype": self.dtype,
            "rows": self.rows,
            "missing": self.missing,
            "missing_share": self.missing_share,
            "distinct": self.distinct,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "mean": self.mean,
            "std": self.std,
            "non_finite": self.non_finite,
            "quantiles": [{"p": p, "value": v} for p, v in self.quantiles],
            "top_categories": [c.to_dict() for c in self.top_categories],
            "other_categories": self.other_categories,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        return cls(
            name=data["name"],
            kind=ColumnKind(data["kind"]),
            dtype=data["dtype"],
            rows=data["rows"],
            missing=data["missing"],
            distinct=data["distinct"],
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            mean=data.get("mean"),
            std=data.get("std"),
            non_finite=data.get("non_finite", 0),
            quantiles=tuple((q["p"], q["value"]) for q in data.get("quantiles", ())),
            top_categories=tuple(
                CategoryCount(c["value"], c["count"], c["share"]) for c in data.get("top_categories", ())
            ),
            other_categories=data.get("other_categories", 0),
        )


@dataclass(frozen=True)
class LogProfile:
    rows: int
    columns: tuple[ColumnProfile, ...]

    def column(self, name: str) -> ColumnProfile:
        for profile in self.columns:
            if profile.name == name:
                return profile
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "quantile_method": "linear (type 7) over non-missing finite values",
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LogProfile:
        return cls(rows=data["rows"], columns=tuple(ColumnProfile.from_dict(c) for c in data["columns"]))
