"""Signed acts other than review signatures: waivers and trust decisions, made and verified.

``sign_act`` re-authenticates the person (an approver or administrator), checks their role and hands
back a function that signs a manifest with their Ed25519 key, like a review signature. ``verify_signed_acts``
is ``signoff verify``'s check of every waiver and every trust decision against the granter's stored
public keys (current or retired by a password reset) and, for waivers, against the audit log's record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from signoff.domain.audit import SESSION_KEY
from signoff.domain.users import Role, User, check_has_any_role
from signoff.domain.verification import SignatureProblem
from signoff.services.security import fingerprint, signature_is_valid, signer_for
from signoff.services.users import authenticate, check_password_current, signing_key
from signoff.storage import Database

TRUSTED = "model.artifact_trusted"
WAIVED = "waiver.granted"
RISK_ACCEPTED = "condition.closed"  # signed when an approver accepts an unmet condition's risk
CA_IMPORTED = "authority.ca_imported"  # an administrator makes an organisation's CA the issuer
# Signed acts recorded only in the audit log: the event carries the manifest, signature and key.
SIGNED_EVENTS = {
    TRUSTED: "trust decision",
    RISK_ACCEPTED: "risk acceptance",
    CA_IMPORTED: "organisation CA import",
}


def sign_act(
    db: Database, username: str, password: str, *, roles: Iterable[Role], what: str, purpose: str
) -> tuple[User, Callable[[dict[str, Any]], bytes]]:
    """The re-authenticated account and its signing function, or ``PermissionDenied`` saying why not."""
    user = authenticate(db, username, password, purpose=purpose)
    check_password_current(user)
    check_has_any_role(user, roles, what)
    return user, signer_for(user.username, signing_key(db, user.username), password)


def _key_for(user: User | None, key_fingerprint: str) -> bytes | None:
    if user is None:
        return None
    return next((k for k in user.public_keys() if fingerprint(k) == key_fingerprint), None)


def verify_signed_acts(db: Database) -> list[SignatureProblem]:
    """Every waiver and trust decision whose signature is missing, broken or not its granter's."""
    problems: list[SignatureProblem] = []
    with db.transaction(write=False) as uow:
        users = {u.username: u for u in uow.users.list()}
        recorded = {
            e.entity: e.payload for e in uow.audit.list(action=WAIVED) if e.entity.startswith("waiver:")
        }
        for waiver in uow.waivers.all():
            entity = f"waiver:{waiver.id}"

            def problem(text: str, waiver=waiver) -> None:
                problems.append(
                    SignatureProblem(waiver.id, None, waiver.granted_by, f"waiver {waiver.id}: {text}")
                )

            record = recorded.get(entity)
            if not waiver.signature:
                # Granted before waivers were signed: acceptable only as the audit log recorded it then.
                legacy = (
                    record is not None
                    and SESSION_KEY not in record
                    and all(record.get(k) == v for k, v in waiver.to_dict().items() if k != "id")
                )
                if not legacy:
                    problem("it carries no signature and no matching record from before waivers were signed")
                continue
            key = _key_for(users.get(waiver.granted_by), waiver.public_key_fingerprint)
            if key is None:
                problem(f"its signer {waiver.granted_by!r} has no key with the fingerprint it names")
            elif not signature_is_valid(key, waiver.manifest(), waiver.signature):
                problem(
                    "the Ed25519 signature does not verify over its record (rule, scope, justification, "
                    "until, granter or time were altered, or the signature itself)"
                )
            if record is None:
                problem("the audit log has no record of it being granted")
            elif (
                record.get("manifest") != waiver.manifest()
                or record.get("signature") != waiver.signature.hex()
            ):
                problem("it differs from the audit log's record of the grant")
        for action, what in SIGNED_EVENTS.items():
            for event in uow.audit.list(action=action):
                payload = event.payload
                if "signature" not in payload:
                    continue  # unsigned by design (a closing with evidence) or from before acts were signed
                manifest = payload.get("manifest", {})
                key = _key_for(users.get(event.actor), str(payload.get("public_key_fingerprint", "")))
                try:
                    signature = bytes.fromhex(str(payload["signature"]))
                except ValueError:
                    signature = b""
                valid = key is not None and signature_is_valid(key, manifest, signature)
                if action == TRUSTED and manifest.get("artifact_sha256") != payload.get("artifact_sha256"):
                    valid = False
                if not valid:
                    problems.append(
                        SignatureProblem(
                            event.sequence,
                            None,
                            event.actor,
                            f"{what} (audit event {event.sequence}, {event.entity}): its signature does not verify",
                        )
                    )
    return problems
