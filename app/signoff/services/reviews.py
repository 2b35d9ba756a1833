"""Reviews as use cases: open, write findings, choose evidence, submit, sign, revoke, show.

Each use case is one transaction: it locks the review's row, re-assembles the evidence bundle as it is
now, asks the domain state machine whether the step is allowed, stores the bundle's canonical JSON in
the evidence store (so what was signed can always be shown again), writes the change naming the
version it read, and appends the audit event. A caller that passes ``expected_version`` (the version it
showed the user) gets ``ConflictError`` if anyone changed the review in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from signoff.domain.analysis_run import latest_runs
from signoff.domain.audit import format_utc
from signoff.domain.canonical import canonical_json
from signoff.domain.decision import (
    Condition,
    ConditionStatus,
    ConditionTerms,
    PolicyVerdict,
    approval_refusal,
    parse_condition,
)
from signoff.domain.errors import ConflictError, InputError, IntegrityError, PermissionDenied
from signoff.domain.evidence_bundle import BundleAnalysis, EvidenceBundle, ReviewStatus
from signoff.domain.policy import PolicyEvaluation
from signoff.domain.review import (
    ACTION_FOR_MEANING,
    CONDITIONS_NEEDED,
    EVIDENCE_MOVED,
    JUSTIFICATION_NEEDED,
    MEANING_ROLE,
    Finding,
    Review,
    ReviewAction,
    ReviewState,
    Signature,
    SignatureMeaning,
    check_allowed,
    edit_finding,
    new_finding,
    requirements_from_policy,
    transition,
)
from signoff.domain.users import Role, User, check_has_role
from signoff.services.inventory import version_inventory
from signoff.services.security import fingerprint, signer_for
from signoff.services.users import authenticate, check_password_current, signing_key
from signoff.services.verify import account_problems, review_with_verification
from signoff.storage import Database, UnitOfWork

BUNDLE_MEDIA_TYPE = "application/vnd.signoff.evidence-bundle+json"
POLICY_RUN_KIND = "policy"  # an analysis run of this kind is the policy evaluation, not an analysis
ACCOUNT_TAMPERED = (
    "the account {username!r} was changed outside Signoff ({problems}); it cannot act on reviews until "
    "an administrator restores it. Run `signoff verify`."
)
TAMPERED = (
    "review {review_id} was changed outside Signoff ({problems}); nothing was done. Run `signoff verify` "
    "and restore the database from a backup."
)
CHANGED_SINCE_SHOWN = (
    "review {review_id} changed since it was shown (version {expected} is now {current}): changed by "
    "someone else; reload and retry"
)


def _now() -> datetime:
    return datetime.now(UTC)


def _entity(review_id: int) -> str:
    return f"review:{review_id}"


def _current_user(uow: UnitOfWork, actor: User | str) -> User:
    """The actor as stored now (a session may outlive an account being disabled), refused when the
    account's row disagrees with its audited grants: roles written behind Signoff's back give no right."""
    user = uow.users.get(actor if isinstance(actor, str) else actor.username)
    problems = account_problems(uow, user)
    if problems:
        raise IntegrityError(ACCOUNT_TAMPERED.format(username=user.username, problems="; ".join(problems)))
    return user


def _assemble(uow: UnitOfWork, model_version_id: int, log_ids: Iterable[int], findings: tuple[Finding, ...]):
    version = uow.models.get(model_version_id)
    all_logs = uow.logs.list(model_version_id=model_version_id)
    by_id = {log.id: log for log in all_logs}
    chosen_logs = [by_id[i] for i in log_ids]
    chosen = {log.evidence_sha256 for log in chosen_logs}
    others = {log.evidence_sha256 for log in all_logs} - chosen
    # The latest run of each kind and inputs that read no log left out of the review.
    runs = latest_runs(uow.analysis_runs.list(model_version_id=model_version_id), not_reading=others)
    policy_runs = [r for r in runs if r.kind == POLICY_RUN_KIND]
    analyses = [
        BundleAnalysis(r.id, r.kind, r.result_sha256, r.created_by) for r in runs if r.kind != POLICY_RUN_KIND
    ]
    return EvidenceBundle.assemble(
        version,
        chosen_logs,
        analyses,
        policy_runs[-1].result_sha256 if policy_runs else None,
        findings,
        version_inventory(uow, version.name, version.version),
    )


def _policy_verdict(uow: UnitOfWork, bundle: EvidenceBundle) -> PolicyVerdict:
    """The verdict of the policy evaluation the bundle holds (NOT EVALUATED when it holds none)."""
    if bundle.policy_evaluation_sha256 is None:
        return PolicyVerdict.of(None)
    for run in uow.analysis_runs.list(kind=POLICY_RUN_KIND, model_version_id=bundle.model_version["id"]):
        if run.result_sha256 == bundle.policy_evaluation_sha256:
            return PolicyVerdict.of(PolicyEvaluation.from_dict(run.result))
    return PolicyVerdict.of(None)


def _status(uow: UnitOfWork, review_id: int, *, for_update: bool = False) -> ReviewStatus:
    """The review as it stands now. A signature counts only if it verifies; a change (``for_update``)
    is refused while the review's row disagrees with its signed and audited events."""
    stored = uow.reviews.get(review_id, for_update=for_update)
    checked, problems = review_with_verification(uow, stored)
    if for_update and problems:
        raise IntegrityError(TAMPERED.format(review_id=review_id, problems="; ".join(problems)))
    bundle = _assemble(uow, stored.model_version_id, uow.reviews.log_ids(review_id), stored.findings)
    live = replace(checked, bundle_hash=bundle.hash, analysts=bundle.analysts)
    model = f"{bundle.model_version['name']} v{bundle.model_version['version']}"
    conditions = tuple(replace(c, model=model) for c in uow.conditions.list(review_id=review_id))
    return ReviewStatus(live, bundle, stored.bundle_hash, _policy_verdict(uow, bundle), conditions, problems)


