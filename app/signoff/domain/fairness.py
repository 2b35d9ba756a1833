"""Fairness results: per-group metrics, comparisons under named conventions, impact ratios.

A fairness analysis splits a prediction log into segments (one sensitive attribute, or an intersection
such as ``sex&race``), measures each group of a segment, and compares the groups under a stated convention
(Fairlearn's max-min, AIF360's signed unprivileged-vs-privileged, the NYC Local Law 144 impact ratio).
Every number that cannot be computed (a rate whose denominator is zero) is ``None``, never 0 or NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from signoff.domain.observations import Observation

Interval = tuple[float | None, float | None]


def _interval_to_list(ci: Interval) -> list[float | None]:
    return [ci[0], ci[1]]


def _intervals_to_dict(cis: dict[str, Interval]) -> dict[str, list[float | None]]:
    return {k: _interval_to_list(v) for k, v in cis.items()}


def _intervals_from_dict(data: dict[str, Any]) -> dict[str, Interval]:
    return {k: (v[0], v[1]) for k, v in data.items()}


@dataclass(frozen=True)
class Significance:
    """A group's selection rate tested against the reference group's (two-sided)."""

    test: str  # "two_proportion_z" or "fisher_exact" (used when any expected cell is below 5)
    statistic: float | None  # z, or Fisher's odds ratio
    p_value: float | None
    reference: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "reference": self.reference,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Significance:
        return cls(**data)


@dataclass(frozen=True)
class GroupMetrics:
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "count": self.count,
            "insufficient": self.insufficient,
            "unknown": self.unknown,
            "metrics": dict(self.metrics),
            "bootstrap": _intervals_to_dict(self.bootstrap),
            "wilson": _intervals_to_dict(self.wilson),
            "significance": None if self.significance is None else self.significance.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupMetrics:
        sig = data.get("significance")
        return cls(
            group=data["group"],
            count=data["count"],
            metrics=dict(data["metrics"]),
            bootstrap=_intervals_from_dict(data.get("bootstrap", {})),
            wilson=_intervals_from_dict(data.get("wilson", {})),
            insufficient=data.get("insufficient", False),
            unknown=data.get("unknown", False),
            significance=None if sig is None else Significance.from_dict(sig),
        )


@dataclass(frozen=True)
class Comparison:
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "convention": self.convention,
            "value": self.value,
            "ci": _interval_to_list(self.ci),
            "reference": self.reference,
            "group": self.group,
            "groups": list(self.groups),
            "n": self.n,
            "insufficient": self.insufficient,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        return cls(
            name=data["name"],
            convention=data["convention"],
            value=data["value"],
            ci=(data["ci"][0], data["ci"][1]),
            reference=data.get("reference"),
            group=data.get("group"),
            groups=tuple(data.get("groups", ())),
            n=data.get("n"),
            insufficient=data.get("insufficient", False),
        )


@dataclass(frozen=True)
class ImpactRatio:
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "count": self.count,
            "selection_rate": self.selection_rate,
            "impact_ratio": self.impact_ratio,
            "ci": _interval_to_list(self.ci),
            "excluded": self.excluded,
            "insufficient": self.insufficient,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImpactRatio:
        return cls(
            group=data["group"],
            count=data["count"],
            selection_rate=data["selection_rate"],
            impact_ratio=data["impact_ratio"],
            ci=(data["ci"][0], data["ci"][1]),
            excluded=data.get("excluded", False),
            insufficient=data.get("insufficient", False),
        )


@dataclass(frozen=True)
class SegmentResult:
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "attributes": list(self.attributes),
            "reference": self.reference,
            "unknown_count": self.unknown_count,
            "excluded": list(self.excluded),
            "groups": [g.to_dict() for g in self.groups],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "impact_ratios": [r.to_dict() for r in self.impact_ratios],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentResult:
        return cls(
            name=data["name"],
            attributes=tuple(data["attributes"]),
            reference=data.get("reference"),
            groups=tuple(GroupMetrics.from_dict(g) for g in data["groups"]),
            comparisons=tuple(Comparison.from_dict(c) for c in data["comparisons"]),
            impact_ratios=tuple(ImpactRatio.from_dict(r) for r in data["impact_ratios"]),
            excluded=tuple(data.get("excluded", ())),
            unknown_count=data.get("unknown_count", 0),
        )


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
class FairnessResult:
    """A whole fairness analysis: its parameters, the overall metrics and every segment."""

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "fairness",
            "engine_version": self.engine_version,
            "params": dict(self.params),
            "n_rows": self.n_rows,
            "positive_label": self.positive_label,
            "overall": self.overall.to_dict(),
            "segments": [s.to_dict() for s in self.segments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FairnessResult:
        return cls(
            params=dict(data["params"]),
            n_rows=data["n_rows"],
            positive_label=data["positive_label"],
            overall=GroupMetrics.from_dict(data["overall"]),
            segments=tuple(SegmentResult.from_dict(s) for s in data["segments"]),
            engine_version=data.get("engine_version", ""),
        )

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
class MonitoringWindow:
    """One time window of positive-rate monitoring, with its p-chart control band."""

    start: str  # ISO date of the window's first day
    count: int
    positives: int
    rate: float | None
    lower: float | None
    upper: float | None
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "count": self.count,
            "positives": self.positives,
            "rate": self.rate,
            "lower": self.lower,
            "upper": self.upper,
            "flagged": self.flagged,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitoringWindow:
        return cls(**data)


@dataclass(frozen=True)
class MonitoringResult:
    """Positive (selection) rate per time window against a control band around the overall rate."""

    params: dict[str, Any]
    frequency: str  # "day", "week" or "month"
    overall_rate: float | None
    sigmas: float
    windows: tuple[MonitoringWindow, ...]
    engine_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "monitoring",
            "engine_version": self.engine_version,
            "params": dict(self.params),
            "frequency": self.frequency,
            "overall_rate": self.overall_rate,
            "sigmas": self.sigmas,
            "windows": [w.to_dict() for w in self.windows],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitoringResult:
        return cls(
            params=dict(data["params"]),
            frequency=data["frequency"],
            overall_rate=data["overall_rate"],
            sigmas=data["sigmas"],
            windows=tuple(MonitoringWindow.from_dict(w) for w in data["windows"]),
            engine_version=data.get("engine_version", ""),
        )

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
