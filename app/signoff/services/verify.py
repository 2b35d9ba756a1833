"""``signoff verify``: recompute everything the database claims, never trusting a stored summary.

The audit chain is recomputed; every evidence blob is re-hashed against its name (the hash recorded at
import), every analysis result against its ``result_sha256`` and the event that recorded it, every
evidence bundle a signature binds; each review's state, each user's roles and key, each waiver and each
log row are compared with what the audit log's events derive (``domain/integrity.py``); every signature
is checked against its signer's audited key and the audit log's record of the signing. One function per
check, each returning the rows it finds wrong, so the report export and the review service reuse them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from signoff.domain.audit import AuditEvent
from signoff.domain.canonical import canonical_hash
from signoff.domain.decision import ConditionStatus
from signoff.domain.errors import IntegrityError
from signoff.domain.integrity import (
    ANALYSIS_RECORDED,
    DERIVING_ACTIONS,
    LOG_IMPORTED,
    POLICY_EVALUATED,
    USER_CREATED,
    USER_PASSWORD_RESET,
    DerivedRecords,
    RowProblem,
    derive_records,
)
from signoff.domain.review import Review, Signature
from signoff.domain.users import User
from signoff.domain.verification import DatabaseVerification, SignatureProblem
from signoff.services.security import fingerprint, signature_is_valid
from signoff.services.signed_acts import verify_signed_acts
from signoff.storage import Database, UnitOfWork

Progress = Callable[[int, int], None]  # (evidence bytes re-hashed, bytes in all)

PER_ROW_ACTIONS = frozenset({LOG_IMPORTED, ANALYSIS_RECORDED, POLICY_EVALUATED})
NOT_VERIFIED = (
    "the evidence does not verify, so nothing was exported: {problems}. Run `signoff verify` for the "
    "full list and restore the database from a backup."
)


@dataclass(frozen=True)
class AuditedFacts:
    """What the audit log says, read once: the derived rows and the users' audited keys."""

    derived: DerivedRecords
    # username -> the stored public keys (current and retired) that the audit log records for the account
    audited_keys: dict[str, tuple[bytes, ...]]


def verify_database(
    db: Database, *, quick: bool = False, progress: Progress | None = None
) -> DatabaseVerification:
    """Every check; ``quick`` skips re-hashing the evidence blobs (the verdict says so)."""
    with db.transaction(write=False) as uow:
        # A log's or a run's event is read only when its row exists: the other checks need every event
        # of their kind (to name rows that are gone), these only the rows' own.
        row_entities = {f"prediction_log:{log.id}" for log in uow.logs.list()}
        row_entities |= {f"analysis_run:{run_id}" for run_id in uow.analysis_runs.ids()}

        def wanted(action: str, entity: str) -> bool:
            if action in PER_ROW_ACTIONS:
                return entity in row_entities
            return action in DERIVING_ACTIONS

        events: list[AuditEvent] = []
        chain = uow.audit.verify(visit=events.append, wanted=wanted)
        users = uow.users.list()
        facts = audited_facts(users, events)
        signatures = list(uow.reviews.iter_signatures())
        rows: list[RowProblem] = [
            *user_problems(users, facts.derived),
            *review_problems(uow.reviews.list(), facts.derived),
            *waiver_problems(uow, facts.derived),
            *condition_problems(uow, facts.derived),
            *analysis_run_problems(uow, facts.derived),
            *prediction_log_problems(uow, facts.derived),
            # The full pass below re-hashes every blob, bundles included; --quick still re-hashes these.
            *bundle_problems(uow, {s.bundle_hash for s in signatures}, rehash=quick),
        ]
        blobs = 0
        if not quick:
            blobs = uow.evidence.count()
            rows.extend(blob_problems(uow, progress))
        problems = signature_problems(signatures, users, facts)
    problems.extend(verify_signed_acts(db))  # waivers, trust decisions, risk acceptances
    return DatabaseVerification(
        chain, len(signatures), tuple(problems), tuple(rows), quick=quick, blobs_rehashed=blobs
    )


