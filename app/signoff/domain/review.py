"""Reviews: the sign-off of one model version's evidence, as an explicit state machine.

A reviewer opens a review (draft), writes findings and submits it (in review); signers then sign the
evidence bundle's hash with a meaning (reviewed, approved, approved with conditions, rejected). The
policy says how many signatures of which role an approval needs. Every move is checked here against
``TRANSITIONS`` and the rules of 21 CFR Part 11 as Signoff applies them: signatures bind one bundle hash,
the person who opened a review or produced its analyses cannot sign it as approver (four-eyes), and a
signature over an older bundle hash is kept but no longer counts (the review is stale).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from signoff.domain.audit import format_utc
from signoff.domain.codec import Record
from signoff.domain.errors import ConflictError, InputError, PermissionDenied
from signoff.domain.users import Role, User, check_has_role


class ReviewState(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


OPEN_STATES = frozenset({ReviewState.DRAFT, ReviewState.IN_REVIEW})
DECIDED_STATES = frozenset({ReviewState.APPROVED, ReviewState.APPROVED_WITH_CONDITIONS, ReviewState.REJECTED})
CLOSED_STATES = frozenset({ReviewState.REVOKED, ReviewState.SUPERSEDED})


class ReviewAction(enum.StrEnum):
    EDIT_FINDINGS = "edit_findings"  # add, change, resolve or accept a finding
    CHANGE_EVIDENCE = "change_evidence"  # choose other logs, or take in re-run analyses
    SUBMIT = "submit"
    SIGN = "sign"  # a reviewer's signature: "reviewed"
    APPROVE = "approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions"
    REJECT = "reject"
    REVOKE = "revoke"
    SUPERSEDE = "supersede"


class SignatureMeaning(enum.StrEnum):
    REVIEWED = "reviewed"
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


SIGNING_ACTIONS: Mapping[ReviewAction, SignatureMeaning] = {
    ReviewAction.SIGN: SignatureMeaning.REVIEWED,
    ReviewAction.APPROVE: SignatureMeaning.APPROVED,
    ReviewAction.APPROVE_WITH_CONDITIONS: SignatureMeaning.APPROVED_WITH_CONDITIONS,
    ReviewAction.REJECT: SignatureMeaning.REJECTED,
}
ACTION_FOR_MEANING = {meaning: action for action, meaning in SIGNING_ACTIONS.items()}

# The role a signature of each meaning is given in.
MEANING_ROLE: Mapping[SignatureMeaning, Role] = {
    SignatureMeaning.REVIEWED: Role.REVIEWER,
    SignatureMeaning.APPROVED: Role.APPROVER,
    SignatureMeaning.APPROVED_WITH_CONDITIONS: Role.APPROVER,
    SignatureMeaning.REJECTED: Role.APPROVER,
}

# Who may take each action: any one of these roles.
ACTION_ROLES: Mapping[ReviewAction, frozenset[Role]] = {
    ReviewAction.EDIT_FINDINGS: frozenset({Role.REVIEWER, Role.APPROVER}),
    ReviewAction.CHANGE_EVIDENCE: frozenset({Role.REVIEWER}),
    ReviewAction.SUBMIT: frozenset({Role.REVIEWER}),
    ReviewAction.SIGN: frozenset({Role.REVIEWER}),
    ReviewAction.APPROVE: frozenset({Role.APPROVER}),
    ReviewAction.APPROVE_WITH_CONDITIONS: frozenset({Role.APPROVER}),
    ReviewAction.REJECT: frozenset({Role.APPROVER}),
    ReviewAction.REVOKE: frozenset({Role.APPROVER, Role.ADMIN}),
    ReviewAction.SUPERSEDE: frozenset({Role.REVIEWER, Role.APPROVER, Role.ADMIN}),
}

_S, _A = ReviewState, ReviewAction
_SIGNATURE_OUTCOMES = frozenset({_S.IN_REVIEW, _S.APPROVED, _S.APPROVED_WITH_CONDITIONS})

# The whole state machine: for each state, the actions it allows and the states they may lead to.
# A signature leads to a decision only when the policy's required signatures are complete (or at once,
# for a rejection); otherwise the review stays in review. Anything absent here is refused.
TRANSITIONS: Mapping[ReviewState, Mapping[ReviewAction, frozenset[ReviewState]]] = {
    _S.DRAFT: {
        _A.EDIT_FINDINGS: frozenset({_S.DRAFT}),
        _A.CHANGE_EVIDENCE: frozenset({_S.DRAFT}),
        _A.SUBMIT: frozenset({_S.IN_REVIEW}),
        _A.SUPERSEDE: frozenset({_S.SUPERSEDED}),
    },
    _S.IN_REVIEW: {
        _A.EDIT_FINDINGS: frozenset({_S.IN_REVIEW}),
        _A.CHANGE_EVIDENCE: frozenset({_S.IN_REVIEW}),
        _A.SIGN: _SIGNATURE_OUTCOMES,
        _A.APPROVE: _SIGNATURE_OUTCOMES,
        _A.APPROVE_WITH_CONDITIONS: _SIGNATURE_OUTCOMES,
        _A.REJECT: frozenset({_S.REJECTED}),
        _A.SUPERSEDE: frozenset({_S.SUPERSEDED}),
    },
    _S.APPROVED: {
        _A.REVOKE: frozenset({_S.REVOKED}),
        _A.SUPERSEDE: frozenset({_S.SUPERSEDED}),
    },
    _S.APPROVED_WITH_CONDITIONS: {
        _A.REVOKE: frozenset({_S.REVOKED}),
        _A.SUPERSEDE: frozenset({_S.SUPERSEDED}),
    },
    _S.REJECTED: {
        _A.SUPERSEDE: frozenset({_S.SUPERSEDED}),
    },
    _S.REVOKED: {},
    _S.SUPERSEDED: {},
}

# Why an action is refused in a state, in words a user can act on.
_STATE_HINTS: Mapping[ReviewState, str] = {
    _S.DRAFT: "it is still a draft: submit it for review first; only an approval can be revoked",
    _S.IN_REVIEW: "it is in review: it has no decision yet to revoke, and it has already been submitted",
    _S.APPROVED: "it is approved and closed: revoke it, or open a new review that supersedes it",
    _S.APPROVED_WITH_CONDITIONS: "it is approved with conditions and closed: revoke it, or open a new review "
    "that supersedes it",
    _S.REJECTED: "it is rejected and closed (a rejection approves nothing, so there is nothing to revoke): "
    "open a new review that supersedes it",
    _S.REVOKED: "it was revoked: nothing more can be done with it; open a new review",
    _S.SUPERSEDED: "it was superseded by a newer review: nothing more can be done with it",
}

STATE_REFUSED = "cannot {action} review {review_id}: {hint}"
FOUR_EYES = (
    "{name!r} cannot sign review {review_id} as approver: {why}; the four-eyes rule needs someone else"
)
TWO_ROLES = (
    "{name!r} already signed review {review_id} as {other}; one person cannot give two of the required "
    "signatures"
)
ALREADY_SIGNED = "{name!r} has already signed the current evidence of review {review_id} as {role}"
EVIDENCE_MOVED = (
    "the evidence of review {review_id} changed since it was shown (bundle {seen:.12} is now {current:.12}): "
    "changed by someone else; reload and retry"
)
REASON_NEEDED = "a revocation needs a reason"
JUSTIFICATION_NEEDED = "an approval with conditions needs a justification: say why the model may be used"
CONDITIONS_NEEDED = "an approval with conditions needs at least one condition (what, owner, due date)"


class FindingType(enum.StrEnum):
    VALIDATION_ISSUE = "validation_issue"
    LIMITATION = "limitation"
    POLICY_EXCEPTION = "policy_exception"
    OBSERVATION = "observation"


class Severity(enum.StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FindingStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    ACCEPTED = "accepted"  # the risk is accepted as is: an approver's decision


def _enum(kind: type[enum.StrEnum], value: str, what: str) -> Any:
    try:
        return kind(value.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        known = ", ".join(k.value for k in kind)
        raise InputError(f"unknown {what} {value!r}; choose one of {known}") from None


@dataclass(frozen=True)
class Finding:
    """One finding of a review, numbered 1, 2, 3 ... within it. Its content is part of the bundle."""

    number: int
    type: FindingType
    severity: Severity
    title: str
    author: str
    description: str = ""
    status: FindingStatus = FindingStatus.OPEN
    resolution: str = ""
    created_at: datetime | None = None
    owner: str = ""  # an account that must remedy it: a finding is an obligation like a condition
    due: date | None = None

    def is_overdue(self, today: date) -> bool:
        return self.status is FindingStatus.OPEN and self.due is not None and self.due < today

    def content(self) -> dict[str, Any]:
        """What the evidence bundle hashes: everything a signer reads, not when it was typed.

        Owner and due date appear only when set, so findings written before they existed hash as before.
        """
        obligation: dict[str, Any] = {}
        if self.owner:
            obligation["owner"] = self.owner
        if self.due is not None:
            obligation["due"] = self.due.isoformat()
        return {
            **obligation,
            "number": self.number,
            "type": self.type.value,
            "severity": self.severity.value,
            "title": self.title,
            "description": self.description,
            "author": self.author,
            "status": self.status.value,
            "resolution": self.resolution,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.content(), "created_at": self.created_at.isoformat() if self.created_at else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        created = data.get("created_at")
        return cls(
            number=data["number"],
            type=FindingType(data["type"]),
            severity=Severity(data["severity"]),
            title=data["title"],
            author=data["author"],
            description=data.get("description", ""),
            status=FindingStatus(data.get("status", "open")),
            resolution=data.get("resolution", ""),
            created_at=datetime.fromisoformat(created) if created else None,
            owner=data.get("owner", ""),
            due=date.fromisoformat(data["due"]) if data.get("due") else None,
        )


def new_finding(
    existing: Iterable[Finding],
    *,
    type: str,
    severity: str,
    title: str,
    author: str,
    description: str = "",
    created_at: datetime | None = None,
    owner: str = "",
    due: date | None = None,
) -> Finding:
    """The next finding (numbered after ``existing``), with type and severity checked."""
    if not title.strip():
        raise InputError("a finding needs a title")
    number = max((f.number for f in existing), default=0) + 1
    return Finding(
        number=number,
        type=_enum(FindingType, type, "finding type"),
        severity=_enum(Severity, severity, "severity"),
        title=title.strip(),
        author=author,
        description=description.strip(),
        created_at=created_at,
        owner=owner.strip().lower(),
        due=due,
    )


def edit_finding(
    finding: Finding,
    editor: User,
    *,
    status: str | None = None,
    resolution: str | None = None,
    severity: str | None = None,
    title: str | None = None,
    description: str | None = None,
    owner: str | None = None,
    due: date | None = None,
) -> Finding:
    """The finding after an edit. Closing it needs a resolution; accepting a risk needs an approver."""
    changed = replace(
        finding,
        owner=owner.strip().lower() if owner is not None else finding.owner,
        due=due if due is not None else finding.due,
        status=_enum(FindingStatus, status, "finding status") if status is not None else finding.status,
        resolution=resolution.strip() if resolution is not None else finding.resolution,
        severity=_enum(Severity, severity, "severity") if severity is not None else finding.severity,
        title=title.strip() if title is not None else finding.title,
        description=description.strip() if description is not None else finding.description,
    )
    if not changed.title:
        raise InputError("a finding needs a title")
    if changed.status is not FindingStatus.OPEN and not changed.resolution:
        raise InputError(f"finding {finding.number} cannot be {changed.status.value} without a resolution")
    if changed.status is FindingStatus.ACCEPTED and finding.status is not FindingStatus.ACCEPTED:
        check_has_role(editor, Role.APPROVER, "accept the risk of a finding")
    return changed


@dataclass(frozen=True)
class SignatureRequirement(Record):
    role: Role
    count: int


DEFAULT_REQUIREMENTS = (SignatureRequirement(Role.REVIEWER, 1), SignatureRequirement(Role.APPROVER, 1))
SIGNING_ROLES = frozenset(MEANING_ROLE.values())


def requirements_from_policy(spec: Iterable[Mapping[str, Any]] | None) -> tuple[SignatureRequirement, ...]:
    """A policy's ``required_signatures`` list (``[{"role": "reviewer", "count": 1}, ...]``), checked.

    ``None`` gives the default: one reviewer and one approver. An approval always needs an approver.
    """
    if spec is None:
        return DEFAULT_REQUIREMENTS
    found: dict[Role, int] = {}
    for item in spec:
        if not isinstance(item, Mapping) or "role" not in item:
            raise InputError(f"required_signatures: each entry needs a role and a count, got {item!r}")
        role = _enum(Role, str(item["role"]), "role")
        if role not in SIGNING_ROLES:
            raise InputError(f"required_signatures: the {role.value} role does not sign reviews")
        count = item.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise InputError(f"required_signatures: count for {role.value} must be a whole number >= 1")
        if role in found:
            raise InputError(f"required_signatures: {role.value} is listed twice")
        found[role] = count
    if Role.APPROVER not in found:
        raise InputError("required_signatures: an approval needs at least one approver signature")
    return tuple(
        SignatureRequirement(role, found[role]) for role in (Role.REVIEWER, Role.APPROVER) if role in found
    )


SIGNATURE_MANIFEST_FORMAT = "signoff.review-signature/1"


def signature_manifest(
    *,
    review_id: int,
    username: str,
    printed_name: str,
    role: Role,
    meaning: SignatureMeaning,
    signed_at: datetime,
    bundle_hash: str,
    justification: str | None = None,
    conditions: tuple[dict[str, Any], ...] | None = None,
) -> dict[str, Any]:
    """Exactly what an electronic signature signs (§11.50, §11.70), as canonical JSON content.

    The format tag keeps a signature over this manifest from being valid for any other kind of message.
    An approval with conditions also signs its justification and conditions (text, owner, due date).
    """
    extra: dict[str, Any] = {}
    if justification is not None:
        extra["justification"] = justification
    if conditions is not None:
        extra["conditions"] = [dict(c) for c in conditions]
    return {
        **extra,
        "format": SIGNATURE_MANIFEST_FORMAT,
        "review_id": review_id,
        "username": username,
        "printed_name": printed_name,
        "role": role.value,
        "meaning": meaning.value,
        "signed_at": format_utc(signed_at),
        "bundle_hash": bundle_hash,
    }


@dataclass(frozen=True)
class Signature:
    review_id: int
    signer: str  # username
    printed_name: str
    role: Role
    meaning: SignatureMeaning
    signed_at: datetime
    bundle_hash: str
    signature: bytes = b""  # Ed25519 over the canonical JSON of ``manifest()``
    public_key_fingerprint: str = ""  # SHA-256 (hex) of the signer's raw public key
    id: int | None = None
    justification: str | None = None  # an approval with conditions: why the model may be used
    conditions: tuple[dict[str, Any], ...] | None = None  # and its conditions' text, owner, due date

    def manifest(self) -> dict[str, Any]:
        return signature_manifest(
            justification=self.justification,
            conditions=self.conditions,
            review_id=self.review_id,
            username=self.signer,
            printed_name=self.printed_name,
            role=self.role,
            meaning=self.meaning,
            signed_at=self.signed_at,
            bundle_hash=self.bundle_hash,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "manifest": self.manifest(),
            "signature": self.signature.hex(),
            "public_key_fingerprint": self.public_key_fingerprint,
        }


@dataclass(frozen=True)
class Revocation:
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class Review:
    """A review as the state machine sees it. ``bundle_hash`` is the hash of the evidence as it is now."""

    id: int
    model_version_id: int
    state: ReviewState
    opened_by: str
    opened_at: datetime
    bundle_hash: str
    requirements: tuple[SignatureRequirement, ...] = DEFAULT_REQUIREMENTS
    findings: tuple[Finding, ...] = ()
    signatures: tuple[Signature, ...] = ()
    analysts: frozenset[str] = frozenset()  # who produced the analyses in the bundle
    title: str = ""
    decided_at: datetime | None = None
    revocation: Revocation | None = None
    supersedes: int | None = None
    superseded_by: int | None = None
    version: int = 1  # bumped by storage on every change: optimistic concurrency
    # Signatures whose Ed25519 signature, key or audit record does not verify: shown, never counted.
    unverified_signatures: frozenset[int] = frozenset()

    def covers_current_evidence(self, signature: Signature) -> bool:
        """The signature counts: it verifies and binds the evidence as it is now."""
        return signature.bundle_hash == self.bundle_hash and not self.is_unverified(signature)

    def is_unverified(self, signature: Signature) -> bool:
        return signature.id is not None and signature.id in self.unverified_signatures

    @property
    def current_signatures(self) -> tuple[Signature, ...]:
        return tuple(s for s in self.signatures if self.covers_current_evidence(s))

    @property
    def stale_signatures(self) -> tuple[Signature, ...]:
        return tuple(s for s in self.signatures if s.bundle_hash != self.bundle_hash)

    @property
    def is_stale(self) -> bool:
        """Some signature was given to evidence that has changed since."""
        return bool(self.stale_signatures)

    def outstanding(self) -> tuple[SignatureRequirement, ...]:
        """Who must still sign: per role, how many more signatures on the current evidence."""
        if self.state not in OPEN_STATES:
            return ()
        missing = []
        for requirement in self.requirements:
            have = _signers_counting_for(self, requirement.role)
            if len(have) < requirement.count:
                missing.append(SignatureRequirement(requirement.role, requirement.count - len(have)))
        return tuple(missing)

    def ineligible_approvers(self) -> frozenset[str]:
        return frozenset({self.opened_by, *self.analysts})

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model_version_id": self.model_version_id,
            "title": self.title,
            "state": self.state.value,
            "version": self.version,
            "opened_by": self.opened_by,
            "opened_at": format_utc(self.opened_at),
            "bundle_hash": self.bundle_hash,
            "stale": self.is_stale,
            "requirements": [r.to_dict() for r in self.requirements],
            "who_must_still_sign": [r.to_dict() for r in self.outstanding()],
            "cannot_approve": sorted(self.ineligible_approvers()),
            "findings": [f.to_dict() for f in self.findings],
            "signatures": [
                {
                    **s.to_dict(),
                    "covers_current_evidence": self.covers_current_evidence(s),
                    "verified": not self.is_unverified(s),
                }
                for s in self.signatures
            ],
            "decided_at": format_utc(self.decided_at) if self.decided_at else None,
            "revocation": None
            if self.revocation is None
            else {
                "by": self.revocation.by,
                "at": format_utc(self.revocation.at),
                "reason": self.revocation.reason,
            },
            "supersedes": self.supersedes,
            "superseded_by": self.superseded_by,
        }


def _signers_counting_for(review: Review, role: Role) -> set[str]:
    return {
        s.signer
        for s in review.current_signatures
        if s.role is role and s.meaning is not SignatureMeaning.REJECTED
    }


def allowed_actions(state: ReviewState) -> frozenset[ReviewAction]:
    return frozenset(TRANSITIONS[state])


def check_allowed(review: Review, action: ReviewAction, actor: User) -> None:
    """Raise ``PermissionDenied`` or ``ConflictError`` if ``actor`` may not take ``action`` now."""
    if actor.disabled:
        raise PermissionDenied(f"the account {actor.username!r} is disabled; it can no longer act on reviews")
    if action not in TRANSITIONS[review.state]:
        raise ConflictError(
            STATE_REFUSED.format(
                action=action.value.replace("_", " "), review_id=review.id, hint=_STATE_HINTS[review.state]
            )
        )
    roles = ACTION_ROLES[action]
    if not roles & actor.roles:
        needed = " or ".join(sorted(r.value for r in roles))
        raise PermissionDenied(
            f"{actor.username!r} cannot {action.value.replace('_', ' ')} review {review.id}: "
            f"that needs the {needed} role"
        )
    meaning = SIGNING_ACTIONS.get(action)
    if meaning is None:
        return
    role = MEANING_ROLE[meaning]
    if role is Role.APPROVER:
        if actor.username == review.opened_by:
            raise PermissionDenied(
                FOUR_EYES.format(name=actor.username, review_id=review.id, why="they opened it")
            )
        if actor.username in review.analysts:
            raise PermissionDenied(
                FOUR_EYES.format(
                    name=actor.username, review_id=review.id, why="they produced analyses in its evidence"
                )
            )
    for earlier in review.signatures:
        if earlier.signer == actor.username and earlier.role is not role:
            raise PermissionDenied(
                TWO_ROLES.format(name=actor.username, review_id=review.id, other=earlier.role.value)
            )
    if actor.username in {s.signer for s in review.current_signatures if s.role is role}:
        raise ConflictError(ALREADY_SIGNED.format(name=actor.username, review_id=review.id, role=role.value))


def decide(review: Review) -> ReviewState:
    """The state the review's current signatures lead to (it must be open to be signed)."""
    current = review.current_signatures
    if any(s.meaning is SignatureMeaning.REJECTED for s in current):
        return ReviewState.REJECTED
    if review.outstanding():
        return ReviewState.IN_REVIEW
    if any(s.meaning is SignatureMeaning.APPROVED_WITH_CONDITIONS for s in current):
        return ReviewState.APPROVED_WITH_CONDITIONS
    return ReviewState.APPROVED