def _check_expected(status: ReviewStatus, expected_version: int | None) -> None:
    if expected_version is not None and status.review.version != expected_version:
        raise ConflictError(
            CHANGED_SINCE_SHOWN.format(
                review_id=status.review.id, expected=expected_version, current=status.review.version
            )
        )


def _record_bundle(uow: UnitOfWork, bundle: EvidenceBundle) -> str:
    stored = uow.evidence.put_bytes(canonical_json(bundle.content()), media_type=BUNDLE_MEDIA_TYPE)
    assert stored == bundle.hash  # the bundle hash is the SHA-256 of exactly these bytes
    return stored


def open_review(
    db: Database,
    actor: User | str,
    *,
    model_version_id: int,
    log_ids: Iterable[int] | None = None,
    title: str = "",
    required_signatures: Iterable[Mapping[str, Any]] | None = None,
    policy_file: str | Path | None = None,
    supersedes: int | None = None,
) -> ReviewStatus:
    """Open a draft review of a model version over the chosen logs (default: all its logs).

    The signatures an approval needs are ``required_signatures`` as given, else the
    ``required_signatures`` of ``policy_file`` (a policy file or a shipped policy's name), else one
    reviewer and one approver. ``supersedes`` names an earlier review of the same version that this one
    replaces.
    """
    if required_signatures is not None and policy_file is not None:
        raise InputError("give the signatures needed or a policy to take them from, not both")
    if policy_file is not None:
        from signoff.importers.policy_file import load_policy  # YAML: not needed to list reviews

        policy, _ = load_policy(policy_file)
        requirements = policy.required_signatures  # checked when the policy was read
    else:
        requirements = requirements_from_policy(required_signatures)
    with db.transaction() as uow:
        opener = _current_user(uow, actor)
        check_has_role(opener, Role.REVIEWER, "open a review")
        version = uow.models.get(model_version_id)
        available = {log.id for log in uow.logs.list(model_version_id=model_version_id)}
        chosen = tuple(sorted(available if log_ids is None else set(log_ids)))
        for log_id in chosen:
            if log_id not in available:
                raise InputError(f"prediction log {log_id} is not a log of {version.ref}")
        if not chosen:
            raise InputError(f"{version.ref} has no prediction logs: import one before opening a review")
        replaced = None
        if supersedes is not None:
            replaced = uow.reviews.get(supersedes, for_update=True)
            if replaced.model_version_id != model_version_id:
                raise InputError(f"review {supersedes} is about another model version")
            check_allowed(replaced, ReviewAction.SUPERSEDE, opener)
        now = _now()
        bundle = _assemble(uow, model_version_id, chosen, ())
        _record_bundle(uow, bundle)
        review_id = uow.reviews.add(
            model_version_id=model_version_id,
            title=title.strip(),
            opened_by=opener.username,
            opened_at=now,
            bundle_hash=bundle.hash,
            requirements=requirements,
            log_ids=chosen,
            supersedes=supersedes,
        )
        if replaced is not None:
            after = transition(replaced, ReviewAction.SUPERSEDE, opener, now=now, superseded_by=review_id)
            uow.reviews.save(after, expected_version=replaced.version)
        uow.audit.append(
            actor=opener.username,
            action="review.opened",
            entity=_entity(review_id),
            payload={
                "model_version": {"id": version.id, "name": version.name, "version": version.version},
                "log_ids": list(chosen),
                "bundle_hash": bundle.hash,
                "required_signatures": [r.to_dict() for r in requirements],
                "supersedes": supersedes,
            },
        )
        if replaced is not None:
            uow.audit.append(
                actor=opener.username,
                action="review.superseded",
                entity=_entity(replaced.id),
                payload={"superseded_by": review_id, "state_before": replaced.state.value},
            )
        return _status(uow, review_id)


