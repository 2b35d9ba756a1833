"""People and reviews shared by the review state-machine tests (pure domain objects, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from signoff.domain.review import (
    MEANING_ROLE,
    Review,
    ReviewState,
    Signature,
    SignatureMeaning,
)
from signoff.domain.users import Role, User

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HASH_A = "a" * 64
HASH_B = "b" * 64


def user(name: str, *roles: Role, disabled: bool = False) -> User:
    return User(
        id=abs(hash(name)) % 10_000,
        username=name,
        full_name=name.capitalize() + " Example",
        email=f"{name}@example.org",
        roles=frozenset(roles),
        disabled=disabled,
    )


ALICE = user("alice", Role.REVIEWER)  # opens the reviews
BOB = user("bob", Role.REVIEWER)
CAROL = user("carol", Role.APPROVER)
DAVE = user("dave", Role.APPROVER)  # produced an analysis in the bundle
ERIN = user("erin", Role.ADMIN)
VICTOR = user("victor", Role.VIEWER)
ZOE = user("zoe", Role.REVIEWER, Role.APPROVER)


def review(state: ReviewState = ReviewState.DRAFT, **changes) -> Review:
    base = Review(
        id=7,
        model_version_id=3,
        state=state,
        opened_by="alice",
        opened_at=NOW,
        bundle_hash=HASH_A,
        analysts=frozenset({"dave"}),
    )
    return replace(base, **changes)


def signature(
    signer: User, meaning: SignatureMeaning, bundle_hash: str = HASH_A, review_id: int = 7
) -> Signature:
    return Signature(
        review_id=review_id,
        signer=signer.username,
        printed_name=signer.full_name,
        role=MEANING_ROLE[meaning],
        meaning=meaning,
        signed_at=NOW,
        bundle_hash=bundle_hash,
        signature=b"\x01" * 64,
        public_key_fingerprint="f" * 64,
        # An approval with conditions signs why, and at least one owned, dated condition.
        **(
            {
                "justification": "Usable while the young-applicant gap is closed.",
                "conditions": ({"text": "retrain on 2027 data", "owner": "bob", "due": "2027-03-31"},),
            }
            if meaning is SignatureMeaning.APPROVED_WITH_CONDITIONS
            else {}
        ),
    )
