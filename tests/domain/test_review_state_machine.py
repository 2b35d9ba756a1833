"""The review state machine, exhaustively: every state x every action, roles, four-eyes, staleness."""

from __future__ import annotations

from dataclasses import replace

import pytest
from review_fixtures import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    HASH_A,
    HASH_B,
    NOW,
    VICTOR,
    ZOE,
    review,
    signature,
    user,
)

from signoff.domain.errors import ConflictError, InputError, PermissionDenied
from signoff.domain.review import (
    SIGNING_ACTIONS,
    TRANSITIONS,
    FindingStatus,
    ReviewAction,
    ReviewState,
    SignatureMeaning,
    SignatureRequirement,
    edit_finding,
    new_finding,
    requirements_from_policy,
    signature_manifest,
    transition,
)
from signoff.domain.users import Role

A, S, M = ReviewAction, ReviewState, SignatureMeaning

# Written out by hand from the issue, independently of TRANSITIONS: what each action does to a review
# without signatures in each state ("-" = refused with ConflictError).
EXPECTED_GRID = """
state                     edit_findings change_evidence submit    sign      approve   approve_with_conditions reject   revoke  supersede
draft                     draft         draft           in_review -         -         -                       -        -       superseded
in_review                 in_review     in_review       -         in_review in_review in_review               rejected -       superseded
approved                  -             -               -         -         -         -                       -        revoked superseded
approved_with_conditions  -             -               -         -         -         -                       -        revoked superseded
rejected                  -             -               -         -         -         -                       -        -       superseded
revoked                   -             -               -         -         -         -                       -        -       -
superseded                -             -               -         -         -         -                       -        -       -
"""


def _expected() -> dict[tuple[S, A], S | None]:
    lines = [line.split() for line in EXPECTED_GRID.strip().splitlines()]
    actions = [A(name) for name in lines[0][1:]]
    table = {}
    for row in lines[1:]:
        state = S(row[0])
        for action, cell in zip(actions, row[1:], strict=True):
            table[(state, action)] = None if cell == "-" else S(cell)
    return table


EXPECTED = _expected()

# Who takes each action in the exhaustive test: someone allowed to, so only the state decides.
ACTOR = {
    A.EDIT_FINDINGS: BOB,
    A.CHANGE_EVIDENCE: BOB,
    A.SUBMIT: BOB,
    A.SIGN: BOB,
    A.APPROVE: CAROL,
    A.APPROVE_WITH_CONDITIONS: CAROL,
    A.REJECT: CAROL,
    A.REVOKE: CAROL,
    A.SUPERSEDE: ERIN,
}


def _take(subject, action: A, actor):
    meaning = SIGNING_ACTIONS.get(action)
    finding = new_finding(
        subject.findings, type="limitation", severity="low", title="small test set", author="bob"
    )
    return transition(
        subject,
        action,
        actor,
        now=NOW,
        signature=signature(actor, meaning) if meaning else None,
        findings=(*subject.findings, finding),
        bundle_hash=HASH_B,
        reason="a leak was found in the validation data",
        superseded_by=8,
    )


def test_the_grid_covers_every_state_and_action():
    assert set(EXPECTED) == {(s, a) for s in S for a in A}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_state_and_action(state, action):
    subject = review(state)
    expected = EXPECTED[(state, action)]
    if expected is None:
        assert action not in TRANSITIONS[state]
        with pytest.raises(ConflictError, match=f"cannot {action.value.replace('_', ' ')} review 7"):
            _take(subject, action, ACTOR[action])
        return
    after = _take(subject, action, ACTOR[action])
    assert after.state is expected
    assert after.state in TRANSITIONS[state][action]
    assert subject.state is state  # the input is never mutated


