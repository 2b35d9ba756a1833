"""Champion vs challenger: how a new model version differs from the one it would replace, and for whom.

A comparison is *paired* when both versions scored the same rows (shadow mode, a back-test) and
*unpaired* when each served its own traffic (an A/B test); the tests differ accordingly. Every
difference is challenger minus champion, per segment group, with an interval, a test and a
Holm-adjusted p value within a stated family. Numbers that cannot be computed are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signoff.domain.explanation import Explanation
from signoff.domain.observations import Observation

Interval = tuple[float | None, float | None]

PAIRED = "paired"
UNPAIRED = "unpaired"
COMPARED_METRICS = ("accuracy", "tpr", "fpr", "selection_rate", "precision", "roc_auc")
GAPS = ("impact_ratio", "demographic_parity_difference", "equalized_odds_difference")


def _pair(ci: Interval) -> list[float | None]:
    return [ci[0], ci[1]]


def _interval(data: Any) -> Interval:
    return (data[0], data[1]) if data else (None, None)


@dataclass(frozen=True)
class MetricChange:
    """One metric of one group under both versions, and the difference (challenger - champion)."""

    metric: str
    champion: float | None
    challenger: float | None
    difference: float | None
    ci: Interval  # interval of the difference, at the comparison's confidence level
    interval_method: str  # "paired multinomial bootstrap", "Newcombe hybrid score", "DeLong"
    test: str | None = None  # "mcnemar_exact", "mcnemar_chi2", "delong", "two_proportion_z", "fisher_exact"
    statistic: float | None = None
    p_value: float | None = None
    p_holm: float | None = None  # adjusted within the metric's family (ComparisonResult.families)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "champion": self.champion,
            "challenger": self.challenger,
            "difference": self.difference,
            "ci": _pair(self.ci),
            "interval_method": self.interval_method,
            "test": self.test,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "p_holm": self.p_holm,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricChange:
        return cls(**{**data, "ci": _interval(data["ci"])})


@dataclass(frozen=True)
class DecisionChanges:
    """Who gets a different decision (paired only): favourable = the positive outcome.

    ``approval_ratio`` is this group's newly-approved rate over the highest such rate among the
    included groups (the four-fifths convention applied to the changes); ``decline_ratio`` is the
    lowest newly-declined rate among them over this group's (below 1: this group loses more often).
    """

    newly_approved: int
    newly_declined: int
    unchanged: int
    newly_approved_rate: float | None
    newly_declined_rate: float | None
    approval_ratio: float | None = None
    decline_ratio: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "newly_approved": self.newly_approved,
            "newly_declined": self.newly_declined,
            "unchanged": self.unchanged,
            "newly_approved_rate": self.newly_approved_rate,
            "newly_declined_rate": self.newly_declined_rate,
            "approval_ratio": self.approval_ratio,
            "decline_ratio": self.decline_ratio,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionChanges:
        return cls(**data)


@dataclass(frozen=True)
class GroupComparison:
    """A group of a segment (or ``"overall"``): its rows under each version and every metric change."""

    group: str
    champion_count: int
    challenger_count: int  # equal to champion_count when paired
    metrics: tuple[MetricChange, ...]
    changes: DecisionChanges | None = None
    insufficient: bool = False  # below the minimum group size: shown, never tested or judged
    unknown: bool = False

    def metric(self, name: str) -> MetricChange:
        for m in self.metrics:
            if m.metric == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "champion_count": self.champion_count,
            "challenger_count": self.challenger_count,
            "insufficient": self.insufficient,
            "unknown": self.unknown,
            "metrics": [m.to_dict() for m in self.metrics],
            "changes": None if self.changes is None else self.changes.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupComparison:
        changes = data.get("changes")
        return cls(
            group=data["group"],
            champion_count=data["champion_count"],
            challenger_count=data["challenger_count"],
            metrics=tuple(MetricChange.from_dict(m) for m in data["metrics"]),
            changes=None if changes is None else DecisionChanges.from_dict(changes),
            insufficient=data.get("insufficient", False),
            unknown=data.get("unknown", False),
        )


@dataclass(frozen=True)
class GapChange:
    """A segment-wide fairness gap under both versions and its change, with a bootstrap interval."""

    name: str  # one of GAPS
    convention: str
    champion: float | None
    challenger: float | None
    difference: float | None
    ci: Interval
    insufficient: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "convention": self.convention,
            "champion": self.champion,
            "challenger": self.challenger,
            "difference": self.difference,
            "ci": _pair(self.ci),
            "insufficient": self.insufficient,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GapChange:
        return cls(**{**data, "ci": _interval(data["ci"])})


@dataclass(frozen=True)
class ChangeTest:
    """Whether decision changes fall disproportionately on some groups of a segment.

    Pearson's chi-square test of homogeneity over the judged groups x (newly approved, newly
    declined, unchanged); ``p_holm`` is adjusted across segments.
    """

    statistic: float | None
    dof: int
    p_value: float | None
    p_holm: float | None = None
    groups: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": "chi_square_homogeneity",
            "statistic": self.statistic,
            "dof": self.dof,
            "p_value": self.p_value,
            "p_holm": self.p_holm,
            "groups": list(self.groups),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChangeTest:
        return cls(
            statistic=data["statistic"],
            dof=data["dof"],
            p_value=data["p_value"],
            p_holm=data.get("p_holm"),
            groups=tuple(data.get("groups", ())),
        )


@dataclass(frozen=True)
class SegmentComparison:
    name: str
    attributes: tuple[str, ...]
    groups: tuple[GroupComparison, ...]
    gaps: tuple[GapChange, ...]
    change_test: ChangeTest | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "attributes": list(self.attributes),
            "groups": [g.to_dict() for g in self.groups],
            "gaps": [g.to_dict() for g in self.gaps],
            "change_test": None if self.change_test is None else self.change_test.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentComparison:
        test = data.get("change_test")
        return cls(
            name=data["name"],
            attributes=tuple(data["attributes"]),
            groups=tuple(GroupComparison.from_dict(g) for g in data["groups"]),
            gaps=tuple(GapChange.from_dict(g) for g in data["gaps"]),
            change_test=None if test is None else ChangeTest.from_dict(test),
        )


@dataclass(frozen=True)
class HolmFamily:
    """The tests one Holm correction runs over, stated so a reader knows what was corrected for."""

    metric: str
    test: str
    size: int
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "test": self.test, "size": self.size, "description": self.description}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HolmFamily:
        return cls(**data)


@dataclass(frozen=True)
class Coverage:
    """Which rows were compared: a paired comparison never drops a row silently."""

    design: str  # PAIRED or UNPAIRED
    champion_rows: int
    challenger_rows: int
    compared_rows: int  # paired: rows in both; unpaired: all rows of both
    only_champion: int = 0
    only_challenger: int = 0
    joined_on: str | None = None  # the row-id column two logs were joined by

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "champion_rows": self.champion_rows,
            "challenger_rows": self.challenger_rows,
            "compared_rows": self.compared_rows,
            "only_champion": self.only_champion,
            "only_challenger": self.only_challenger,
            "joined_on": self.joined_on,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Coverage:
        return cls(**data)


@dataclass(frozen=True)
class RelianceChange:
    """Mean |SHAP| of one feature under both versions, overall (``scope="overall"``) or for a group."""

    feature: str
    scope: str  # "overall" or "sex=Female"
    champion: float | None
    challenger: float | None
    difference: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "scope": self.scope,
            "champion": self.champion,
            "challenger": self.challenger,
            "difference": self.difference,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RelianceChange:
        return cls(**data)


@dataclass(frozen=True)
class ComparisonResult:
    params: dict[str, Any]
    design: str
    confidence_level: float
    positive_label: str
    coverage: Coverage
    overall: GroupComparison
    segments: tuple[SegmentComparison, ...]
    families: tuple[HolmFamily, ...]
    engine_version: str
    reliance: tuple[RelianceChange, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "design": self.design,
            "confidence_level": self.confidence_level,
            "positive_label": self.positive_label,
            "coverage": self.coverage.to_dict(),
            "overall": self.overall.to_dict(),
            "segments": [s.to_dict() for s in self.segments],
            "families": [f.to_dict() for f in self.families],
            "reliance": [r.to_dict() for r in self.reliance],
            "engine_version": self.engine_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComparisonResult:
        return cls(
            params=data["params"],
            design=data["design"],
            confidence_level=data["confidence_level"],
            positive_label=data["positive_label"],
            coverage=Coverage.from_dict(data["coverage"]),
            overall=GroupComparison.from_dict(data["overall"]),
            segments=tuple(SegmentComparison.from_dict(s) for s in data["segments"]),
            families=tuple(HolmFamily.from_dict(f) for f in data["families"]),
            engine_version=data["engine_version"],
            reliance=tuple(RelianceChange.from_dict(r) for r in data.get("reliance", ())),
        )

    def with_reliance(self, reliance: tuple[RelianceChange, ...]) -> ComparisonResult:
        return ComparisonResult(**{**self.__dict__, "reliance": reliance})

    def observations(self) -> list[Observation]:
        """``compare.<metric>_difference`` per scope (``overall``, ``sex=Female``) and
        ``compare.<gap>_change`` per segment, each with its interval: the shape non-inferiority rules
        judge (``on: ci_low``, ``>=`` minus the margin)."""
        level = f"{self.confidence_level:.0%} interval"
        out: list[Observation] = []
        scoped = [("overall", self.overall)] + [
            (f"{seg.name}={g.group}", g) for seg in self.segments for g in seg.groups
        ]
        for scope, group in scoped:
            n = min(group.champion_count, group.challenger_count)
            for m in group.metrics:
                out.append(
                    Observation(
                        metric=f"compare.{m.metric}_difference",
                        scope=scope,
                        value=m.difference,
                        ci_low=m.ci[0],
                        ci_high=m.ci[1],
                        n=n,
                        insufficient=group.insufficient,
                        detail=f"challenger - champion, {self.design}; {level}, {m.interval_method}",
                    )
                )
        for seg in self.segments:
            for gap in seg.gaps:
                out.append(
                    Observation(
                        metric=f"compare.{gap.name}_change",
                        scope=seg.name,
                        value=gap.difference,
                        ci_low=gap.ci[0],
                        ci_high=gap.ci[1],
                        insufficient=gap.insufficient,
                        detail=f"challenger - champion; {gap.convention}; {level}",
                    )
                )
        return out


def reliance_changes(champion: Explanation, challenger: Explanation) -> tuple[RelianceChange, ...]:
    """Mean |SHAP| per feature under each version, overall and per group both explanations measured.

    Features only one version uses keep ``None`` on the other side. Values are in each model's own
    output space (say log-odds), so a change reads as "relies more / less on", not as an effect size.
    """

    def table(importances: Any) -> dict[str, float]:
        return {i.feature: i.mean_abs_shap for i in importances}

    def changes(scope: str, a: dict[str, float], b: dict[str, float]) -> list[RelianceChange]:
        out = []
        for feature in list(a) + [f for f in b if f not in a]:
            x, y = a.get(feature), b.get(feature)
            difference = None if x is None or y is None else y - x
            out.append(RelianceChange(feature, scope, x, y, difference))
        return out

    result = changes("overall", table(champion.global_importance), table(challenger.global_importance))
    theirs = {(g.attribute, g.group): g for g in challenger.segments}
    for group in champion.segments:
        other = theirs.get((group.attribute, group.group))
        if other is not None and not group.insufficient and not other.insufficient:
            scope = f"{group.attribute}={group.group}"
            result += changes(scope, table(group.importances), table(other.importances))
    return tuple(result)
