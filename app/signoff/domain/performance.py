"""Performance results: how well a model did, overall and for every group of every segment.

Binary tasks carry the confusion-table rates plus ROC AUC, Brier score and calibration error;
multiclass tasks carry one-vs-rest rates per class (``tpr[cat]``); regression carries mean prediction,
MAE, RMSE and mean residual. Undefined numbers are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from signoff.domain.codec import Record
from signoff.domain.fairness import GroupMetrics
from signoff.domain.observations import Observation


@dataclass(frozen=True)
class PerformanceSegment(Record):
    name: str
    attributes: tuple[str, ...]
    groups: tuple[GroupMetrics, ...]
    unknown_count: int = 0

    def group(self, label: str) -> GroupMetrics:
        for g in self.groups:
            if g.group == label:
                return g
        raise KeyError(label)


@dataclass(frozen=True)
class PerformanceResult(Record):
    JSON_CONSTANTS: ClassVar[dict[str, Any]] = {"kind": "performance"}
    params: dict[str, Any]
    task: str  # "binary", "multiclass" or "regression"
    n_rows: int
    overall: GroupMetrics
    segments: tuple[PerformanceSegment, ...]
    classes: tuple[str, ...] = ()  # multiclass: the class labels, in the order used
    positive_label: str | None = None  # binary only
    engine_version: str = ""

    def segment(self, name: str) -> PerformanceSegment:
        for s in self.segments:
            if s.name == name:
                return s
        raise KeyError(name)

    def observations(self) -> list[Observation]:
        """Every metric, scoped ``overall`` or ``attr=group`` (``sex&race=Female & Black``)."""
        out: list[Observation] = []

        def add(scope: str, g: GroupMetrics) -> None:
            for name, value in g.metrics.items():
                ci = g.bootstrap.get(name) or g.wilson.get(name) or (None, None)
                out.append(
                    Observation(
                        metric=f"performance.{name}",
                        scope=scope,
                        value=value,
                        ci_low=ci[0],
                        ci_high=ci[1],
                        n=g.count,
                        insufficient=g.insufficient,
                    )
                )

        add("overall", self.overall)
        for seg in self.segments:
            for g in seg.groups:
                add(f"{seg.name}={g.group}", g)
        return out
