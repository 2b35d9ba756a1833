"""The registry of analysis kinds: the one place that says what each kind of analysis run is.

An entry names the kind (the ``kind`` of its stored runs), its request type, its result type (what
``AnalysisRun.result_as`` decodes), whether a policy observes its result, where its computation lives
and which engine computed it. A new kind of analysis is one entry here plus its computation, a function
``analyze(request, frames, *, progress, cancelled)`` in ``analysis/``. See docs/architecture.md.
Types are named "module:Name" and imported when first asked for, so that a command touching one kind
does not import every result type (start-up time).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from signoff.domain.errors import InputError

if TYPE_CHECKING:
    from signoff.domain.analysis_requests import AnalysisRequest
    from signoff.domain.observations import Observation

_DOMAIN = "signoff.domain."


def _resolve(where: str) -> Any:
    module, _, name = where.partition(":")
    return getattr(importlib.import_module(_DOMAIN + module), name)


@dataclass(frozen=True)
class AnalysisKind:
    name: str
    request: str | None  # "module:Name" below signoff.domain; None: its use case builds no request (compare)
    result: str  # "module:Name" of a frozen domain result with ``from_dict`` / ``to_dict``
    # Whether a policy observes a result (its ``observations()``); if not, a rule on this kind stays
    # "missing" (not judged yet).
    observed: bool
    # "module:function" of the computation, imported only when a run is computed (it needs numpy);
    # None: its own use case computes it (SHAP loads a model file only after a trust decision).
    computation: str | None
    # The engine named in every run: "<engine> <signoff version>[; <package> <version> ...]".
    engine: str
    engine_packages: tuple[str, ...] = ()
    # Its computation takes a stored log's rows as Arrow tables (no pandas import), not DataFrames.
    reads_arrow: bool = False

    @cached_property
    def request_type(self) -> type[AnalysisRequest] | None:
        return None if self.request is None else _resolve(self.request)

    @cached_property
    def result_type(self) -> type[Any]:
        return _resolve(self.result)

    @property
    def observe(self) -> Callable[[Any], list[Observation]] | None:
        return self.result_type.observations if self.observed else None

    def decode(self, result: dict[str, Any]) -> Any:
        return self.result_type.from_dict(result)


ANALYSIS_KINDS: dict[str, AnalysisKind] = {
    kind.name: kind
    for kind in (
        AnalysisKind(
            name="fairness",
            request="analysis_requests:FairnessRequest",
            result="fairness:FairnessResult",
            observed=True,
            computation="signoff.analysis.fairness:analyze",
            engine="signoff.analysis",
            reads_arrow=True,
        ),
        AnalysisKind(
            name="performance",
            request="analysis_requests:PerformanceRequest",
            result="performance:PerformanceResult",
            observed=True,
            computation="signoff.analysis.performance:analyze",
            engine="signoff.analysis",
        ),
        AnalysisKind(
            name="monitoring",
            request="analysis_requests:MonitoringRequest",
            result="fairness:MonitoringResult",
            observed=True,
            computation="signoff.analysis.monitoring:analyze",
            engine="signoff.analysis",
        ),
        AnalysisKind(
            name="drift",
            request="analysis_requests:DriftRequest",
            result="drift:DriftResult",
            observed=True,
            computation="signoff.analysis.drift:analyze",
            engine="signoff.analysis.drift",
            engine_packages=("scipy",),
        ),
        AnalysisKind(
            name="validation",
            request="analysis_requests:ValidationRequest",
            result="validation:ValidationAnalysis",
            observed=True,
            computation="signoff.analysis.profiles:analyze",
            engine="signoff.analysis.profiles",
        ),
        AnalysisKind(
            name="shap",
            request="analysis_requests:ExplainRequest",
            result="explanation:Explanation",
            observed=False,
            computation=None,
            engine="signoff.analysis.explain",
            engine_packages=("shap",),
        ),
        AnalysisKind(
            name="compare",
            request=None,
            result="comparison:ComparisonResult",
            observed=True,
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
