"""The verdict of ``signoff verify`` on a database: the audit chain, and every signature against its key.

A signature is good when its signer exists, its key fingerprint is the signer's stored public key, the
Ed25519 signature verifies over the manifest rebuilt from the stored row, and the audit log's record of
the signing says the same. Each failure names the signature and what does not match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signoff.domain.audit import ChainVerdict


@dataclass(frozen=True)
class SignatureProblem:
    signature_id: int
    review_id: int | None
    signer: str
    problem: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "signature_id": self.signature_id,
            "review_id": self.review_id,
            "signer": self.signer,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class DatabaseVerification:
    chain: ChainVerdict
    signatures_checked: int
    problems: tuple[SignatureProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "audit_chain": {
                "ok": self.chain.ok,
                "events_checked": self.chain.events_checked,
                "head_hash": self.chain.head_hash,
                "first_bad_sequence": self.chain.first_bad_sequence,
                "reason": self.chain.reason,
            },
            "signatures_checked": self.signatures_checked,
            "signature_problems": [p.to_dict() for p in self.problems],
        }
