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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.canonical import canonical_hash, canonical_json
from signoff.domain.errors import ConflictError, InputError, IntegrityError, PermissionDenied
from signoff.domain.evidence_bundle import BundleAnalysis, EvidenceBundle, ReviewStatus
from signoff.domain.review import (
    ACTION_FOR_MEANING,
    EVIDENCE_MOVED,
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
from signoff.services.security import fingerprint, signer_for
from signoff.services.users import authenticate, signing_key
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


def _chosen_runs(runs: Iterable[AnalysisRun], chosen: set[str], other_logs: set[str]) -> list[AnalysisRun]:
    """The latest run for each (kind, inputs) that reads no log outside the review's chosen logs."""
    latest: dict[str, AnalysisRun] = {}
    for run in runs:
        read = set(run.inputs.values())
        if read & other_logs and not read <= chosen:
            continue
        key = canonical_hash({"kind": run.kind, "inputs": run.inputs})
        if key not in latest or run.id > latest[key].id:
            latest[key] = run
    return sorted(latest.values(), key=lambda r: r.id)


def _assemble(uow: UnitOfWork, model_version_id: int, log_ids: Iterable[int], findings: tuple[Finding, ...]):
    version = uow.models.get(model_version_id)
    all_logs = uow.logs.list(model_version_id=model_version_id)
    by_id = {log.id: log for log in all_logs}
    chosen_logs = [by_id[i] for i in log_ids]
    chosen = {log.evidence_sha256 for log in chosen_logs}
    others = {log.evidence_sha256 for log in all_logs} - chosen
    runs = _chosen_runs(uow.analysis_runs.list(model_version_id=model_version_id), chosen, others)
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
    )


def _status(uow: UnitOfWork, review_id: int, *, for_update: bool = False) -> ReviewStatus:
    """The review as it stands now. A signature counts only if it verifies; a change (``for_update``)
    is refused while the review's row disagrees with its signed and audited events."""
    stored = uow.reviews.get(review_id, for_update=for_update)
    checked, problems = review_with_verification(uow, stored)
    if for_update and problems:
        raise IntegrityError(TAMPERED.format(review_id=review_id, problems="; ".join(problems)))
    bundle = _assemble(uow, stored.model_version_id, uow.reviews.log_ids(review_id), stored.findings)
    live = replace(checked, bundle_hash=bundle.hash, analysts=bundle.analysts)
    return ReviewStatus(live, bundle, stored.bundle_hash, problems)


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
) -> ReviewStatus:
    def change(review: Review, editor: User, now: datetime):
        finding = new_finding(
            review.findings,
            type=type,
            severity=severity,
            title=title,
            author=editor.username,
            description=description,
            created_at=now,
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
) -> ReviewStatus:
    """Sign review ``review_id`` with ``meaning``, re-authenticating ``username`` with ``password``.

    ``bundle_hash`` (the hash the signer was shown) and ``expected_version`` make the signature bind
    exactly what was shown: if the evidence or the review moved meanwhile, nothing is signed.
    """
    if isinstance(meaning, str):
        meaning = parse_meaning(meaning)
    action = ACTION_FOR_MEANING[meaning]
    user = authenticate(db, username, password, purpose=f"sign review {review_id}")
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
            draft = Signature(
                review_id=review_id,
                signer=signer.username,
                printed_name=signer.full_name,
                role=MEANING_ROLE[meaning],
                meaning=meaning,
                signed_at=_now(),
                bundle_hash=status.bundle.hash,
                public_key_fingerprint=fingerprint(key.public_key),
            )
            signed = replace(draft, signature=sign_manifest(draft.manifest()))
            after = transition(status.review, action, signer, now=signed.signed_at, signature=signed)
            _record_bundle(uow, status.bundle)
            stored = uow.reviews.add_signature(signed)
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
