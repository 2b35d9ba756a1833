"""The evidence bundle: everything a signer is shown, reduced to one SHA-256.

A bundle holds the model version record, the chosen prediction logs (by evidence hash), the analysis
runs (by id and result hash), the policy evaluation (by hash) and the review's findings. Its canonical
JSON is hashed with ``canonical_hash``; a signature binds that hash, so a new log, a re-run analysis or an
edited finding gives a different hash and leaves earlier signatures visibly stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signoff.domain.audit import format_utc
from signoff.domain.canonical import canonical_hash
from signoff.domain.decision import NOT_EVALUATED, Condition, PolicyVerdict
from signoff.domain.prediction_log import PredictionLog
from signoff.domain.registry import ModelVersion
from signoff.domain.review import Finding, Review

BUNDLE_FORMAT = "signoff.evidence-bundle/1"


@dataclass(frozen=True)
class BundleLog:
    log_id: int
    evidence_sha256: str
    role: str
    rows: int
    source_name: str

    @classmethod
    def of(cls, log: PredictionLog) -> BundleLog:
        return cls(log.id, log.evidence_sha256, str(log.role), log.rows, log.source_name)

    def content(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "evidence_sha256": self.evidence_sha256,
            "role": self.role,
            "rows": self.rows,
            "source_name": self.source_name,
        }


@dataclass(frozen=True)
class BundleAnalysis:
    run_id: int
    kind: str  # e.g. "fairness", "performance", "drift", "explain"
    result_sha256: str
    produced_by: str = ""  # who ran it: never the approver (four-eyes)

    def content(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "result_sha256": self.result_sha256,
            "produced_by": self.produced_by,
        }


def model_version_record(version: ModelVersion) -> dict[str, Any]:
    """The model version as the bundle records it: identity, source and registry attributes."""
    return {
        "id": version.id,
        "name": version.name,
        "version": version.version,
        "description": version.description,
        "source": version.source,
        "created_at": format_utc(version.created_at) if version.created_at else None,
        "attributes": version.attributes,
    }


@dataclass(frozen=True)
class EvidenceBundle:
    model_version: dict[str, Any]
    logs: tuple[BundleLog, ...] = ()
    analyses: tuple[BundleAnalysis, ...] = ()
    policy_evaluation_sha256: str | None = None
    findings: tuple[Finding, ...] = ()
    # The version's inventory record (owner, purpose, stage, tier, ...) as it is now; None when nothing
    # is recorded, and then left out of the content, so bundles of models without one hash as before.
    inventory: dict[str, Any] | None = None

    @classmethod
    def assemble(
        cls,
        version: ModelVersion,
        logs: tuple[PredictionLog, ...] | list[PredictionLog],
        analyses: tuple[BundleAnalysis, ...] | list[BundleAnalysis] = (),
        policy_evaluation_sha256: str | None = None,
        findings: tuple[Finding, ...] | list[Finding] = (),
        inventory: dict[str, Any] | None = None,
    ) -> EvidenceBundle:
        """Put the parts in their one canonical order (by id / number), whatever order they came in."""
        return cls(
            model_version=model_version_record(version),
            logs=tuple(sorted((BundleLog.of(log) for log in logs), key=lambda b: b.log_id)),
            analyses=tuple(sorted(analyses, key=lambda a: a.run_id)),
            policy_evaluation_sha256=policy_evaluation_sha256,
            findings=tuple(sorted(findings, key=lambda f: f.number)),
            inventory=inventory,
        )

    def content(self) -> dict[str, Any]:
        content = {
            "format": BUNDLE_FORMAT,
            "model_version": self.model_version,
            "logs": [log.content() for log in self.logs],
            "analyses": [a.content() for a in self.analyses],
            "policy_evaluation_sha256": self.policy_evaluation_sha256,
            "findings": [f.content() for f in self.findings],
        }
        if self.inventory is not None:
            content["inventory"] = self.inventory
        return content

    @property
    def hash(self) -> str:
        return canonical_hash(self.content())

    @property
    def analysts(self) -> frozenset[str]:
        return frozenset(a.produced_by for a in self.analyses if a.produced_by)


@dataclass(frozen=True)
class ReviewStatus:
    """A review as it stands now: ``review.bundle_hash`` is the hash of ``bundle``, assembled just now.

    ``recorded_bundle_hash`` is the bundle the review last recorded (when it was opened, edited or
    signed); when they differ, evidence changed underneath it (say, an analysis was re-run).
    """

    review: Review
    bundle: EvidenceBundle
    recorded_bundle_hash: str
    verdict: PolicyVerdict = NOT_EVALUATED  # of the bundle's policy evaluation
    conditions: tuple[Condition, ...] = ()  # set by an approval with conditions
    # Where the review's row disagrees with its signed and audited events (``signoff verify`` names them).
    integrity_problems: tuple[str, ...] = ()

    @property
    def evidence_changed(self) -> bool:
        return self.recorded_bundle_hash != self.bundle.hash

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.review.to_dict(),
            "recorded_bundle_hash": self.recorded_bundle_hash,
            "evidence_changed": self.evidence_changed,
            "integrity_problems": list(self.integrity_problems),
            "bundle": self.bundle.content(),
            "policy_verdict": self.verdict.to_dict(),
            "conditions": [c.to_dict() for c in self.conditions],
        }
