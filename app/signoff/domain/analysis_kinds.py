"""The registry of analysis kinds: the one place that says what each kind of analysis run is.

An entry names the kind (the ``kind`` of its stored runs), its request type, its result type (what
``AnalysisRun.result_as`` decodes), how a policy observes its result, where its computation lives and
which engine computed it. A new kind of analysis is one entry here plus its computation, a function
``analyze(request, frames, *, progress, cancelled)`` in ``analysis/``. See docs/architecture.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from signoff.domain.analysis_requests import (
    AnalysisRequest,
    DriftRequest,
    ExplainRequest,
    FairnessRequest,
    MonitoringRequest,
    PerformanceRequest,
    ValidationRequest,
)
from signoff.domain.comparison import ComparisonResult
from signoff.domain.drift import DriftResult
from signoff.domain.errors import InputError
from signoff.domain.explanation import Explanation
from signoff.domain.fairness import FairnessResult, MonitoringResult
from signoff.domain.observations import Observation
from signoff.domain.performance import PerformanceResult
from signoff.domain.validation import ValidationAnalysis


@dataclass(frozen=True)
class AnalysisKind:
    name: str
    request_type: type[AnalysisRequest] | None  # None: its use case builds no request (compare)
    result_type: type[Any]  # a frozen domain result with ``from_dict`` / ``to_dict``
    # How a policy observes a result; None: a rule on this kind stays "missing" (not judged yet).
    observe: Callable[[Any], list[Observation]] | None
    # "module:function" of the computation, imported only when a run is computed (it needs numpy);
    # None: its own use case computes it (SHAP loads a model file only after a trust decision).
    computation: str | None
    # The engine named in every run: "<engine> <signoff version>[; <package> <version> ...]".
    engine: str
    engine_packages: tuple[str, ...] = ()

    def decode(self, result: dict[str, Any]) -> Any:
        return self.result_type.from_dict(result)


ANALYSIS_KINDS: dict[str, AnalysisKind] = {
    kind.name: kind
    for kind in (
        AnalysisKind(
            name=FairnessRequest.kind,
            request_type=FairnessRequest,
            result_type=FairnessResult,
            observe=FairnessResult.observations,
            computation="signoff.analysis.fairness:analyze",
            engine="signoff.analysis",
        ),
        AnalysisKind(
            name=PerformanceRequest.kind,
            request_type=PerformanceRequest,
            result_type=PerformanceResult,
            observe=PerformanceResult.observations,
            computation="signoff.analysis.performance:analyze",
            engine="signoff.analysis",
        ),
        AnalysisKind(
            name=MonitoringRequest.kind,
            request_type=MonitoringRequest,
            result_type=MonitoringResult,
            observe=MonitoringResult.observations,
            computation="signoff.analysis.monitoring:analyze",
            engine="signoff.analysis",
        ),
        AnalysisKind(
            name=DriftRequest.kind,
            request_type=DriftRequest,
            result_type=DriftResult,
            observe=DriftResult.observations,
            computation="signoff.analysis.drift:analyze",
            engine="signoff.analysis.drift",
            engine_packages=("scipy",),
        ),
        AnalysisKind(
            name=ValidationRequest.kind,
            request_type=ValidationRequest,
            result_type=ValidationAnalysis,
            observe=ValidationAnalysis.observations,
            computation="signoff.analysis.profiles:analyze",
            engine="signoff.analysis.profiles",
        ),
        AnalysisKind(
            name=ExplainRequest.kind,
            request_type=ExplainRequest,
            result_type=Explanation,
            observe=None,
            computation=None,
            engine="signoff.analysis.explain",
            engine_packages=("shap",),
        ),
        AnalysisKind(
            name="compare",
            request_type=None,
            result_type=ComparisonResult,
            observe=ComparisonResult.observations,
            computation=None,
            engine="signoff.analysis.compare",
        ),
    )
}


def analysis_kind(name: str) -> AnalysisKind:
    try:
        return ANALYSIS_KINDS[name]
    except KeyError:
        raise InputError(
            f"no analysis of kind {name!r}; the kinds are {', '.join(sorted(ANALYSIS_KINDS))}"
        ) from None


def run_observations(kind: str, inputs: Mapping[str, str], result: Any) -> list[Observation]:
    """A run's observations as a policy judges them (``result``: the decoded result of a run of ``kind``);
    each names the evidence it came from, because with several logs the same metric and scope is
    observed once per log. Verifying a report judges the recomputed results with it again."""
    entry = ANALYSIS_KINDS.get(kind)
    if entry is None or entry.observe is None:  # a rule on it stays "missing" until it can be judged
        return []
    source = ", ".join(f"{role} {sha[:12]}" for role, sha in sorted(inputs.items()))
    return [
        dataclasses.replace(o, detail=f"{o.detail} ({source})" if o.detail else source)
        for o in entry.observe(result)
    ]