# Which roles may take each action, by hand from the issue.
EXPECTED_ROLES = {
    A.EDIT_FINDINGS: {Role.REVIEWER, Role.APPROVER},
    A.CHANGE_EVIDENCE: {Role.REVIEWER},
    A.SUBMIT: {Role.REVIEWER},
    A.SIGN: {Role.REVIEWER},
    A.APPROVE: {Role.APPROVER},
    A.APPROVE_WITH_CONDITIONS: {Role.APPROVER},
    A.REJECT: {Role.APPROVER},
    A.REVOKE: {Role.APPROVER, Role.ADMIN},
    A.SUPERSEDE: {Role.REVIEWER, Role.APPROVER, Role.ADMIN},
}
STATE_FOR = {
    A.EDIT_FINDINGS: S.IN_REVIEW,
    A.CHANGE_EVIDENCE: S.DRAFT,
    A.SUBMIT: S.DRAFT,
    A.SIGN: S.IN_REVIEW,
    A.APPROVE: S.IN_REVIEW,
    A.APPROVE_WITH_CONDITIONS: S.IN_REVIEW,
    A.REJECT: S.IN_REVIEW,
    A.REVOKE: S.APPROVED,
    A.SUPERSEDE: S.APPROVED,
}


@pytest.mark.parametrize("action", list(A))
@pytest.mark.parametrize("role", list(Role))
def test_every_action_and_role(action, role):
    actor = user(f"only-{role.value}", role)
    subject = review(STATE_FOR[action])
    if role in EXPECTED_ROLES[action]:
        assert _take(subject, action, actor).state is not None
    else:
        with pytest.raises(PermissionDenied, match="that needs the"):
            _take(subject, action, actor)


@pytest.mark.parametrize("action", list(A))
def test_a_disabled_user_can_do_nothing(action):
    actor = replace(ACTOR[action], disabled=True)
    with pytest.raises(PermissionDenied, match="disabled"):
        _take(review(STATE_FOR[action]), action, actor)


def test_a_viewer_cannot_sign():
    with pytest.raises(PermissionDenied, match="needs the reviewer role"):
        _take(review(S.IN_REVIEW), A.SIGN, VICTOR)


def _sign(subject, actor, meaning, bundle_hash=None):
    action = {v: k for k, v in SIGNING_ACTIONS.items()}[meaning]
    sig = signature(actor, meaning, bundle_hash or subject.bundle_hash)
    return transition(subject, action, actor, now=NOW, signature=sig)


def test_default_requirements_one_reviewer_then_one_approver():
    subject = review(S.IN_REVIEW)
    assert subject.outstanding() == (
        SignatureRequirement(Role.REVIEWER, 1),
        SignatureRequirement(Role.APPROVER, 1),
    )
    reviewed = _sign(subject, BOB, M.REVIEWED)
    assert reviewed.state is S.IN_REVIEW
    assert reviewed.outstanding() == (SignatureRequirement(Role.APPROVER, 1),)
    approved = _sign(reviewed, CAROL, M.APPROVED)
    assert approved.state is S.APPROVED and approved.outstanding() == () and approved.decided_at == NOW
    assert [s.signer for s in approved.signatures] == ["bob", "carol"]


def test_approver_first_then_reviewer_completes_the_approval():
    approved_first = _sign(review(S.IN_REVIEW), CAROL, M.APPROVED_WITH_CONDITIONS)
    assert approved_first.state is S.IN_REVIEW
    assert approved_first.outstanding() == (SignatureRequirement(Role.REVIEWER, 1),)
    done = _sign(approved_first, ALICE, M.REVIEWED)  # the opener may sign as reviewer
    assert done.state is S.APPROVED_WITH_CONDITIONS


def test_policy_requirements_are_counted_per_distinct_signer():
    requirements = requirements_from_policy(
        [{"role": "reviewer", "count": 2}, {"role": "approver", "count": 2}]
    )
    subject = review(S.IN_REVIEW, requirements=requirements)
    subject = _sign(subject, BOB, M.REVIEWED)
    with pytest.raises(ConflictError, match="already signed the current evidence"):
        _sign(subject, BOB, M.REVIEWED)
    subject = _sign(subject, ALICE, M.REVIEWED)
    subject = _sign(subject, CAROL, M.APPROVED)
    assert subject.state is S.IN_REVIEW
    assert subject.outstanding() == (SignatureRequirement(Role.APPROVER, 1),)
    other_approver = user("olga", Role.APPROVER)
    subject = _sign(subject, other_approver, M.APPROVED_WITH_CONDITIONS)
    assert subject.state is S.APPROVED_WITH_CONDITIONS