def show(db: Database, review_id: int) -> ReviewStatus:
    """The review as it stands now, with its stale flags and who must still sign."""
    with db.transaction(write=False) as uow:
        return _status(uow, review_id)


def list_reviews(db: Database, *, model_version_id: int | None = None) -> list[ReviewStatus]:
    with db.transaction(write=False) as uow:
        return [_status(uow, r.id) for r in uow.reviews.list(model_version_id=model_version_id)]


def current_reviews(db: Database) -> list[ReviewStatus]:
    """Each model version's newest review that was not superseded, as it stands now.

    What the registry's badges show. Only these reviews' evidence bundles are assembled (the
    expensive part), not every review ever opened.
    """
    with db.transaction(write=False) as uow:
        newest: dict[int, int] = {}
        for review in uow.reviews.list():  # in id order: a later review replaces an earlier one
            if review.state is not ReviewState.SUPERSEDED:
                newest[review.model_version_id] = review.id
        return [_status(uow, review_id) for review_id in newest.values()]


def _change_findings(
    db: Database,
    actor: User | str,
    review_id: int,
    expected_version: int | None,
    change,
) -> ReviewStatus:
    with db.transaction() as uow:
        status = _status(uow, review_id, for_update=True)
        _check_expected(status, expected_version)
        editor = _current_user(uow, actor)
        check_allowed(status.review, ReviewAction.EDIT_FINDINGS, editor)
        now = _now()
        before, after_finding, findings = change(status.review, editor, now)
        if after_finding.owner and (before is None or after_finding.owner != before.owner):
            owner = uow.users.find(after_finding.owner)
            if owner is None or owner.disabled:
                raise InputError(
                    f"finding {after_finding.number}: its owner {after_finding.owner!r} is not an enabled "
                    "Signoff account"
                )
        bundle = replace(status.bundle, findings=tuple(sorted(findings, key=lambda f: f.number)))
        after = transition(
            status.review,
            ReviewAction.EDIT_FINDINGS,
            editor,
            now=now,
            findings=bundle.findings,
            bundle_hash=bundle.hash,
        )
        _record_bundle(uow, bundle)
        if before is None:
            uow.reviews.add_finding(review_id, after_finding, at=now)
        else:
            uow.reviews.update_finding(review_id, after_finding, by=editor.username, at=now)
        uow.reviews.save(after, expected_version=status.review.version)
        uow.audit.append(
            actor=editor.username,
            action="review.finding_added" if before is None else "review.finding_edited",
            entity=_entity(review_id),
            payload={
                "finding": after_finding.content(),
                "before": None if before is None else before.content(),
                "bundle_hash": bundle.hash,
                "stale_signatures": [s.id for s in status.review.signatures if s.bundle_hash != bundle.hash],
            },
        )
        return _status(uow, review_id)


def add_finding(
    db: Database,
    actor: User | str,
    review_id: int,
    *,
    type: str,
    severity: str,
    title: str,
    description: str = "",
    expected_version: int | None = None,
    owner: str = "",
    due: date | None = None,
) -> ReviewStatus:
    """Add a finding; with ``owner`` (an account) and ``due`` it is an obligation to remedy by then."""

    def change(review: Review, editor: User, now: datetime):
        finding = new_finding(
            review.findings,
            type=type,
            severity=severity,
            title=title,
            author=editor.username,
            description=description,
            created_at=now,
            owner=owner,
            due=due,
        )
        return None, finding, (*review.findings, finding)

    return _change_findings(db, actor, review_id, expected_version, change)


