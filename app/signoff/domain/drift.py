"""Drift between a reference log and a current log: per column statistics, thresholds and a verdict.

The conventions, stated once so every number can be reproduced: PSI and Jensen-Shannon compare binned
distributions (numeric columns: bins cut at the reference's quantiles; categorical columns: one bin per
category); missing values are a bin of their own in both. Kolmogorov-Smirnov and Wasserstein compare the
non-missing values; chi-square compares category counts. ``CONVENTIONS`` below is the text shown to
reviewers and written into every result.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar

from signoff.domain.codec import WHEN_SET, Record
from signoff.domain.observations import Observation

DEFAULT_BINS = 10
PSI_EPSILON = 1e-4
MISSING_BIN = "(missing)"

CONVENTIONS = (
    "PSI = sum over bins of (current share - reference share) * ln(current share / reference share); "
    "numeric bins are cut at the reference's quantiles k/bins (linear interpolation, duplicate edges "
    "merged, right-closed, the outer bins open-ended); a share of 0 is replaced by epsilon before the "
    "logarithm; missing values form their own bin. "
    "Kolmogorov-Smirnov: scipy.stats.ks_2samp (two-sided, method 'auto') on non-missing values. "
    "Wasserstein: scipy.stats.wasserstein_distance on non-missing values, normalised by dividing by the "
    "reference's population standard deviation (ddof=0). "
    "Jensen-Shannon: scipy.spatial.distance.jensenshannon (a distance, the square root of the "
    "divergence) with base 2, so 0 <= JS <= 1, on the same bins as PSI. "
    "Chi-square: scipy.stats.chi2_contingency on the category x {reference, current} count table "
    "without Yates' correction; categories seen only in the current log are rows of their own (reference "
    "count 0), missing values are a category. "
    "Verdict: drifted when PSI >= the significant threshold, or when the test rejects (p < alpha) and the "
    "effect size (normalised Wasserstein for numbers, Jensen-Shannon for categories) reaches its "
    "threshold; moderate when PSI >= the moderate threshold or the effect size reaches its threshold "
    "alone; stable otherwise. A significant p-value alone never flags drift: with large logs every "
    "difference is significant."
)


class ColumnType(enum.StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class DriftVerdict(enum.StrEnum):
    STABLE = "stable"
    MODERATE = "moderate"
    DRIFTED = "drifted"


@dataclass(frozen=True)
class DriftThresholds(Record):
    psi_moderate: float = 0.1
    psi_significant: float = 0.2
    p_value: float = 0.01  # alpha for Kolmogorov-Smirnov and chi-square
    wasserstein: float = 0.1  # normalised (in reference standard deviations)
    jensen_shannon: float = 0.1  # distance, base 2


@dataclass(frozen=True)
class DriftBin(Record):
    """One bin of the binned comparison. Numeric bins are ``(lower, upper]`` (None = unbounded);
    categorical bins carry the category in ``label``; the missing bin is labelled ``(missing)``."""

    label: str
    reference_count: int
    current_count: int
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class HistogramBounds(Record):
    """How far a statistic of a column read as histogram bins (a log that stays where it lives, with
    more distinct values than are fetched one by one) can be from the same statistic on its rows.

    Values come as their bin's lower edge, so each moves by less than ``resolution``: Wasserstein moves
    by less than the resolution per binned side, the KS statistic by at most the largest share of one
    bin per binned side, and PSI and Jensen-Shannon are exact for bin edges within one resolution of
    the reference's quantiles.
    """

    resolution: float
    ks_statistic: float | None = None
    wasserstein: float | None = None
    wasserstein_normalised: float | None = None


@dataclass(frozen=True)
class ColumnDrift(Record):
    """Every statistic for one column; a statistic that does not apply or cannot be computed is None
    and ``notes`` says why."""

    column: str
    type: ColumnType
    verdict: DriftVerdict
    reference_rows: int
    current_rows: int
    reference_missing: int
    current_missing: int
    psi: float | None = None
    jensen_shannon: float | None = None
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    wasserstein: float | None = None
    wasserstein_normalised: float | None = None
    chi2_statistic: float | None = None
    chi2_p_value: float | None = None
    chi2_dof: int | None = None
    unseen_categories: tuple[str, ...] = ()  # in the current log, not in the reference
    bins: tuple[DriftBin, ...] = ()
    notes: tuple[str, ...] = ()
    # set when a side was read as histogram bins; otherwise left out of the JSON (older runs' bytes)
    error_bounds: HistogramBounds | None = field(default=None, metadata=WHEN_SET)

    @property
    def n(self) -> int:
        """Rows behind the comparison: the smaller of the two logs."""
        return min(self.reference_rows, self.current_rows)


# Which statistics become observations, under which metric names (``drift.<name>``).
_OBSERVED = (
    "psi",
    "jensen_shannon",
    "ks_statistic",
    "ks_p_value",
    "wasserstein_normalised",
    "chi2_statistic",
    "chi2_p_value",
)


@dataclass(frozen=True)
class DriftResult(Record):
    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("drifted_columns",)
    columns: tuple[ColumnDrift, ...]
    bins: int = DEFAULT_BINS
    epsilon: float = PSI_EPSILON
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)
    reference_rows: int = 0
    current_rows: int = 0
    conventions: str = CONVENTIONS

    def column(self, name: str) -> ColumnDrift:
        for col in self.columns:
            if col.column == name:
                return col
        raise KeyError(name)

    def drifted_columns(self) -> tuple[str, ...]:
        return tuple(c.column for c in self.columns if c.verdict is DriftVerdict.DRIFTED)

    def observations(self) -> list[Observation]:
        """``drift.<statistic>`` per column (scope = column name), and ``drift.drifted_columns``
        (scope ``overall``): the number of columns whose verdict is drifted."""
        observed: list[Observation] = []
        for col in self.columns:
            for name in _OBSERVED:
                value = getattr(col, name)
                applies = not (
                    (col.type is ColumnType.NUMERIC and name.startswith("chi2"))
                    or (
                        col.type is ColumnType.CATEGORICAL
                        and (name.startswith("ks") or name.startswith("wasserstein"))
                    )
                )
                if not applies:
                    continue
                observed.append(
                    Observation(
                        metric=f"drift.{name}",
                        scope=col.column,
                        value=value,
                        n=col.n,
                        detail=f"{col.type.value} column, verdict {col.verdict.value}",
                    )
                )
        observed.append(
            Observation(
                metric="drift.drifted_columns",
                scope="overall",
                value=float(len(self.drifted_columns())),
                n=min(self.reference_rows, self.current_rows),
                detail=", ".join(self.drifted_columns()),
            )
        )
        return observed