def test_one_rejection_decides():
    subject = _sign(review(S.IN_REVIEW), BOB, M.REVIEWED)
    assert _sign(subject, CAROL, M.REJECTED).state is S.REJECTED


def test_four_eyes_the_opener_cannot_approve():
    subject = review(S.IN_REVIEW, opened_by="zoe")
    for meaning in (M.APPROVED, M.APPROVED_WITH_CONDITIONS, M.REJECTED):
        with pytest.raises(PermissionDenied, match="they opened it; the four-eyes rule"):
            _sign(subject, ZOE, meaning)
    assert _sign(subject, ZOE, M.REVIEWED).signatures[-1].signer == "zoe"


def test_four_eyes_an_analyst_cannot_approve():
    with pytest.raises(PermissionDenied, match="produced analyses in its evidence"):
        _sign(_sign(review(S.IN_REVIEW), BOB, M.REVIEWED), DAVE, M.APPROVED)


def test_one_person_cannot_give_both_required_signatures():
    subject = _sign(review(S.IN_REVIEW), ZOE, M.REVIEWED)
    with pytest.raises(PermissionDenied, match="already signed review 7 as reviewer"):
        _sign(subject, ZOE, M.APPROVED)


def test_nobody_signs_as_someone_else():
    forged = signature(CAROL, M.APPROVED)
    with pytest.raises(PermissionDenied, match="in the name of 'carol'"):
        transition(review(S.IN_REVIEW), A.APPROVE, user("olga", Role.APPROVER), now=NOW, signature=forged)


def test_a_signature_must_carry_the_meaning_of_the_action():
    with pytest.raises(InputError, match="must mean approved"):
        transition(review(S.IN_REVIEW), A.APPROVE, CAROL, now=NOW, signature=signature(CAROL, M.REJECTED))


def test_signing_evidence_that_moved_is_a_conflict():
    with pytest.raises(ConflictError, match="changed by someone else; reload and retry"):
        _sign(review(S.IN_REVIEW), BOB, M.REVIEWED, bundle_hash=HASH_B)


def test_changed_evidence_leaves_signatures_stale_and_they_stop_counting():
    subject = _sign(review(S.IN_REVIEW), BOB, M.REVIEWED)
    assert not subject.is_stale
    changed = transition(subject, A.CHANGE_EVIDENCE, BOB, now=NOW, bundle_hash=HASH_B)
    assert changed.is_stale and changed.stale_signatures == subject.signatures
    assert changed.signatures == subject.signatures  # kept, never dropped
    assert changed.outstanding() == (
        SignatureRequirement(Role.REVIEWER, 1),
        SignatureRequirement(Role.APPROVER, 1),
    )
    approved = _sign(changed, CAROL, M.APPROVED)
    assert approved.state is S.IN_REVIEW  # the reviewer's signature covers the old evidence only
    resigned = _sign(approved, BOB, M.REVIEWED)  # re-signing stale evidence is allowed
    assert resigned.state is S.APPROVED
    assert len(resigned.signatures) == 3 and resigned.is_stale


def test_edited_findings_change_the_hash_the_review_holds():
    subject = _sign(review(S.IN_REVIEW), BOB, M.REVIEWED)
    finding = new_finding((), type="validation issue", severity="high", title="labels leak", author="bob")
    edited = transition(subject, A.EDIT_FINDINGS, CAROL, now=NOW, findings=(finding,), bundle_hash=HASH_B)
    assert edited.findings == (finding,) and edited.is_stale


def test_revocation_needs_a_reason_and_records_it():
    approved = review(S.APPROVED)
    with pytest.raises(InputError, match="needs a reason"):
        transition(approved, A.REVOKE, ERIN, now=NOW, reason="  ")
    revoked = transition(approved, A.REVOKE, ERIN, now=NOW, reason="data leak")
    assert revoked.state is S.REVOKED
    assert (revoked.revocation.by, revoked.revocation.reason, revoked.revocation.at) == (
        "erin",
        "data leak",
        NOW,
    )