def audited_facts(users: Iterable[User], events: list[AuditEvent]) -> AuditedFacts:
    """Derive the rows from ``events`` (in sequence order); a signing counts only under an audited key
    (the derivation also checks it was the account's key at the time of signing)."""
    audited_fingerprints: dict[str, set[str]] = {}
    for event in events:
        if event.action in (USER_CREATED, USER_PASSWORD_RESET) and isinstance(event.payload, dict):
            username = event.entity.partition(":")[2]
            audited_fingerprints.setdefault(username, set()).add(
                str(event.payload.get("public_key_fingerprint"))
            )
    audited_keys = {
        user.username: tuple(
            k for k in user.public_keys() if fingerprint(k) in audited_fingerprints.get(user.username, ())
        )
        for user in users
    }

    def signature_valid(username: str, manifest: Mapping[str, Any], signature_hex: str) -> bool:
        try:
            signature = bytes.fromhex(signature_hex)
        except ValueError:
            return False
        return any(signature_is_valid(k, dict(manifest), signature) for k in audited_keys.get(username, ()))

    return AuditedFacts(derive_records(events, signature_valid), audited_keys)


def audited_facts_of(uow: UnitOfWork, review_id: int, *, until: int | None = None) -> AuditedFacts:
    """The audited facts one review needs: its own events and the users' (indexed reads, no full scan),
    as they stood after event ``until`` when given."""
    events = _deriving_events(uow, ("user",)) + uow.audit.list(entity=f"review:{review_id}")
    events = sorted((e for e in events if until is None or e.sequence <= until), key=lambda e: e.sequence)
    return audited_facts(uow.users.list(), events)


def _deriving_events(uow: UnitOfWork, prefixes: Iterable[str]) -> list[AuditEvent]:
    """The events of the deriving actions under these prefixes, in sequence order (indexed reads)."""
    events = [e for prefix in prefixes for e in uow.audit.list(action=prefix) if e.action in DERIVING_ACTIONS]
    return sorted(events, key=lambda e: e.sequence)


# ------------------------------------------------------------------------------------------- the checks


def signature_problems(
    signatures: Iterable[Signature], users: Iterable[User], facts: AuditedFacts
) -> list[SignatureProblem]:
    """Each stored signature against its signer's key and the audit log's record of the signing."""
    keys = {user.username: user for user in users}
    recorded = facts.derived.signings
    problems: list[SignatureProblem] = []
    seen: set[int] = set()
    for signature in signatures:
        assert signature.id is not None
        seen.add(signature.id)
        key = signing_key_of(keys.get(signature.signer), signature)
        for text in stored_signature_problems(signature, key, recorded):
            problems.append(SignatureProblem(signature.id, signature.review_id, signature.signer, text))
    for missing in sorted(set(recorded) - seen):
        manifest = recorded[missing].get("manifest", {})
        problems.append(
            SignatureProblem(
                missing,
                manifest.get("review_id"),
                str(manifest.get("username", "")),
                "the audit log records this signature but the database no longer holds it",
            )
        )
    return problems


def stored_signature_problems(
    signature: Signature, public_key: bytes | None, recorded: Mapping[int, Mapping[str, Any]]
) -> list[str]:
    """What is wrong with one stored signature; empty when it verifies and the audit log records it."""
    problems = key_problems(public_key, signature)
    if public_key is None:
        return problems
    record = recorded.get(signature.id) if signature.id is not None else None
    if record is None:
        problems.append("the audit log has no record of this signature being made")
    elif (
        record.get("manifest") != signature.manifest() or record.get("signature") != signature.signature.hex()
    ):
        problems.append("it differs from the audit log's record of the signing")
    return problems


def _signing_key(user_keys: tuple[bytes, ...] | None, key_fingerprint: str) -> bytes | None:
    """The user's key that the signature names, else their current key (so a mismatch is reported)."""
    if not user_keys:
        return None
    return next((k for k in user_keys if fingerprint(k) == key_fingerprint), user_keys[0])


def signing_key_of(signer: User | None, signature: Signature) -> bytes | None:
    """The signer's key (current, or retired by a password reset) that ``signature`` names, else their
    current key (so that a mismatch is reported); None when the signer is not a user of the database."""
    if signer is None:
        return None
    keys = signer.public_keys()
    return next((k for k in keys if fingerprint(k) == signature.public_key_fingerprint), keys[0])


