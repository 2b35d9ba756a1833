"""Analysis runs: one computed analysis, recorded so that it can be cited and reproduced.

A run names what it is (``kind``, e.g. ``"fairness"``, ``"drift"``, ``"shap"``), the evidence it read
(``inputs``: role -> SHA-256), its ``parameters`` and the ``engine_version`` that computed it. Two
requests with the same kind, model version, inputs, parameters and engine version are the same
request (``request_hash``), so a stored result is reused rather than computed and stored twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from signoff.domain.audit import format_utc
from signoff.domain.canonical import canonical_hash
from signoff.domain.errors import SignoffError

Result = TypeVar("Result")

SHAP_KIND = "shap"  # the analysis-run kind under which explanations are stored


def request_hash(
    *,
    kind: str,
    model_version_id: int | None,
    inputs: dict[str, str],
    parameters: dict[str, Any],
    engine_version: str,
) -> str:
    """SHA-256 of the canonical form of everything that determines an analysis result."""
    return canonical_hash(
        {
            "kind": kind,
            "model_version_id": model_version_id,
            "inputs": inputs,
            "parameters": parameters,
            "engine_version": engine_version,
        }
    )


@dataclass(frozen=True)
class AnalysisRun:
    id: int
    kind: str
    model_version_id: int | None
    inputs: dict[str, str]  # role -> SHA-256 of the evidence read, e.g. {"log": "ab12..."}
    parameters: dict[str, Any]
    engine_version: str  # e.g. "signoff.analysis.fairness 0.1.0; fairlearn 0.15"
    result: dict[str, Any]  # plain JSON values (NaN has no JSON form: use None)
    result_sha256: str
    created_at: datetime
    created_by: str

    @property
    def request_sha256(self) -> str:
        return request_hash(
            kind=self.kind,
            model_version_id=self.model_version_id,
            inputs=self.inputs,
            parameters=self.parameters,
            engine_version=self.engine_version,
        )

    def result_as(self, result_type: type[Result]) -> Result:
        """The stored result decoded as ``result_type``, which must be the result type of this kind."""
        from signoff.domain.analysis_kinds import ANALYSIS_KINDS  # the registry imports every result type

        kind = ANALYSIS_KINDS.get(self.kind)
        if kind is not None and kind.result_type is not result_type:
            raise SignoffError(
                f"analysis run {self.id} is a {self.kind} run; its result is a {kind.result_type.__name__}, "
                f"not a {result_type.__name__}"
            )
        return result_type.from_dict(self.result)  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "model_version_id": self.model_version_id,
            "inputs": dict(self.inputs),
            "parameters": self.parameters,
            "engine_version": self.engine_version,
            "result": self.result,
            "result_sha256": self.result_sha256,
            "created_at": format_utc(self.created_at),
            "created_by": self.created_by,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisRun:
        return cls(
            id=data["id"],
            kind=data["kind"],
            model_version_id=data["model_version_id"],
            inputs=dict(data["inputs"]),
            parameters=data["parameters"],
            engine_version=data["engine_version"],
            result=data["result"],
            result_sha256=data["result_sha256"],
            created_at=datetime.fromisoformat(data["created_at"]),
            created_by=data["created_by"],
        )


def latest_runs(
    runs: Iterable[AnalysisRun],
    *,
    kinds: Collection[str] | None = None,
    reading: Collection[str] | None = None,
    not_reading: Collection[str] = (),
) -> list[AnalysisRun]:
    """The newest run of each kind and inputs, oldest first: a re-run replaces the earlier one, a run
    on other logs adds to it. The report, the policy check and the review bundle all choose this way.

    ``kinds``: only these kinds. ``reading``: only runs that read one of these evidence hashes.
    ``not_reading``: no run that read one of these (a review's bundle leaves out the version's logs
    that were not chosen for it, and every run that read them).
    """
    wanted = None if reading is None else set(reading)
    left_out = set(not_reading)
    latest: dict[str, AnalysisRun] = {}
    for run in runs:
        read = set(run.inputs.values())
        if (kinds is not None and run.kind not in kinds) or read & left_out:
            continue
        if wanted is not None and not read & wanted:
            continue
        key = canonical_hash({"kind": run.kind, "inputs": run.inputs})
        if key not in latest or run.id > latest[key].id:
            latest[key] = run
    return sorted(latest.values(), key=lambda r: r.id)
