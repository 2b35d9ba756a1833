"""Deriving rows from audit events: a review's state follows only from signatures that verify and were
given in a role the signer held by the audited grants at that moment (issue 18)."""

from __future__ import annotations

from datetime import UTC, datetime

from signoff.domain.audit import AuditEvent
from signoff.domain.integrity import derive_records
from signoff.domain.review import ReviewState

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BUNDLE = "b" * 64


def _event(sequence, action, entity, payload, actor="root"):
    return AuditEvent(
        sequence=sequence, occurred_at=T, actor=actor, action=action, entity=entity, payload=payload
    )


KEYS = {"bob": "f", "carol": "g"}  # each account's audited key fingerprint at creation


def _signed(sequence, signature_id, who, role, meaning, key=None):
    manifest = {
        "format": "signoff.review-signature/1",
        "review_id": 1,
        "username": who,
        "printed_name": who.title(),
        "role": role,
        "meaning": meaning,
        "signed_at": "2026-03-01T12:00:00.000000Z",
        "bundle_hash": BUNDLE,
    }
    return _event(
        sequence,
        "review.signed",
        "review:1",
        {
            "signature_id": signature_id,
            "manifest": manifest,
            "signature": "00",
            "public_key_fingerprint": key or KEYS[who],
            "state_after": "?",
        },
        actor=who,
    )


def _world(*later):
    return [
        _event(
            1,
            "user.created",
            "user:bob",
            {"full_name": "Bob", "roles": ["reviewer"], "public_key_fingerprint": "f"},
        ),
        _event(
            2,
            "user.created",
            "user:carol",
            {"full_name": "Carol", "roles": ["approver"], "public_key_fingerprint": "g"},
        ),
        _event(
            3,
            "review.opened",
            "review:1",
            {
                "model_version": {"id": 7},
                "required_signatures": [{"role": "reviewer", "count": 1}, {"role": "approver", "count": 1}],
            },
            actor="alice",
        ),
        _event(4, "review.submitted", "review:1", {}, actor="alice"),
        *later,
    ]


def test_the_state_follows_the_counted_signatures():
    derived = derive_records(
        _world(_signed(5, 1, "bob", "reviewer", "reviewed"), _signed(6, 2, "carol", "approver", "approved")),
        lambda *_: True,
    )
    review = derived.reviews[1]
    assert review.state is ReviewState.APPROVED and review.signature_ids == {1, 2} and not review.problems
    assert derived.users["carol"].roles == {"approver"}


def test_a_signature_in_a_role_not_granted_by_an_audited_event_does_not_count():
    derived = derive_records(
        _world(_signed(5, 1, "carol", "reviewer", "reviewed"), _signed(6, 2, "bob", "approver", "approved")),
        lambda *_: True,
    )
    review = derived.reviews[1]
    assert review.state is ReviewState.IN_REVIEW and review.signature_ids == set()
    assert review.problems == [
        "'carol' signed as reviewer (audit event 5) but held approver by the audited grants at that time: "
        "the signature does not count",
        "'bob' signed as approver (audit event 6) but held reviewer by the audited grants at that time: "
        "the signature does not count",
    ]


def test_a_grant_counts_from_its_event_on_and_a_signature_that_does_not_verify_never_counts():
    grant = _event(
        5, "user.roles_changed", "user:bob", {"before": ["reviewer"], "after": ["approver", "reviewer"]}
    )
    derived = derive_records(
        _world(grant, _signed(6, 1, "carol", "approver", "rejected")),
        lambda username, manifest, signature: username != "carol",
    )
    assert derived.users["bob"].roles == {"approver", "reviewer"}
    review = derived.reviews[1]
    assert review.state is ReviewState.IN_REVIEW  # the rejection did not verify: it decides nothing
    assert "does not verify" in review.problems[0]


def test_after_a_password_reset_only_the_new_key_signs_and_the_old_one_is_retired():
    reset = _event(
        6,
        "user.password_reset",
        "user:carol",
        {"retired_key_fingerprint": "g", "public_key_fingerprint": "h", "must_change_password": True},
        actor="root",
    )
    derived = derive_records(
        _world(
            _signed(5, 1, "bob", "reviewer", "reviewed"),
            reset,
            _signed(7, 2, "carol", "approver", "approved", key="g"),  # the retired key: refused
        ),
        lambda *_: True,
    )
    carol = derived.users["carol"]
    assert (carol.key_fingerprint, carol.retired_fingerprints, carol.must_change_password) == (
        "h",
        ["g"],
        True,
    )
    review = derived.reviews[1]
    assert review.state is ReviewState.IN_REVIEW and review.signature_ids == {1}
    assert "names a key that was not 'carol'" in review.problems[0]
    changed = _event(7, "user.password_changed", "user:carol", {}, actor="carol")
    derived = derive_records(
        _world(reset, changed, _signed(8, 2, "carol", "approver", "approved", key="h")), lambda *_: True
    )
    assert not derived.users["carol"].must_change_password
    assert derived.reviews[1].signature_ids == {2}