def key_problems(public_key: bytes | None, signature: Signature) -> list[str]:
    """What is wrong with ``signature`` under its signer's stored public key; empty when it verifies.

    ``public_key`` is None when the signer is not a user of the database.
    """
    if public_key is None:
        return [f"its signer {signature.signer!r} is not a user of this database"]
    problems = []
    if fingerprint(public_key) != signature.public_key_fingerprint:
        problems.append("it names a key that is not its signer's public key")
    if not signature_is_valid(public_key, signature.manifest(), signature.signature):
        problems.append(
            "the Ed25519 signature does not verify over its record (signer, printed name, role, "
            "meaning, time, bundle hash or review were altered, or the signature itself)"
        )
    return problems


def user_problems(users: Iterable[User], derived: DerivedRecords) -> list[RowProblem]:
    """Each account's roles, disabled flag, name and key against its audited creation and grants."""
    problems = []
    for user in users:

        def problem(text: str, user: User = user) -> None:
            problems.append(RowProblem("app_user", repr(user.username), text))

        audited = derived.users.get(user.username)
        if audited is None:
            problem("no audit event records this account being created")
            continue
        roles = frozenset(r.value for r in user.roles)
        if roles != audited.roles:
            problem(
                f"it holds the roles {_roles(roles)}, but the audited grants give {_roles(audited.roles)}"
            )
        if user.disabled != audited.disabled:
            problem(
                "it is "
                + ("disabled" if user.disabled else "enabled")
                + ", but the audit log says "
                + ("disabled" if audited.disabled else "enabled")
            )
        if user.full_name != audited.full_name:
            problem(f"its full name {user.full_name!r} is not the audited {audited.full_name!r}")
        if fingerprint(user.public_key) != audited.key_fingerprint:
            problem("its public key is not the one its audited creation or last reset recorded (key swapped)")
        if [fingerprint(k) for k in user.retired_public_keys] != audited.retired_fingerprints:
            problem("its retired public keys are not the ones its audited password resets retired")
        if user.must_change_password != audited.must_change_password:
            problem(
                "its forced password change is "
                + ("set" if user.must_change_password else "cleared")
                + ", but the audited resets and changes say otherwise"
            )
    return problems


def review_problems(reviews: Iterable[Review], derived: DerivedRecords) -> list[RowProblem]:
    """Each review's stored state against the state its audited, verifying signatures lead to."""
    problems = []
    for review in reviews:
        problems.extend(
            RowProblem("review", str(review.id), text) for text in one_review_problems(review, derived)
        )
    return problems


def one_review_problems(review: Review, derived: DerivedRecords) -> list[str]:
    audited = derived.reviews.get(review.id)
    if audited is None:
        return ["no audit event records this review being opened"]
    problems = list(audited.problems)
    if review.state is not audited.state:
        problems.append(
            f"its state is {review.state.value!r}, but its signed and audited events lead to "
            f"{audited.state.value!r}"
        )
    if review.opened_by != audited.opened_by:
        problems.append(
            f"it names {review.opened_by!r} as its opener; the audit log names {audited.opened_by!r}"
        )
    if review.model_version_id != audited.model_version_id:
        problems.append("it is about another model version than the one it was opened for")
    if tuple(review.requirements) != audited.requirements:
        problems.append("its required signatures are not the ones recorded when it was opened")
    return problems


def unverified_signatures(review: Review, derived: DerivedRecords) -> frozenset[int]:
    """The review's stored signatures that do not count: not audited as made, or not verifying."""
    audited = derived.reviews.get(review.id)
    counted = audited.signature_ids if audited is not None else set()
    unverified = set()
    for signature in review.signatures:
        record = derived.signings.get(signature.id) if signature.id is not None else None
        if (
            signature.id not in counted
            or record is None
            or record.get("manifest") != signature.manifest()
            or record.get("signature") != signature.signature.hex()
        ):
            unverified.add(signature.id)
    return frozenset(i for i in unverified if i is not None)