def transition(
    review: Review,
    action: ReviewAction,
    actor: User,
    *,
    now: datetime,
    signature: Signature | None = None,
    findings: tuple[Finding, ...] | None = None,
    bundle_hash: str | None = None,
    reason: str = "",
    superseded_by: int | None = None,
) -> Review:
    """The review after ``actor`` takes ``action``, or ``ConflictError``/``PermissionDenied`` saying why not.

    - signing actions take the ``signature`` (over ``review.bundle_hash``, by ``actor``, with the
      action's meaning); the review is decided when the required signatures are complete;
    - ``EDIT_FINDINGS`` takes the new ``findings`` and the resulting ``bundle_hash``;
    - ``CHANGE_EVIDENCE`` takes the new ``bundle_hash``;
    - ``REVOKE`` takes a ``reason``; ``SUPERSEDE`` may name the review that replaces it.
    """
    check_allowed(review, action, actor)
    meaning = SIGNING_ACTIONS.get(action)
    if meaning is not None:
        if signature is None:
            raise InputError(f"{action.value} needs the signature")
        _check_signature_fits(review, action, meaning, actor, signature)
        signed = replace(review, signatures=(*review.signatures, signature))
        state = decide(signed)
        result = replace(signed, state=state, decided_at=now if state in DECIDED_STATES else None)
    elif action is ReviewAction.EDIT_FINDINGS:
        if findings is None or bundle_hash is None:
            raise InputError("editing findings needs the new findings and the resulting bundle hash")
        result = replace(review, findings=tuple(findings), bundle_hash=bundle_hash)
    elif action is ReviewAction.CHANGE_EVIDENCE:
        if bundle_hash is None:
            raise InputError("changing the evidence needs the resulting bundle hash")
        result = replace(review, bundle_hash=bundle_hash)
    elif action is ReviewAction.SUBMIT:
        result = replace(review, state=ReviewState.IN_REVIEW)
    elif action is ReviewAction.REVOKE:
        if not reason.strip():
            raise InputError(REASON_NEEDED)
        result = replace(
            review,
            state=ReviewState.REVOKED,
            revocation=Revocation(by=actor.username, at=now, reason=reason.strip()),
        )
    elif action is ReviewAction.SUPERSEDE:
        result = replace(review, state=ReviewState.SUPERSEDED, superseded_by=superseded_by)
    else:  # pragma: no cover - every action is handled above; the table test proves it
        raise AssertionError(action)
    if result.state not in TRANSITIONS[review.state][action]:  # pragma: no cover - a bug in this module
        raise AssertionError(f"{review.state} --{action}--> {result.state} is not in the table")
    return result