def test_required_signatures_from_policy():
    assert requirements_from_policy(None) == (
        SignatureRequirement(Role.REVIEWER, 1),
        SignatureRequirement(Role.APPROVER, 1),
    )
    assert requirements_from_policy([{"role": "approver", "count": 2}]) == (
        SignatureRequirement(Role.APPROVER, 2),
    )
    bad = {
        "needs at least one approver": [{"role": "reviewer", "count": 2}],
        "listed twice": [{"role": "approver"}, {"role": "approver"}],
        "whole number": [{"role": "approver", "count": 0}],
        "does not sign": [{"role": "admin", "count": 1}, {"role": "approver"}],
        "unknown role": [{"role": "boss"}],
    }
    for message, spec in bad.items():
        with pytest.raises(InputError, match=message):
            requirements_from_policy(spec)


def test_findings_are_numbered_and_closing_needs_a_resolution():
    first = new_finding((), type="observation", severity="info", title="fine", author="bob")
    second = new_finding((first,), type="Policy exception", severity="MEDIUM", title="age gap", author="bob")
    assert (first.number, second.number, second.type.value) == (1, 2, "policy_exception")
    with pytest.raises(InputError, match="unknown finding type 'bug'"):
        new_finding((), type="bug", severity="low", title="x", author="bob")
    with pytest.raises(InputError, match="without a resolution"):
        edit_finding(second, BOB, status="resolved")
    resolved = edit_finding(second, BOB, status="resolved", resolution="re-weighted")
    assert resolved.status is FindingStatus.RESOLVED
    with pytest.raises(PermissionDenied, match="approver role needed to accept"):
        edit_finding(second, BOB, status="accepted", resolution="tolerable")
    assert (
        edit_finding(second, CAROL, status="accepted", resolution="tolerable").status
        is FindingStatus.ACCEPTED
    )


def test_the_signature_manifest_is_exactly_what_is_signed():
    sig = signature(CAROL, M.APPROVED_WITH_CONDITIONS)
    assert sig.manifest() == {
        "format": "signoff.review-signature/1",
        "review_id": 7,
        "username": "carol",
        "printed_name": "Carol Example",
        "role": "approver",
        "meaning": "approved_with_conditions",
        "signed_at": "2026-03-01T12:00:00.000000Z",
        "bundle_hash": HASH_A,
        "justification": "Usable while the young-applicant gap is closed.",
        "conditions": [{"text": "retrain on 2027 data", "owner": "bob", "due": "2027-03-31"}],
    }
    assert sig.manifest() == signature_manifest(
        review_id=7,
        username="carol",
        printed_name="Carol Example",
        role=Role.APPROVER,
        meaning=M.APPROVED_WITH_CONDITIONS,
        signed_at=NOW,
        bundle_hash=HASH_A,
        justification="Usable while the young-applicant gap is closed.",
        conditions=({"text": "retrain on 2027 data", "owner": "bob", "due": "2027-03-31"},),
    )


def test_an_approval_with_conditions_signs_a_justification_and_conditions():
    subject = review(S.IN_REVIEW)
    approver = ACTOR[A.APPROVE_WITH_CONDITIONS]
    complete = signature(approver, SignatureMeaning.APPROVED_WITH_CONDITIONS)
    manifest = complete.manifest()
    assert manifest["justification"] == "Usable while the young-applicant gap is closed."
    assert manifest["conditions"] == [{"text": "retrain on 2027 data", "owner": "bob", "due": "2027-03-31"}]
    assert "justification" not in signature(approver, SignatureMeaning.APPROVED).manifest()
    for missing, message in (
        ({"justification": " "}, "needs a justification"),
        ({"conditions": ()}, "at least one condition"),
    ):
        with pytest.raises(InputError, match=message):
            transition(
                subject, A.APPROVE_WITH_CONDITIONS, approver, now=NOW, signature=replace(complete, **missing)
            )