def waiver_problems(uow: UnitOfWork, derived: DerivedRecords) -> list[RowProblem]:
    """Each waiver against the audited grant that created it."""
    problems = []
    stored = {w.id: w for w in uow.waivers.all()}
    for waiver_id, waiver in stored.items():
        granted = derived.waivers.get(waiver_id)
        if granted is None:
            problems.append(RowProblem("waiver", str(waiver_id), "no audit event records it being granted"))
            continue
        expected = {"model_version_id": waiver.model_version_id, **waiver.to_dict()}
        changed = sorted(k for k in expected if granted.get(k) != expected[k])
        if changed:
            problems.append(
                RowProblem(
                    "waiver", str(waiver_id), f"its {', '.join(changed)} differ from the audited grant"
                )
            )
    for waiver_id in sorted(set(derived.waivers) - set(stored)):
        problems.append(
            RowProblem("waiver", str(waiver_id), "the audit log records it being granted but it is gone")
        )
    return problems


def condition_problems(uow: UnitOfWork, derived: DerivedRecords) -> list[RowProblem]:
    """Each condition of an approval against the signed approval that set it and the audited closing."""
    problems = []
    rows = uow.conditions.list()
    signed_by = uow.conditions.signature_ids()
    for condition in rows:

        def problem(text: str, condition_id: int = condition.id) -> None:
            problems.append(RowProblem("review_condition", str(condition_id), text))

        signing = derived.signings.get(signed_by[condition.id], {})
        manifest = signing.get("manifest") if isinstance(signing.get("manifest"), dict) else {}
        signed = manifest.get("conditions") if isinstance(manifest.get("conditions"), list) else []
        if not 0 < condition.number <= len(signed) or manifest.get("review_id") != condition.review_id:
            problem("no audited approval with conditions of its review signed it")
        elif signed[condition.number - 1] != condition.terms.content():
            problem("its text, owner or due date differ from what the approval signed")
        closing = derived.closings.get(condition.id)
        if closing is None:
            if condition.status is not ConditionStatus.OPEN:
                problem(f"it is {condition.status.value}, but no audit event records it being closed")
            continue
        recorded = (closing.payload.get("status"), closing.payload.get("evidence"), closing.actor)
        if (condition.status.value, condition.evidence, condition.closed_by) != recorded:
            problem("its status, evidence or closer differ from the audited closing")
    present = {(signed_by[c.id], c.number) for c in rows}
    for signature_id, signing in sorted(derived.signings.items()):
        manifest = signing.get("manifest") if isinstance(signing.get("manifest"), dict) else {}
        signed = manifest.get("conditions") if isinstance(manifest.get("conditions"), list) else []
        for number in range(1, len(signed) + 1):
            if (signature_id, number) not in present:
                problems.append(
                    RowProblem(
                        "review_condition",
                        f"{number} of signature {signature_id}",
                        "the approval signed this condition but the database no longer holds it",
                    )
                )
    return problems


def analysis_run_problems(
    uow: UnitOfWork, derived: DerivedRecords, *, only: Collection[int] | None = None
) -> list[RowProblem]:
    """Each analysis result re-hashed against its ``result_sha256`` and the event that recorded it."""
    problems = []
    for run in uow.analysis_runs.iter_all():
        if only is not None and run.id not in only:
            continue

        def problem(text: str, run_id: int = run.id) -> None:
            problems.append(RowProblem("analysis_run", str(run_id), text))

        actual = canonical_hash(run.result)
        if actual != run.result_sha256:
            problem(
                f"its stored result hashes to {actual}, not its result_sha256 {run.result_sha256}: altered"
            )
        recorded = derived.runs.get(run.id)
        if recorded is None:
            problem("no audit event records this result being computed")
            continue
        if recorded.get("result_sha256") != actual:
            problem(f"its result is not the one the audit log recorded ({recorded.get('result_sha256')})")
        for name, value in (("model_version_id", run.model_version_id), ("inputs", run.inputs)):
            if name in recorded and recorded[name] != value:
                problem(f"its {name} differ from the audit log's record")
    return problems


def prediction_log_problems(
    uow: UnitOfWork, derived: DerivedRecords, *, only: Collection[int] | None = None
) -> list[RowProblem]:
    """Each log row's evidence hash, row count and model version against its audited import."""
    problems = []
    for log in uow.logs.list():
        if only is not None and log.id not in only:
            continue
        imported = derived.logs.get(log.id)
        if imported is None:
            problems.append(RowProblem("prediction_log", str(log.id), "no audit event records its import"))
            continue
        stored = {
            "evidence_sha256": log.evidence_sha256,
            "rows": log.rows,
            "model_version_id": log.model_version_id,
            "source_sha256": log.source_sha256,
        }
        changed = sorted(k for k, v in stored.items() if k in imported and imported[k] != v)
        if changed:
            problems.append(
                RowProblem(
                    "prediction_log", str(log.id), f"its {', '.join(changed)} differ from its audited import"
                )
            )
    return problems


