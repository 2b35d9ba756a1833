"""What the stored rows must say, derived only from the audit log's events (which the hash chain protects).

A review's state follows from the signatures recorded when it was signed (only those that verify count),
a user's roles and keys from the audited creation, grants and password resets, a waiver, an analysis
result's hash, a log's evidence hash and a condition's closing from the event that recorded them. ``signoff verify`` compares each stored row with what
is derived here and names every row that disagrees: a row edited behind Signoff's back has no event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from signoff.domain.audit import AuditEvent
from signoff.domain.review import (
    OPEN_STATES,
    Review,
    ReviewState,
    Signature,
    SignatureMeaning,
    SignatureRequirement,
    decide,
)
from signoff.domain.users import Role

# The actions whose events say what a row must hold; the rest of the log is not needed to derive rows.
USER_CREATED = "user.created"
USER_ROLES_CHANGED = "user.roles_changed"  # payload {"before", "after"}: an administrator's audited grant
USER_DISABLED = "user.disabled"
USER_ENABLED = "user.enabled"
# A reset gives the account a new key pair (payload "public_key_fingerprint") and retires the old one
# ("retired_key_fingerprint"); the owner must then change the password, which clears that flag.
USER_PASSWORD_RESET = "user.password_reset"
USER_PASSWORD_CHANGED = "user.password_changed"
CONDITION_CLOSED = "condition.closed"
REVIEW_OPENED = "review.opened"
REVIEW_SUBMITTED = "review.submitted"
REVIEW_SIGNED = "review.signed"
REVIEW_REVOKED = "review.revoked"
REVIEW_SUPERSEDED = "review.superseded"
WAIVER_GRANTED = "waiver.granted"
ANALYSIS_RECORDED = "analysis.recorded"
POLICY_EVALUATED = "policy.evaluated"
LOG_IMPORTED = "log.imported"
DERIVING_ACTIONS = frozenset(
    {
        USER_CREATED,
        USER_ROLES_CHANGED,
        USER_DISABLED,
        USER_ENABLED,
        USER_PASSWORD_RESET,
        USER_PASSWORD_CHANGED,
        REVIEW_OPENED,
        REVIEW_SUBMITTED,
        REVIEW_SIGNED,
        REVIEW_REVOKED,
        REVIEW_SUPERSEDED,
        WAIVER_GRANTED,
        ANALYSIS_RECORDED,
        POLICY_EVALUATED,
        LOG_IMPORTED,
        CONDITION_CLOSED,
    }
)

# (username, manifest, signature hex) -> does the Ed25519 signature verify under the audited key?
SignatureCheck = Callable[[str, Mapping[str, Any], str], bool]


@dataclass(frozen=True)
class RowProblem:
    """A stored row that disagrees with its events or its hash; ``row`` names it (id, hash or username)."""

    table: str
    row: str
    problem: str

    def __str__(self) -> str:
        return f"{self.table} {self.row}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "row": self.row, "problem": self.problem}


@dataclass
class DerivedUser:
    username: str
    full_name: str
    roles: frozenset[str]
    disabled: bool
    key_fingerprint: str  # the key the account signs with now
    retired_fingerprints: list[str] = field(default_factory=list)  # keys retired by resets, oldest first
    must_change_password: bool = False


@dataclass
class DerivedReview:
    review_id: int
    model_version_id: int | None
    opened_by: str
    requirements: tuple[SignatureRequirement, ...]
    state: ReviewState = ReviewState.DRAFT
    signatures: list[Signature] = field(default_factory=list)
    signature_ids: set[int] = field(default_factory=set)  # audited signings whose signature verifies
    problems: list[str] = field(default_factory=list)  # events that do not fit (e.g. a role not held)


@dataclass
class DerivedRecords:
    """Everything the audit log says the rows must hold."""

    users: dict[str, DerivedUser] = field(default_factory=dict)
    reviews: dict[int, DerivedReview] = field(default_factory=dict)
    waivers: dict[int, dict[str, Any]] = field(default_factory=dict)  # waiver id -> granted payload
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)  # run id -> recorded payload
    logs: dict[int, dict[str, Any]] = field(default_factory=dict)  # log id -> imported payload
    signings: dict[int, dict[str, Any]] = field(default_factory=dict)  # signature id -> signed payload
    closings: dict[int, AuditEvent] = field(default_factory=dict)  # condition id -> its closing event


def entity_id(event: AuditEvent) -> int | None:
    """The number in ``review:7``; None when the entity names no numbered row."""
    _, _, tail = event.entity.partition(":")
    return int(tail) if tail.isdigit() else None


def derive_records(events: Iterable[AuditEvent], signature_valid: SignatureCheck) -> DerivedRecords:
    """Replay the events in sequence order; each one of ``DERIVING_ACTIONS`` moves the derived rows."""
    derived = DerivedRecords()
    for event in events:
        payload = event.payload if isinstance(event.payload, dict) else {}
        number = entity_id(event)
        action = event.action
        if action.startswith("user."):
            _derive_user(derived, event, payload)
        elif action.startswith("review.") and number is not None:
            _derive_review(derived, event, number, payload, signature_valid)
        elif action == WAIVER_GRANTED and number is not None:
            derived.waivers[number] = payload
        elif action in (ANALYSIS_RECORDED, POLICY_EVALUATED) and number is not None:
            derived.runs[number] = payload
        elif action == LOG_IMPORTED and number is not None:
            derived.logs[number] = payload
        elif action == CONDITION_CLOSED and number is not None:
            derived.closings[number] = event
    return derived


def _derive_user(derived: DerivedRecords, event: AuditEvent, payload: dict[str, Any]) -> None:
    username = event.entity.partition(":")[2]
    if event.action == USER_CREATED:
        derived.users[username] = DerivedUser(
            username=username,
            full_name=str(payload.get("full_name", "")),
            roles=frozenset(str(r) for r in payload.get("roles", [])),
            disabled=False,
            key_fingerprint=str(payload.get("public_key_fingerprint", "")),
        )
        return
    user = derived.users.get(username)
    if user is None:
        return
    if event.action == USER_ROLES_CHANGED:
        user.roles = frozenset(str(r) for r in payload.get("after", []))
    elif event.action == USER_DISABLED:
        user.disabled = True
    elif event.action == USER_ENABLED:
        user.disabled = False
    elif event.action == USER_PASSWORD_RESET:
        user.retired_fingerprints.append(str(payload.get("retired_key_fingerprint", "")))
        user.key_fingerprint = str(payload.get("public_key_fingerprint", ""))
        user.must_change_password = True
    elif event.action == USER_PASSWORD_CHANGED:
        user.must_change_password = False


def _derive_review(
    derived: DerivedRecords,
    event: AuditEvent,
    review_id: int,
    payload: dict[str, Any],
    signature_valid: SignatureCheck,
) -> None:
    if event.action == REVIEW_OPENED:
        version = payload.get("model_version")
        derived.reviews[review_id] = DerivedReview(
            review_id=review_id,
            model_version_id=version.get("id") if isinstance(version, dict) else None,
            opened_by=event.actor,
            requirements=tuple(
                SignatureRequirement(Role(r["role"]), int(r["count"]))
                for r in payload.get("required_signatures", [])
            ),
        )
        return
    review = derived.reviews.get(review_id)
    if review is None:
        return
    if event.action == REVIEW_SUBMITTED:
        review.state = ReviewState.IN_REVIEW
    elif event.action == REVIEW_REVOKED:
        review.state = ReviewState.REVOKED
    elif event.action == REVIEW_SUPERSEDED:
        review.state = ReviewState.SUPERSEDED
    elif event.action == REVIEW_SIGNED:
        _derive_signing(derived, review, event, payload, signature_valid)


def _derive_signing(
    derived: DerivedRecords,
    review: DerivedReview,
    event: AuditEvent,
    payload: dict[str, Any],
    signature_valid: SignatureCheck,
) -> None:
    signature_id = payload.get("signature_id")
    if isinstance(signature_id, int):
        derived.signings[signature_id] = payload
    manifest = payload.get("manifest")
    if not isinstance(manifest, dict):
        review.problems.append(f"audit event {event.sequence} records a signing without its manifest")
        return
    signature = signature_from_manifest(manifest, payload, signature_id)
    if signature is None:
        review.problems.append(f"audit event {event.sequence} records a signing with an unreadable manifest")
        return
    signer = derived.users.get(signature.signer)
    if not signature_valid(signature.signer, manifest, str(payload.get("signature", ""))):
        review.problems.append(
            f"the signing recorded in audit event {event.sequence} does not verify under "
            f"{signature.signer!r}'s audited key: it does not count"
        )
        return
    if signer is not None and signature.public_key_fingerprint != signer.key_fingerprint:
        review.problems.append(
            f"the signing recorded in audit event {event.sequence} names a key that was not "
            f"{signature.signer!r}'s audited key at that time (a retired or unknown key): it does not count"
        )
        return
    if signer is None or signature.role.value not in signer.roles:
        held = "no account" if signer is None else ", ".join(sorted(signer.roles)) or "no roles"
        review.problems.append(
            f"{signature.signer!r} signed as {signature.role.value} (audit event {event.sequence}) but "
            f"held {held} by the audited grants at that time: the signature does not count"
        )
        return
    if review.state not in OPEN_STATES:
        review.problems.append(
            f"audit event {event.sequence} records a signature while the review was {review.state.value}"
        )
        return
    review.signatures.append(signature)
    if isinstance(signature_id, int):
        review.signature_ids.add(signature_id)
    # The state follows from the signatures over the bundle just signed, by the domain's own rule.
    probe = Review(
        id=review.review_id,
        model_version_id=review.model_version_id or 0,
        state=ReviewState.IN_REVIEW,
        opened_by=review.opened_by,
        opened_at=signature.signed_at,
        bundle_hash=signature.bundle_hash,
        requirements=review.requirements,
        signatures=tuple(review.signatures),
    )
    review.state = decide(probe)


def signature_from_manifest(
    manifest: Mapping[str, Any], payload: Mapping[str, Any], signature_id: Any
) -> Signature | None:
    """The signature a ``review.signed`` event records, or None when its manifest cannot be read."""
    conditions = manifest.get("conditions")
    try:
        return Signature(
            review_id=int(manifest["review_id"]),
            signer=str(manifest["username"]),
            printed_name=str(manifest["printed_name"]),
            role=Role(manifest["role"]),
            meaning=SignatureMeaning(manifest["meaning"]),
            signed_at=datetime.fromisoformat(str(manifest["signed_at"]).replace("Z", "+00:00")),
            bundle_hash=str(manifest["bundle_hash"]),
            signature=bytes.fromhex(str(payload.get("signature", ""))),
            public_key_fingerprint=str(payload.get("public_key_fingerprint", "")),
            id=signature_id if isinstance(signature_id, int) else None,
            justification=manifest.get("justification"),
            conditions=tuple(conditions) if isinstance(conditions, list) else None,
        )
    except (KeyError, TypeError, ValueError):
        return None
