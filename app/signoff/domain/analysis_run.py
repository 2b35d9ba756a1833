"""Analysis runs: one computed analysis, recorded so that it can be cited and reproduced.

A run names what it is (``kind``, e.g. ``"fairness"``, ``"drift"``, ``"shap"``), the evidence it read
(``inputs``: role -> SHA-256), its ``parameters`` and the ``engine_version`` that computed it. Two
requests with the same kind, model version, inputs, parameters and engine version are the same
request (``request_hash``), so a stored result is reused rather than computed and stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signoff.domain.audit import format_utc
from signoff.domain.canonical import canonical_hash


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