def _check_signature_fits(
    review: Review, action: ReviewAction, meaning: SignatureMeaning, actor: User, signature: Signature
) -> None:
    if signature.signer != actor.username:
        raise PermissionDenied(
            f"{actor.username!r} cannot sign in the name of {signature.signer!r}: nobody signs as someone else"
        )
    if signature.meaning is not meaning or signature.role is not MEANING_ROLE[meaning]:
        raise InputError(
            f"a signature to {action.value.replace('_', ' ')} must mean {meaning.value} "
            f"and be given as {MEANING_ROLE[meaning].value}"
        )
    if signature.review_id != review.id:
        raise InputError(f"the signature is for review {signature.review_id}, not review {review.id}")
    if signature.printed_name != actor.full_name:
        raise InputError("the signature's printed name must be the signer's full name")
    if meaning is SignatureMeaning.APPROVED_WITH_CONDITIONS:
        if not (signature.justification or "").strip():
            raise InputError(JUSTIFICATION_NEEDED)
        if not signature.conditions:
            raise InputError(CONDITIONS_NEEDED)
    elif signature.justification is not None or signature.conditions is not None:
        raise InputError("only an approval with conditions carries a justification and conditions")
    if signature.bundle_hash != review.bundle_hash:
        raise ConflictError(
            EVIDENCE_MOVED.format(review_id=review.id, seen=signature.bundle_hash, current=review.bundle_hash)
        )