def update_finding(
    db: Database,
    actor: User | str,
    review_id: int,
    number: int,
    *,
    status: str | None = None,
    resolution: str | None = None,
    severity: str | None = None,
    title: str | None = None,
    description: str | None = None,
    expected_version: int | None = None,
    owner: str | None = None,
    due: date | None = None,
) -> ReviewStatus:
    def change(review: Review, editor: User, now: datetime):
        matching = [f for f in review.findings if f.number == number]
        if not matching:
            raise InputError(f"review {review_id} has no finding {number}")
        before = matching[0]
        edited = edit_finding(
            before,
            editor,
            status=status,
            resolution=resolution,
            severity=severity,
            title=title,
            description=description,
            owner=owner,
            due=due,
        )
        if edited == before:
            raise InputError(f"finding {number} already reads like that: nothing to change")
        return before, edited, tuple(edited if f.number == number else f for f in review.findings)

    return _change_findings(db, actor, review_id, expected_version, change)


def change_logs(
    db: Database,
    actor: User | str,
    review_id: int,
    *,
    add: Iterable[int] = (),
    remove: Iterable[int] = (),
    expected_version: int | None = None,
) -> ReviewStatus:
    """Add prediction logs to, or remove them from, the review's evidence (draft or in review only)."""
    with db.transaction() as uow:
        status = _status(uow, review_id, for_update=True)
        _check_expected(status, expected_version)
        editor = _current_user(uow, actor)
        check_allowed(status.review, ReviewAction.CHANGE_EVIDENCE, editor)
        available = {log.id for log in uow.logs.list(model_version_id=status.review.model_version_id)}
        current = set(uow.reviews.log_ids(review_id))
        for log_id in add:
            if log_id not in available:
                raise InputError(f"prediction log {log_id} is not a log of this review's model version")
        chosen = (current | set(add)) - set(remove)
        if not chosen:
            raise InputError("a review needs at least one prediction log")
        if chosen == current:
            raise InputError("the review already has exactly these logs")
        bundle = _assemble(uow, status.review.model_version_id, sorted(chosen), status.review.findings)
        now = _now()
        after = transition(
            status.review, ReviewAction.CHANGE_EVIDENCE, editor, now=now, bundle_hash=bundle.hash
        )
        _record_bundle(uow, bundle)
        uow.reviews.set_logs(review_id, tuple(sorted(chosen)))
        uow.reviews.save(after, expected_version=status.review.version)
        uow.audit.append(
            actor=editor.username,
            action="review.evidence_changed",
            entity=_entity(review_id),
            payload={
                "log_ids": sorted(chosen),
                "added": sorted(chosen - current),
                "removed": sorted(current - chosen),
                "bundle_hash": bundle.hash,
            },
        )
        return _status(uow, review_id)


def submit(
    db: Database, actor: User | str, review_id: int, *, expected_version: int | None = None
) -> ReviewStatus:
    with db.transaction() as uow:
        status = _status(uow, review_id, for_update=True)
        _check_expected(status, expected_version)
        submitter = _current_user(uow, actor)
        after = transition(status.review, ReviewAction.SUBMIT, submitter, now=_now())
        _record_bundle(uow, status.bundle)
        uow.reviews.save(after, expected_version=status.review.version)
        uow.audit.append(
            actor=submitter.username,
            action="review.submitted",
            entity=_entity(review_id),
            payload={"bundle_hash": status.bundle.hash, "state_before": status.review.state.value},
        )
        return _status(uow, review_id)


