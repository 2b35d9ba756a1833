"""Champion vs challenger: how a new model version differs from the one it would replace, and for whom.

A comparison is *paired* when both versions scored the same rows (shadow mode, a back-test) and
*unpaired* when each served its own traffic (an A/B test); the tests differ accordingly. Every
difference is challenger minus champion, per segment group, with an interval, a test and a
Holm-adjusted p value within a stated family. Numbers that cannot be computed are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from signoff.domain.codec import Record
from signoff.domain.explanation import Explanation
from signoff.domain.observations import Observation

Interval = tuple[float | None, float | None]

PAIRED = "paired"
UNPAIRED = "unpaired"
COMPARED_METRICS = ("accuracy", "tpr", "fpr", "selection_rate", "precision", "roc_auc")
GAPS = ("impact_ratio", "demographic_parity_difference", "equalized_odds_difference")


@dataclass(frozen=True)
class MetricChange(Record):
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


@dataclass(frozen=True)
class DecisionChanges(Record):
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


@dataclass(frozen=True)
class GroupComparison(Record):
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


@dataclass(frozen=True)
class GapChange(Record):
    """A segment-wide fairness gap under both versions and its change, with a bootstrap interval."""

    name: str  # one of GAPS
    convention: str
    champion: float | None
    challenger: float | None
    difference: float | None
    ci: Interval
    insufficient: bool = False


@dataclass(frozen=True)
class ChangeTest(Record):
    """Whether decision changes fall disproportionately on some groups of a segment.

    Pearson's chi-square test of homogeneity over the judged groups x (newly approved, newly
    declined, unchanged); ``p_holm`` is adjusted across segments.
    """

    JSON_CONSTANTS: ClassVar[dict[str, Any]] = {"test": "chi_square_homogeneity"}

    statistic: float | None
    dof: int
    p_value: float | None
    p_holm: float | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class SegmentComparison(Record):
    name: str
    attributes: tuple[str, ...]
    groups: tuple[GroupComparison, ...]
    gaps: tuple[GapChange, ...]
    change_test: ChangeTest | None = None


@dataclass(frozen=True)
class HolmFamily(Record):
    """The tests one Holm correction runs over, stated so a reader knows what was corrected for."""

    metric: str
    test: str
    size: int
    description: str


@dataclass(frozen=True)
class Coverage(Record):
    """Which rows were compared: a paired comparison never drops a row silently."""

    design: str  # PAIRED or UNPAIRED
    champion_rows: int
    challenger_rows: int
    compared_rows: int  # paired: rows in both; unpaired: all rows of both
    only_champion: int = 0
    only_challenger: int = 0
    joined_on: str | None = None  # the row-id column two logs were joined by


@dataclass(frozen=True)
class RelianceChange(Record):
    """Mean |SHAP| of one feature under both versions, overall (``scope="overall"``) or for a group."""

    feature: str
    scope: str  # "overall" or "sex=Female"
    champion: float | None
    challenger: float | None
    difference: float | None


@dataclass(frozen=True)
class ComparisonResult(Record):
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
