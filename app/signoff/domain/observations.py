"""Observations: the one shape in which any analysis result is judged against a policy.

Fairness, performance, drift and validation results each turn themselves into observations; a policy
rule names a ``metric`` and a ``scope`` and is evaluated against the matching observation. Keeping
this shape small is what lets the policy engine know nothing about how a number was computed.

Metric names are dotted: ``<analysis>.<metric>``, for example ``fairness.impact_ratio``,
``fairness.equalized_odds_difference``, ``performance.roc_auc``, ``drift.psi``. The scope says what the
number is about: ``"overall"``, an attribute (``"sex"``), an intersection (``"sex&race"``), a group
(``"sex=Female"``) or a column (``"age"`` for drift).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Observation:
    metric: str
    scope: str
    value: float | None  # None when it cannot be computed (e.g. no positives in a group)
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None  # rows behind the number (smallest group for a comparison)
    insufficient: bool = False  # below the minimum group size: never pass or fail
    detail: str = ""  # e.g. "Female vs Male", the convention, or which group was worst

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "scope": self.scope,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
            "insufficient": self.insufficient,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observation:
        return cls(**data)
