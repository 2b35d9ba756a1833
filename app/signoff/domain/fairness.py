"""Fairness results: per-group metrics, comparisons under named conventions, impact ratios.

A fairness analysis splits a prediction log into segments (one sensitive attribute, or an intersection
such as ``sex&race``), measures each group of a segment, and compares the groups under a stated convention
(Fairlearn's max-min, AIF360's signed unprivileged-vs-privileged, the NYC Local Law 144 impact ratio).
Every number that cannot be computed (a rate whose denominator is zero) is ``None``, never 0 or NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from signoff.domain.codec import Record
from signoff.domain.observations import Observation

Interval = tuple[float | None, float | None]


@dataclass(frozen=True)
class Significance(Record):
    """A group's selection rate tested against the reference group's (two-sided)."""

    test: str  # "two_proportion_z" or "fisher_exact" (used when any expected cell is below 5)
    statistic: float | None  # z, or Fisher's odds ratio
    p_value: float | None
    reference: str


@dataclass(frozen=True)
class GroupMetrics(Record):
    """Everything measured for one group of a segment (or for the whole log, group ``"overall"``).

    ``metrics`` maps a metric name (``selection_rate``, ``tpr``, ``roc_auc`` ...) to its value;
    ``bootstrap`` and ``wilson`` map the same names to 95% intervals (Wilson only for proportions).
    ``insufficient`` is set when the group is smaller than the minimum group size: its numbers are
    shown but never judged, and it takes no part in comparisons.
    """

    group: str
    count: int
    metrics: dict[str, float | None]
    bootstrap: dict[str, Interval] = field(default_factory=dict)
    wilson: dict[str, Interval] = field(default_factory=dict)
    insufficient: bool = False
    unknown: bool = False  # the group is (or contains) the explicit Unknown value
    significance: Significance | None = None


@dataclass(frozen=True)
class Comparison(Record):
    """One comparison of a segment's groups under a named convention.

    ``group`` is ``None`` for a segment-wide comparison (Fairlearn's max-min, AIF360's pooled
    unprivileged vs privileged) and names the group for a per-group one (that group vs the reference).
    ``groups`` names the groups that produced the value (for max-min: the highest and the lowest).
    """

    name: str
    convention: str
    value: float | None
    ci: Interval = (None, None)
    reference: str | None = None
    group: str | None = None
    groups: tuple[str, ...] = ()
    n: int | None = None  # rows in the smallest group behind the value
    insufficient: bool = False


@dataclass(frozen=True)
class ImpactRatio(Record):
    """NYC Local Law 144 / EEOC four-fifths: a group's selection rate over the highest group's.

    ``excluded`` groups (under the exclusion share of the data, 2% by default, or the Unknown group)
    are listed with their counts but take no part in the calculation; their ``impact_ratio`` is None.
    """

    group: str
    count: int
    selection_rate: float | None
    impact_ratio: float | None
    ci: Interval = (None, None)
    excluded: bool = False
    insufficient: bool = False


@dataclass(frozen=True)
class SegmentResult(Record):
    """One segment: a sensitive attribute (``sex``) or an intersection (``sex&race``)."""

    name: str
    attributes: tuple[str, ...]
    reference: str | None  # None when no group is large enough to serve as one
    groups: tuple[GroupMetrics, ...]
    comparisons: tuple[Comparison, ...]
    impact_ratios: tuple[ImpactRatio, ...]
    excluded: tuple[str, ...] = ()  # groups left out of the impact ratio (under 2% of the data)
    unknown_count: int = 0  # rows whose attribute value is missing (the Unknown group)

    def group(self, label: str) -> GroupMetrics:
        for g in self.groups:
            if g.group == label:
                return g
        raise KeyError(label)

    def comparison(self, name: str, group: str | None = None) -> Comparison:
        for c in self.comparisons:
            if c.name == name and c.group == group:
                return c
        raise KeyError((name, group))


# Comparisons a policy may name; the per-group ones become observations scoped "attr=group".
_SEGMENT_OBSERVED = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equalized_odds_difference_mean",
    "equalized_odds_ratio_mean",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "statistical_parity_difference",
    "disparate_impact",
    "aif360_equal_opportunity_difference",
    "average_odds_difference",
)


@dataclass(frozen=True)
class FairnessResult(Record):
    """A whole fairness analysis: its parameters, the overall metrics and every segment."""

    JSON_CONSTANTS: ClassVar[dict[str, Any]] = {"kind": "fairness"}

    params: dict[str, Any]
    n_rows: int
    positive_label: str
    overall: GroupMetrics
    segments: tuple[SegmentResult, ...]
    engine_version: str = ""

    def segment(self, name: str) -> SegmentResult:
        for s in self.segments:
            if s.name == name:
                return s
        raise KeyError(name)

    def observations(self) -> list[Observation]:
        """Segment comparisons scoped by segment (``sex``); impact ratios scoped by group.

        ``fairness.impact_ratio`` scoped by segment carries the lowest impact ratio among included
        groups; scoped ``sex=Female`` it carries that group's own ratio.
        """
        out: list[Observation] = []
        for seg in self.segments:
            sizes = {g.group: g.count for g in seg.groups}
            for c in seg.comparisons:
                if c.name not in _SEGMENT_OBSERVED:
                    continue
                scope = seg.name if c.group is None else f"{seg.name}={c.group}"
                detail = c.convention
                if c.groups:
                    detail = f"{' vs '.join(c.groups)}; {c.convention}"
                out.append(
                    Observation(
                        metric=f"fairness.{c.name}",
                        scope=scope,
                        value=c.value,
                        ci_low=c.ci[0],
                        ci_high=c.ci[1],
                        n=c.n,
                        insufficient=c.insufficient,
                        detail=detail,
                    )
                )
            included = [r for r in seg.impact_ratios if not r.excluded and r.impact_ratio is not None]
            for r in seg.impact_ratios:
                if r.excluded:
                    continue
                out.append(
                    Observation(
                        metric="fairness.impact_ratio",
                        scope=f"{seg.name}={r.group}",
                        value=r.impact_ratio,
                        ci_low=r.ci[0],
                        ci_high=r.ci[1],
                        n=r.count,
                        insufficient=r.insufficient,
                        detail="selection rate / highest group's (NYC LL144, EEOC four-fifths)",
                    )
                )
            judged = [r for r in included if not r.insufficient]
            if judged:
                worst = min(judged, key=lambda r: r.impact_ratio)  # type: ignore[arg-type,return-value]
                out.append(
                    Observation(
                        metric="fairness.impact_ratio",
                        scope=seg.name,
                        value=worst.impact_ratio,
                        ci_low=worst.ci[0],
                        ci_high=worst.ci[1],
                        n=worst.count,
                        detail=f"lowest: {worst.group}; selection rate / highest group's",
                    )
                )
            else:
                out.append(
                    Observation(
                        metric="fairness.impact_ratio",
                        scope=seg.name,
                        value=None,
                        n=min(sizes.values()) if sizes else 0,
                        insufficient=True,
                        detail="no group large enough to judge",
                    )
                )
        return out


@dataclass(frozen=True)
class MonitoringWindow(Record):
    """One time window of positive-rate monitoring, with its p-chart control band."""

    start: str  # ISO date of the window's first day
    count: int
    positives: int
    rate: float | None
    lower: float | None
    upper: float | None
    flagged: bool


@dataclass(frozen=True)
class MonitoringResult(Record):
    """Positive (selection) rate per time window against a control band around the overall rate."""

    JSON_CONSTANTS: ClassVar[dict[str, Any]] = {"kind": "monitoring"}

    params: dict[str, Any]
    frequency: str  # "day", "week" or "month"
    overall_rate: float | None
    sigmas: float
    windows: tuple[MonitoringWindow, ...]
    engine_version: str = ""

    def observations(self) -> list[Observation]:
        flagged = [w for w in self.windows if w.flagged]
        return [
            Observation(
                metric="monitoring.flagged_windows",
                scope="overall",
                value=float(len(flagged)),
                n=sum(w.count for w in self.windows),
                detail=(
                    f"{self.frequency} windows outside overall rate ± {self.sigmas:g} sigma: "
                    + (", ".join(w.start for w in flagged) or "none")
                ),
            )
        ]
