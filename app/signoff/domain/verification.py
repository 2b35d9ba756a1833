"""The verdict of ``signoff verify`` on a database: the audit chain, every signature, every derived row.

A signature is good when its signer exists, its key fingerprint is the signer's stored public key, the
Ed25519 signature verifies over the manifest rebuilt from the stored row, and the audit log's record of
the signing says the same. A row is good when it re-hashes (blobs, results, bundles) and agrees with what
its audited events derive (review states, roles, waivers, logs). Each failure names the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signoff.domain.audit import ChainVerdict
from signoff.domain.integrity import RowProblem


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
    row_problems: tuple[RowProblem, ...] = ()
    quick: bool = False  # evidence blobs were not re-hashed
    blobs_rehashed: int = 0

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems and not self.row_problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "quick": self.quick,
            "audit_chain": {
                "ok": self.chain.ok,
                "events_checked": self.chain.events_checked,
                "head_hash": self.chain.head_hash,
                "first_bad_sequence": self.chain.first_bad_sequence,
                "reason": self.chain.reason,
            },
            "signatures_checked": self.signatures_checked,
            "signature_problems": [p.to_dict() for p in self.problems],
            "evidence_blobs_rehashed": self.blobs_rehashed,
            "row_problems": [p.to_dict() for p in self.row_problems],
        }
