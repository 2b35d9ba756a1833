"""Trust decisions: a user lets one pickle artifact, by its hash, be loaded for explanation.

Before deciding, the user sees the advisory picklescan listing of what the pickle imports
(``scan_model_artifact``). The decision is an audit event (``model.artifact_trusted``) carrying the
artifact's SHA-256, the scan shown and who decided; the set of trusted hashes is read back from the
ledger, so a decision can be neither lost nor quietly edited. The actor is the signed-in user when
the caller passes one, else the OS login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from signoff.analysis.model_loading import plan_model_load, scan_pickle, sha256_file
from signoff.domain.errors import ConflictError, InputError
from signoff.domain.explanation import ModelFormat, PickleScan, TrustDecision
from signoff.services.identity import actor_or_login
from signoff.services.model_artifacts import materialised_artifacts
from signoff.services.models import get_model_version
from signoff.storage import Database

TRUSTED = "model.artifact_trusted"


@dataclass(frozen=True)
class ArtifactReview:
    """What a user is shown before deciding: the model file, its format and, for a pickle, its scan."""

    model: str
    file_name: str
    format: ModelFormat
    sha256: str
    scan: PickleScan | None  # None for formats that load without running code
    already_trusted: bool

    @property
    def needs_trust(self) -> bool:
        return self.format.runs_code_on_load and not self.already_trusted

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "file_name": self.file_name,
            "format": self.format.value,
            "sha256": self.sha256,
            "runs_code_on_load": self.format.runs_code_on_load,
            "already_trusted": self.already_trusted,
            "scan": None if self.scan is None else self.scan.to_dict(),
        }


def trusted_artifact_hashes(db: Database) -> frozenset[str]:
    with db.transaction(write=False) as uow:
        events = uow.audit.list(action=TRUSTED)
    return frozenset(e.payload["artifact_sha256"] for e in events)


def scan_model_artifact(db: Database, *, name: str, version: str) -> ArtifactReview:
    """Find the version's model file and, if it is a pickle, scan it statically (nothing is loaded)."""
    model_version = get_model_version(db, name, version)
    with materialised_artifacts(db, model_version) as files:
        plan = plan_model_load(files)
        sha256 = sha256_file(plan.path)
        scan = scan_pickle(plan.path, name=plan.name) if plan.format.runs_code_on_load else None
    return ArtifactReview(
        str(model_version.ref), plan.name, plan.format, sha256, scan, sha256 in trusted_artifact_hashes(db)
    )


def trust_model_artifact(
    db: Database, *, name: str, version: str, reviewed: ArtifactReview, actor: str | None = None
) -> TrustDecision:
    """Record that ``actor`` trusts the pickle they reviewed. Refused if the file changed since."""
    current = scan_model_artifact(db, name=name, version=version)
    if current.sha256 != reviewed.sha256:
        raise ConflictError(
            f"the model file of {current.model} changed since it was reviewed (now sha256 {current.sha256}); "
            "review its scan again before trusting it"
        )
    if current.scan is None:
        raise InputError(
            f"{current.file_name} is a {current.format.value} file: it loads without running code and needs "
            "no trust decision"
        )
    model_version = get_model_version(db, name, version)
    decided_by = actor_or_login(actor)
    decision = TrustDecision(
        artifact_sha256=current.sha256,
        file_name=current.file_name,
        format=current.format,
        decided_by=decided_by,
        decided_at=datetime.now(UTC),
        scan=current.scan,
        model=current.model,
    )
    with db.transaction() as uow:
        uow.audit.append(
            actor=decided_by,
            action=TRUSTED,
            entity=f"model_version:{model_version.id}",
            payload=decision.to_payload(),
        )
    return decision
