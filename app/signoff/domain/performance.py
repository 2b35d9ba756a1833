"""Performance results: how well a model did, overall and for every group of every segment.

Binary tasks carry the confusion-table rates plus ROC AUC, Brier score and calibration error;
multiclass tasks carry one-vs-rest rates per class (``tpr[cat]``); regression carries mean prediction,
MAE, RMSE and mean residual. Undefined numbers are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signoff.domain.fairness import GroupMetrics
from signoff.domain.observations import Observation


@dataclass(frozen=True)
class PerformanceSegment:
    name: str
    attributes: tuple[str, ...]
    groups: tuple[GroupMetrics, ...]
    unknown_count: int = 0

    def group(self, label: str) -> GroupMetrics:
        for g in self.groups:
            if g.group == label:
                return g
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "attributes": list(self.attributes),
            "unknown_count": self.unknown_count,
            "groups": [g.to_dict() for g in self.groups],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerformanceSegment:
        return cls(
            name=data["name"],
            attributes=tuple(data["attributes"]),
            groups=tuple(GroupMetrics.from_dict(g) for g in data["groups"]),
            unknown_count=data.get("unknown_count", 0),
        )


@dataclass(frozen=True)
class PerformanceResult:
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "performance",
            "engine_version": self.engine_version,
            "params": dict(self.params),
            "task": self.task,
            "n_rows": self.n_rows,
            "classes": list(self.classes),
            "positive_label": self.positive_label,
            "overall": self.overall.to_dict(),
            "segments": [s.to_dict() for s in self.segments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerformanceResult:
        return cls(
            params=dict(data["params"]),
            task=data["task"],
            n_rows=data["n_rows"],
            overall=GroupMetrics.from_dict(data["overall"]),
            segments=tuple(PerformanceSegment.from_dict(s) for s in data["segments"]),
            classes=tuple(data.get("classes", ())),
            positive_label=data.get("positive_label"),
            engine_version=data.get("engine_version", ""),
        )

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
