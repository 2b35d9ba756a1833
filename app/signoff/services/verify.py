"""``signoff verify``: recompute the audit hash chain and check every electronic signature.

Each stored signature is checked against the signer's stored public key over the manifest rebuilt
from its row, and against the audit log's record of the signing (which the hash chain protects), so
a row altered, fabricated or removed behind Signoff's back is named.
"""

from __future__ import annotations

from typing import Any

from signoff.domain.review import Signature
from signoff.domain.verification import DatabaseVerification, SignatureProblem
from signoff.services.security import fingerprint, signature_is_valid
from signoff.services.signed_acts import verify_signed_acts
from signoff.storage import Database


def verify_database(db: Database) -> DatabaseVerification:
    with db.transaction(write=False) as uow:
        chain = uow.audit.verify()
        # Every key a user signed with: the current one, and those retired by a password reset.
        keys = {user.username: user.public_keys() for user in uow.users.list()}
        recorded: dict[int, dict[str, Any]] = {}
        for event in uow.audit.list(action="review.signed"):
            signature_id = event.payload.get("signature_id")
            if isinstance(signature_id, int):
                recorded[signature_id] = event.payload
        problems: list[SignatureProblem] = []
        checked = 0
        seen: set[int] = set()
        for signature in uow.reviews.iter_signatures():
            checked += 1
            assert signature.id is not None
            seen.add(signature.id)

            def problem(text: str, signature=signature) -> None:
                problems.append(SignatureProblem(signature.id, signature.review_id, signature.signer, text))

            public_key = _signing_key(keys.get(signature.signer), signature.public_key_fingerprint)
            for text in key_problems(public_key, signature):
                problem(text)
            if public_key is None:
                continue
            record = recorded.get(signature.id)
            if record is None:
                problem("the audit log has no record of this signature being made")
            elif (
                record.get("manifest") != signature.manifest()
                or record.get("signature") != signature.signature.hex()
            ):
                problem("it differs from the audit log's record of the signing")
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
    problems.extend(verify_signed_acts(db))  # waivers and trust decisions (services/signed_acts.py)
    return DatabaseVerification(chain, checked, tuple(problems))


def _signing_key(user_keys: tuple[bytes, ...] | None, key_fingerprint: str) -> bytes | None:
    """The user's key that the signature names, else their current key (so a mismatch is reported)."""
    if not user_keys:
        return None
    return next((k for k in user_keys if fingerprint(k) == key_fingerprint), user_keys[0])


def key_problems(public_key: bytes | None, signature: Signature) -> list[str]:
    """What is wrong with ``signature`` under its signer's stored public key; empty when it verifies.

    ``public_key`` is None when the signer is not a user of the database. Shared by ``signoff verify``
    and the check of a report's signatures (``services/report.py``).
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