def bundle_problems(
    uow: UnitOfWork, bundle_hashes: Iterable[str], *, rehash: bool = True
) -> list[RowProblem]:
    """Each evidence bundle a signature binds: stored, and (``rehash``) its bytes still hash to that hash."""
    problems = []
    for bundle_hash in sorted(set(bundle_hashes)):
        if not uow.evidence.exists(bundle_hash):
            problems.append(
                RowProblem("evidence_blob", bundle_hash, "a signature binds this bundle; it is not stored")
            )
            continue
        damage = uow.evidence.damage(bundle_hash) if rehash else None
        if damage is not None:
            problems.append(RowProblem("evidence_blob", bundle_hash, damage))
    return problems


def blob_problems(uow: UnitOfWork, progress: Progress | None = None) -> list[RowProblem]:
    """Every evidence blob re-hashed against the hash recorded at import (its name)."""
    return [RowProblem("evidence_blob", sha256, text) for sha256, text in uow.evidence.iter_damage(progress)]


def cited_evidence_problems(
    uow: UnitOfWork,
    *,
    log_ids: Collection[int],
    run_ids: Collection[int],
    review: Review | None,
) -> list[RowProblem]:
    """The checks over exactly what one report cites: its logs' blobs (re-hashed), runs, review, bundle."""
    users = uow.users.list()
    facts = audited_facts(users, _deriving_events(uow, ("user", "review", "analysis", "policy", "log")))
    problems = [
        *prediction_log_problems(uow, facts.derived, only=log_ids),
        *analysis_run_problems(uow, facts.derived, only=run_ids),
    ]
    for log in uow.logs.list():
        if log.id in log_ids:
            damage = uow.evidence.damage(log.evidence_sha256)
            if damage is not None:
                problems.append(RowProblem("evidence_blob", log.evidence_sha256, damage))
    if review is not None:
        problems += [
            RowProblem("review", str(review.id), t) for t in one_review_problems(review, facts.derived)
        ]
        problems += bundle_problems(uow, {s.bundle_hash for s in review.signatures})
        signers = {user.username: user for user in users}
        for signature in review.signatures:
            key = signing_key_of(signers.get(signature.signer), signature)
            for text in stored_signature_problems(signature, key, facts.derived.signings):
                problems.append(RowProblem("signature", str(signature.id), text))
    return problems


def check_cited_evidence(problems: list[RowProblem]) -> None:
    """Refuse (``IntegrityError``) when any cited row fails its check, naming them."""
    if problems:
        raise IntegrityError(NOT_VERIFIED.format(problems="; ".join(str(p) for p in problems[:10])))


def review_with_verification(uow: UnitOfWork, review: Review) -> tuple[Review, tuple[str, ...]]:
    """The review with the signatures that do not verify marked (they never count), and what disagrees
    between its row and its audited events."""
    facts = audited_facts_of(uow, review.id)
    unverified = unverified_signatures(review, facts.derived)
    signers = {user.username: user for user in uow.users.list()}
    for signature in review.signatures:
        if key_problems(signing_key_of(signers.get(signature.signer), signature), signature):
            unverified |= {signature.id} if signature.id is not None else set()
    return (
        replace(review, unverified_signatures=frozenset(unverified)),
        tuple(one_review_problems(review, facts.derived)),
    )


def account_problems(uow: UnitOfWork, user: User) -> list[str]:
    """Where one account's row disagrees with its audited creation and grants (its own events only)."""
    events = sorted(uow.audit.list(entity=f"user:{user.username}"), key=lambda e: e.sequence)
    facts = audited_facts([user], [e for e in events if e.action in DERIVING_ACTIONS])
    return [p.problem for p in user_problems([user], facts.derived)]


def _roles(roles: Iterable[str]) -> str:
    return ", ".join(sorted(roles)) or "none"