def parse_meaning(text: str) -> SignatureMeaning:
    try:
        return SignatureMeaning(text.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        known = ", ".join(m.value for m in SignatureMeaning)
        raise InputError(f"unknown signature meaning {text!r}; choose one of {known}") from None


def sign(
    db: Database,
    review_id: int,
    *,
    username: str,
    password: str,
    meaning: SignatureMeaning | str,
    expected_version: int | None = None,
    bundle_hash: str | None = None,
    justification: str | None = None,
    conditions: Iterable[ConditionTerms | str] = (),
) -> ReviewStatus:
    """Sign review ``review_id`` with ``meaning``, re-authenticating ``username`` with ``password``.

    ``bundle_hash`` (the hash the signer was shown) and ``expected_version`` make the signature bind
    exactly what was shown: if the evidence or the review moved meanwhile, nothing is signed.
    ``approved`` is refused while the policy verdict fails or is insufficient, or a high or critical
    finding is open; ``approved_with_conditions`` needs a ``justification`` and at least one condition
    (``"TEXT|owner=NAME|due=YYYY-MM-DD"`` or ``ConditionTerms``), both signed with it and the conditions
    then tracked as obligations.
    """
    if isinstance(meaning, str):
        meaning = parse_meaning(meaning)
    action = ACTION_FOR_MEANING[meaning]
    terms = tuple(parse_condition(c) if isinstance(c, str) else c for c in conditions)
    with_conditions = meaning is SignatureMeaning.APPROVED_WITH_CONDITIONS
    if not with_conditions and (terms or (justification or "").strip()):
        raise InputError("only an approval with conditions takes a justification and conditions")
    if with_conditions and not (justification or "").strip():
        raise InputError(JUSTIFICATION_NEEDED)
    if with_conditions and not terms:
        raise InputError(CONDITIONS_NEEDED)
    today = _now().date()
    for term in terms:
        if term.due < today:
            raise InputError(f"condition {term.text!r} would already be overdue ({term.due.isoformat()})")
    user = authenticate(db, username, password, purpose=f"sign review {review_id}")
    check_password_current(user)
    key = signing_key(db, user.username)
    sign_manifest = signer_for(user.username, key, password)
    try:
        with db.transaction() as uow:
            status = _status(uow, review_id, for_update=True)
            _check_expected(status, expected_version)
            if bundle_hash is not None and bundle_hash != status.bundle.hash:
                raise ConflictError(
                    EVIDENCE_MOVED.format(review_id=review_id, seen=bundle_hash, current=status.bundle.hash)
                )
            signer = _current_user(uow, user)
            check_allowed(status.review, action, signer)
            if meaning is SignatureMeaning.APPROVED:
                refusal = approval_refusal(review_id, status.verdict, status.review.findings)
                if refusal is not None:
                    raise PermissionDenied(refusal)
            for term in terms:
                owner = uow.users.find(term.owner)
                if owner is None or owner.disabled:
                    raise InputError(
                        f"condition {term.text!r}: its owner {term.owner!r} is not an enabled Signoff account"
                    )
            draft = Signature(
                review_id=review_id,
                signer=signer.username,
                printed_name=signer.full_name,
                role=MEANING_ROLE[meaning],
                meaning=meaning,
                signed_at=_now(),
                bundle_hash=status.bundle.hash,
                public_key_fingerprint=fingerprint(key.public_key),
                justification=(justification or "").strip() if with_conditions else None,
                conditions=tuple(t.content() for t in terms) if with_conditions else None,
            )
            signed = replace(draft, signature=sign_manifest(draft.manifest()))
            after = transition(status.review, action, signer, now=signed.signed_at, signature=signed)
            _record_bundle(uow, status.bundle)
            stored = uow.reviews.add_signature(signed)
            assert stored.id is not None
            for number, term in enumerate(terms, start=1):
                uow.conditions.add(review_id=review_id, signature_id=stored.id, number=number, terms=term)
            uow.reviews.save(after, expected_version=status.review.version)
            uow.audit.append(
                actor=signer.username,
                action="review.signed",
                entity=_entity(review_id),
                payload={
                    "signature_id": stored.id,
                    "manifest": stored.manifest(),
                    "signature": stored.signature.hex(),
                    "public_key_fingerprint": stored.public_key_fingerprint,
                    "state_before": status.review.state.value,
                    "state_after": after.state.value,
                    "policy_verdict": status.verdict.verdict.value,
                },
            )
            return _status(uow, review_id)
    except PermissionDenied as refusal:
        # An attempt to sign without the right to is itself a record an auditor wants to see.
        with db.transaction() as uow:
            uow.audit.append(
                actor=user.username,
                action="review.sign_refused",
                entity=_entity(review_id),
                payload={"meaning": meaning.value, "reason": str(refusal)},
            )
        raise


def revoke(
    db: Database, actor: User | str, review_id: int, *, reason: str, expected_version: int | None = None
) -> ReviewStatus:
    """Withdraw an approval, with a reason (approver or administrator)."""
    with db.transaction() as uow:
        status = _status(uow, review_id, for_update=True)
        _check_expected(status, expected_version)
        revoker = _current_user(uow, actor)
        after = transition(status.review, ReviewAction.REVOKE, revoker, now=_now(), reason=reason)
        uow.reviews.save(
            replace(after, bundle_hash=status.recorded_bundle_hash), expected_version=status.review.version
        )
        uow.audit.append(
            actor=revoker.username,
            action="review.revoked",
            entity=_entity(review_id),
            payload={
                "reason": after.revocation.reason if after.revocation else reason,
                "state_before": status.review.state.value,
            },
        )
        return _status(uow, review_id)


def list_conditions(db: Database, *, overdue_on: date | None = None) -> list[Condition]:
    """Every condition of every approval, soonest due first; with ``overdue_on``, only those overdue then."""
    with db.transaction(write=False) as uow:
        found = []
        models: dict[int, str] = {}
        for condition in uow.conditions.list():
            if overdue_on is not None and not condition.is_overdue(overdue_on):
                continue
            if condition.review_id not in models:
                version = uow.models.get(uow.reviews.get(condition.review_id).model_version_id)
                models[condition.review_id] = f"{version.name} v{version.version}"
            found.append(replace(condition, model=models[condition.review_id]))
        return found


RISK_ACCEPTANCE_FORMAT = "signoff.condition-risk-accepted/1"


def close_condition(
    db: Database,
    actor: User | str,
    condition_id: int,
    *,
    evidence: str,
    accept_risk: bool = False,
    password: str | None = None,
) -> Condition:
    """Close a condition with the evidence that it was met (its owner, an approver or an administrator).

    ``accept_risk`` closes it unmet, as a risk accepted: an approver's signed act, re-authenticated with
    ``password`` and signed like a signature (``signoff verify`` checks it).
    """
    if not evidence.strip():
        raise InputError(
            "closing a condition needs the evidence that it was met (or why the risk is accepted)"
        )
    signed = None
    if accept_risk:
        from signoff.services.signed_acts import sign_act

        name = actor if isinstance(actor, str) else actor.username
        _, signed = sign_act(
            db,
            name,
            password or "",
            roles={Role.APPROVER},
            what="accept the risk of an unmet condition",
            purpose=f"accept the risk of condition {condition_id}",
        )
    with db.transaction() as uow:
        closer = _current_user(uow, actor)
        condition = uow.conditions.get(condition_id, for_update=True)
        if condition.status in (ConditionStatus.CLOSED, ConditionStatus.RISK_ACCEPTED):
            raise ConflictError(
                f"condition {condition_id} is already {condition.status.value.replace('_', ' ')}"
            )
        if accept_risk:
            check_has_role(closer, Role.APPROVER, "accept the risk of an unmet condition")
        elif closer.username != condition.terms.owner and not ({Role.APPROVER, Role.ADMIN} & closer.roles):
            raise PermissionDenied(
                f"{closer.username!r} cannot close condition {condition_id}: it is owned by "
                f"{condition.terms.owner!r} (or close it as an approver or administrator)"
            )
        status = ConditionStatus.RISK_ACCEPTED if accept_risk else ConditionStatus.CLOSED
        now = _now()
        uow.conditions.close(
            condition_id, status=status, evidence=evidence.strip(), by=closer.username, at=now
        )
        payload: dict[str, Any] = {
            "review_id": condition.review_id,
            "terms": condition.terms.content(),
            "status": status.value,
            "evidence": evidence.strip(),
            "overdue": condition.is_overdue(now.date()),
        }
        if signed is not None:
            manifest = {
                "format": RISK_ACCEPTANCE_FORMAT,
                "condition_id": condition_id,
                "review_id": condition.review_id,
                "terms": condition.terms.content(),
                "evidence": evidence.strip(),
                "accepted_by": closer.username,
                "printed_name": closer.full_name,
                "accepted_at": format_utc(now),
            }
            payload.update(
                manifest=manifest,
                signature=signed(manifest).hex(),
                public_key_fingerprint=fingerprint(closer.public_key),
            )
        uow.audit.append(
            actor=closer.username,
            action="condition.closed",
            entity=f"condition:{condition_id}",
            payload=payload,
        )
        return uow.conditions.get(condition_id)
