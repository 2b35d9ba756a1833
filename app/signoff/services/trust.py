"""Trust decisions: a user lets one pickle artifact, by its hash, be loaded for explanation.

Before deciding, the user sees the advisory picklescan listing of what the pickle imports
(``scan_model_artifact``). The decision is an audit event (``model.artifact_trusted``) carrying the
artifact's SHA-256, the scan shown and who decided; the set of trusted hashes is read back from the
ledger, so a decision can be neither lost nor quietly edited. Trusting is a signed act of an approver
or administrator (re-authenticated, Ed25519 over the decision's manifest), checked by ``signoff verify``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from signoff.analysis.model_loading import plan_model_load, scan_pickle, sha256_file
from signoff.domain.errors import ConflictError, InputError
from signoff.domain.explanation import ModelFormat, PickleScan, TrustDecision
from signoff.domain.users import Role
from signoff.services.model_artifacts import materialised_artifacts
from signoff.services.models import get_model_version
from signoff.services.security import fingerprint
from signoff.services.signed_acts import TRUSTED, sign_act
from signoff.storage import Database

TRUST_ROLES = frozenset({Role.APPROVER, Role.ADMIN})


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
    db: Database, *, name: str, version: str, reviewed: ArtifactReview, username: str, password: str
) -> TrustDecision:
    """Record that ``username`` (an approver or administrator, re-authenticated with ``password``)
    trusts the pickle they reviewed, signed like a signature. Refused if the file changed since."""
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
    decider, signed = sign_act(
        db,
        username,
        password,
        roles=TRUST_ROLES,
        what="trust a pickle model file",
        purpose=f"trust {current.file_name}",
    )
    model_version = get_model_version(db, name, version)
    draft = TrustDecision(
        artifact_sha256=current.sha256,
        file_name=current.file_name,
        format=current.format,
        decided_by=decider.username,
        decided_at=datetime.now(UTC),
        scan=current.scan,
        model=current.model,
        printed_name=decider.full_name,
        role=(Role.APPROVER if Role.APPROVER in decider.roles else Role.ADMIN).value,
        public_key_fingerprint=fingerprint(decider.public_key),
    )
    decision = replace(draft, signature=signed(draft.manifest()))
    with db.transaction() as uow:
        uow.audit.append(
            actor=decider.username,
            action=TRUSTED,
            entity=f"model_version:{model_version.id}",
            payload=decision.to_payload(),
        )
    return decision
