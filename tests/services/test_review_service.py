"""Review and sign-off through the real services on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy

from review_world import PASSWORDS, add_log, add_run
from signoff.cli.main import SETTING_FLAGS
from signoff.domain.errors import ConflictError, InputError, PermissionDenied
from signoff.domain.review import ReviewState, SignatureRequirement
from signoff.domain.users import Role
from signoff.services import reviews, users
from signoff.services.models import add_model_version
from signoff.services.verify import verify_database
from signoff.storage import open_database


def _sign(world_db, review_id, who, meaning, **kwargs):
    return reviews.sign(world_db, review_id, username=who, password=PASSWORDS[who], meaning=meaning, **kwargs)


def _submitted(world_db, world, opener="alice"):
    status = reviews.open_review(
        world_db, opener, model_version_id=world.model_version_id, title="credit v4 release"
    )
    return reviews.submit(world_db, opener, status.review.id)


def _actions(world_db, entity=None):
    with world_db.transaction(write=False) as uow:
        return [e.action for e in reversed(uow.audit.list(entity=entity))]


def test_a_review_from_open_to_approved(world_db, world):
    opened = reviews.open_review(
        world_db, "alice", model_version_id=world.model_version_id, title="credit v4 release"
    )
    review_id = opened.review.id
    assert opened.review.state is ReviewState.DRAFT and opened.review.opened_by == "alice"
    assert [log.log_id for log in opened.bundle.logs] == [world.log_id]
    assert [a.run_id for a in opened.bundle.analyses] == [world.run_id]
    assert opened.review.analysts == {"dave"}
    with pytest.raises(ConflictError, match="still a draft: submit it for review first"):
        _sign(world_db, review_id, "bob", "reviewed")
    reviews.add_finding(
        world_db, "alice", review_id, type="limitation", severity="medium", title="few applicants under 21"
    )
    submitted = reviews.submit(world_db, "alice", review_id)
    assert submitted.review.outstanding() == (
        SignatureRequirement(Role.REVIEWER, 1),
        SignatureRequirement(Role.APPROVER, 1),
    )
    reviewed = _sign(world_db, review_id, "bob", "reviewed", bundle_hash=submitted.bundle.hash)
    assert reviewed.review.outstanding() == (SignatureRequirement(Role.APPROVER, 1),)
    approved = _sign(
        world_db,
        review_id,
        "carol",
        "approved_with_conditions",
        expected_version=reviewed.review.version,
        justification="usable for the pilot while the gap is closed",
        conditions=["re-check after one quarter|owner=bob|due=2099-03-31"],
    )
    [condition] = approved.conditions
    assert (condition.terms.owner, condition.terms.due.isoformat(), condition.status.value) == (
        "bob",
        "2099-03-31",
        "open",
    )
    assert approved.review.state is ReviewState.APPROVED_WITH_CONDITIONS and not approved.review.is_stale
    signature = approved.review.signatures[-1]
    assert (signature.signer, signature.printed_name, signature.role) == (
        "carol",
        "Carol Çelik",
        Role.APPROVER,
    )
    assert signature.bundle_hash == approved.bundle.hash == approved.recorded_bundle_hash
    with world_db.transaction(write=False) as uow:  # the signed bundle can always be shown again
        assert uow.evidence.exists(signature.bundle_hash)
    assert _actions(world_db, f"review:{review_id}") == [
        "review.opened",
        "review.finding_added",
        "review.submitted",
        "review.signed",
        "review.signed",
    ]
    verdict = verify_database(world_db)
    assert verdict.ok and verdict.signatures_checked == 2, verdict.to_dict()
    revoked = reviews.revoke(world_db, "root", review_id, reason="the validation log leaked labels")
    assert revoked.review.state is ReviewState.REVOKED
    assert revoked.review.revocation.reason == "the validation log leaked labels"
    assert verify_database(world_db).ok


def test_four_eyes_refused_and_audited(world_db, world):
    review_id = _submitted(world_db, world, opener="zoe").review.id
    with pytest.raises(PermissionDenied, match="they opened it"):
        _sign(world_db, review_id, "zoe", "approved")
    with pytest.raises(PermissionDenied, match="produced analyses in its evidence"):
        _sign(world_db, review_id, "dave", "approved")
    assert _actions(world_db, f"review:{review_id}")[-2:] == ["review.sign_refused", "review.sign_refused"]
    assert reviews.show(world_db, review_id).review.signatures == ()


def test_wrong_password_is_refused_counted_audited_and_locks(world_db, world):
    with pytest.raises(PermissionDenied, match=r"^wrong username or password$"):
        users.authenticate(world_db, "bob", "not bob's password")
    with pytest.raises(PermissionDenied, match=r"^wrong username or password$"):
        users.authenticate(world_db, "nobody", "whatever it is")
    review_id = _submitted(world_db, world).review.id
    with pytest.raises(PermissionDenied, match="wrong username or password"):
        reviews.sign(world_db, review_id, username="bob", password="guess 2", meaning="reviewed")
    assert [u.failed_attempts for u in users.list_users(world_db) if u.username == "bob"] == [2]
    for attempt in (3, 4):
        with pytest.raises(PermissionDenied, match=r"^wrong username or password$"):
            users.authenticate(world_db, "bob", f"guess {attempt}")
    with pytest.raises(PermissionDenied, match="locked until"):
        users.authenticate(world_db, "bob", "guess 5")
    with pytest.raises(PermissionDenied, match="locked after 5 failed sign-in attempts"):
        users.authenticate(world_db, "bob", PASSWORDS["bob"])  # even the right password, while locked
    with world_db.transaction(write=False) as uow:
        failures = uow.audit.list(action="auth.failed", entity="user:bob")
        locks = uow.audit.list(action="user.locked", entity="user:bob")
        unknown = uow.audit.list(action="auth.failed", entity="user:nobody")
    assert len(failures) == 6 and len(locks) == 1 and len(unknown) == 1
    assert sorted(f.payload["reason"] for f in failures) == ["locked"] + ["wrong password"] * 5
    assert {f.payload.get("purpose") for f in failures} == {"sign-in", f"sign review {review_id}"}
    assert reviews.show(world_db, review_id).review.signatures == ()


def test_a_disabled_user_cannot_sign_and_the_name_is_never_reused(world_db, world):
    review_id = _submitted(world_db, world).review.id
    root = users.authenticate(world_db, "root", PASSWORDS["root"])
    users.disable_user(world_db, root, "bob", reason="left the company")
    with pytest.raises(PermissionDenied, match="disabled"):
        _sign(world_db, review_id, "bob", "reviewed")
    with pytest.raises(ConflictError, match="never reused"):
        users.add_user(
            world_db, root, username="bob", full_name="Another Bob", email="b2@example.org",
            roles=frozenset({Role.REVIEWER}), password="a new password",
        )  # fmt: skip
    with pytest.raises(ConflictError, match="last enabled administrator"):
        users.disable_user(world_db, root, "root")


@pytest.mark.parametrize("change", ["new log", "re-run analysis", "edited finding"])
def test_signatures_go_stale_after_each_kind_of_evidence_change(world_db, world, change):
    review_id = _submitted(world_db, world).review.id
    reviews.add_finding(world_db, "alice", review_id, type="observation", severity="low", title="calibrated")
    signed = _sign(world_db, review_id, "bob", "reviewed")
    assert not signed.review.is_stale
    if change == "new log":
        new_log = add_log(world_db, world.model_version_id, b"log two")
        assert not reviews.show(world_db, review_id).review.is_stale  # not chosen: not this review's evidence
        after = reviews.change_logs(world_db, "alice", review_id, add=[new_log])
    elif change == "re-run analysis":
        add_run(
            world_db,
            world.model_version_id,
            world.log_id,
            parameters={"attributes": ["sex"], "bootstrap": 200},
        )
        after = reviews.show(world_db, review_id)  # nobody touched the review: the evidence moved under it
        assert after.evidence_changed
    else:
        after = reviews.update_finding(
            world_db, "bob", review_id, 1, status="resolved", resolution="checked on holdout"
        )
    assert after.review.is_stale
    assert after.review.signatures == signed.review.signatures  # kept
    assert not after.review.covers_current_evidence(after.review.signatures[0])
    assert after.review.outstanding()[0] == SignatureRequirement(Role.REVIEWER, 1)
    resigned = _sign(world_db, review_id, "bob", "reviewed")
    assert len(resigned.review.current_signatures) == 1 and len(resigned.review.signatures) == 2
    assert verify_database(world_db).ok


def test_an_outdated_view_cannot_sign_or_edit(world_db, world):
    shown = _submitted(world_db, world)
    reviews.add_finding(
        world_db, "alice", shown.review.id, type="limitation", severity="low", title="small sample"
    )
    with pytest.raises(ConflictError, match="changed by someone else; reload and retry"):
        _sign(world_db, shown.review.id, "bob", "reviewed", expected_version=shown.review.version)
    with pytest.raises(ConflictError, match="reload and retry"):
        _sign(world_db, shown.review.id, "bob", "reviewed", bundle_hash=shown.bundle.hash)
    with pytest.raises(ConflictError, match="reload and retry"):
        reviews.add_finding(
            world_db, "alice", shown.review.id, type="observation", severity="info", title="x",
            expected_version=shown.review.version,
        )  # fmt: skip


def test_a_password_change_keeps_old_signatures_valid(world_db, world):
    review_id = _submitted(world_db, world).review.id
    _sign(world_db, review_id, "bob", "reviewed")
    users.change_password(world_db, "bob", PASSWORDS["bob"], "a brand new password")
    with pytest.raises(PermissionDenied):
        users.authenticate(world_db, "bob", PASSWORDS["bob"])
    assert users.authenticate(world_db, "bob", "a brand new password").username == "bob"
    assert verify_database(world_db).ok


def test_the_first_user_must_be_an_administrator_and_later_ones_need_one(blank_db_url):
    with open_database(blank_db_url) as db:
        _first_user_rules(db)


def _first_user_rules(db):
    with pytest.raises(InputError, match="first user must be an administrator"):
        users.add_user(db, None, username="alice", full_name="Alice", email="a@example.org",
                       roles=frozenset({Role.REVIEWER}), password="alice password")  # fmt: skip
    root = users.add_user(db, None, username="root", full_name="Root", email="r@example.org",
                          roles=frozenset({Role.ADMIN}), password="root password")  # fmt: skip
    with pytest.raises(
        PermissionDenied, match=r"say who you are, as an administrator \(your account\)"
    ) as caught:
        users.add_user(db, None, username="mallory", full_name="M", email="m@example.org",
                       roles=frozenset({Role.ADMIN}), password="mallory password")  # fmt: skip
    assert "(--user)" in caught.value.text_naming(SETTING_FLAGS)  # as the CLI says it
    assert [u.username for u in users.list_users(db)] == ["root"] and root.public_key


def test_verify_names_signatures_altered_or_removed_in_the_database(world_db, world, world_sql, engine_name):
    review_id = _submitted(world_db, world).review.id
    first = _sign(world_db, review_id, "bob", "reviewed").review.signatures[0]
    second = _sign(world_db, review_id, "carol", "approved").review.signatures[1]
    assert verify_database(world_db).ok
    if engine_name == "sqlite":
        world_sql("DROP TRIGGER signature_no_update")
        world_sql("DROP TRIGGER signature_no_delete")
    else:
        world_sql("DROP TRIGGER signature_no_update_delete ON signature")
    world_sql("UPDATE signature SET printed_name = 'Mallory' WHERE id = :id", id=first.id)
    verdict = verify_database(world_db)
    assert not verdict.ok and verdict.chain.ok
    assert [(p.signature_id, p.signer) for p in verdict.problems] == [(first.id, "bob"), (first.id, "bob")]
    assert "does not verify" in verdict.problems[0].problem
    assert "audit log's record" in verdict.problems[1].problem
    world_sql("DELETE FROM signature WHERE id = :id", id=second.id)
    missing = [p for p in verify_database(world_db).problems if p.signature_id == second.id]
    assert [p.problem for p in missing] == [
        "the audit log records this signature but the database no longer holds it"
    ]


def test_the_database_refuses_to_change_or_delete_signatures_and_users(world_db, world, world_sql):
    review_id = _submitted(world_db, world).review.id
    _sign(world_db, review_id, "bob", "reviewed")
    for statement in (
        "UPDATE signature SET meaning = 'rejected'",
        "DELETE FROM signature",
        "DELETE FROM app_user",
    ):
        with pytest.raises(sqlalchemy.exc.DBAPIError, match=r"append-only|never deleted"):
            world_sql(statement)


def test_current_reviews_are_the_newest_not_superseded_per_version(world_db, world):
    """The registry's badges read these: one review per version, the replacement, not the replaced."""
    first = reviews.open_review(world_db, "alice", model_version_id=world.model_version_id, title="first")
    assert [s.review.id for s in reviews.current_reviews(world_db)] == [first.review.id]
    second = reviews.open_review(
        world_db, "alice", model_version_id=world.model_version_id, title="second", supersedes=first.review.id
    )
    current = reviews.current_reviews(world_db)
    assert [s.review.id for s in current] == [second.review.id]
    assert current[0] == reviews.show(world_db, second.review.id)  # as it stands, bundle included
    states = {s.review.id: s.review.state for s in reviews.list_reviews(world_db)}
    assert states == {first.review.id: ReviewState.SUPERSEDED, second.review.id: ReviewState.DRAFT}
    other = add_model_version(world_db, name="credit", version="5")
    add_log(world_db, other.id, b"y,p\n1,1\n0,1\n")
    third = reviews.open_review(world_db, "alice", model_version_id=other.id, title="v5")
    assert {(s.review.model_version_id, s.review.id) for s in reviews.current_reviews(world_db)} == {
        (world.model_version_id, second.review.id),
        (other.id, third.review.id),
    }


def test_a_session_sign_in_is_audited_and_a_failed_one_records_no_success(world_db, world):
    with pytest.raises(PermissionDenied):
        users.sign_in(world_db, "bob", "not bob's password")
    assert users.sign_in(world_db, "  Bob ", PASSWORDS["bob"]).username == "bob"
    with world_db.transaction(write=False) as uow:
        events = [(e.action, e.actor) for e in reversed(uow.audit.list(entity="user:bob"))]
    assert events[-2:] == [("auth.failed", "bob"), ("auth.signed_in", "bob")]
    assert verify_database(world_db).chain.ok


def test_accepting_the_risk_of_an_unmet_condition_is_an_approvers_signed_act(world_db, world):
    status = _submitted(world_db, world)
    review_id = status.review.id
    _sign(world_db, review_id, "bob", "reviewed")
    approved = _sign(
        world_db,
        review_id,
        "carol",
        "approved_with_conditions",
        justification="usable for the pilot while the gap is closed",
        conditions=["retrain on 2027 data|owner=bob|due=2099-03-31"],
    )
    [condition] = approved.conditions
    with pytest.raises(PermissionDenied, match="approver role needed to accept the risk"):
        reviews.close_condition(
            world_db, "bob", condition.id, evidence="cannot", accept_risk=True, password=PASSWORDS["bob"]
        )
    with pytest.raises(PermissionDenied, match="wrong username or password"):
        reviews.close_condition(
            world_db, "olga", condition.id, evidence="x", accept_risk=True, password="nope"
        )
    accepted = reviews.close_condition(
        world_db,
        "olga",
        condition.id,
        evidence="the 2027 data will not exist before the model retires",
        accept_risk=True,
        password=PASSWORDS["olga"],
    )
    assert (accepted.status.value, accepted.closed_by) == ("risk_accepted", "olga")
    with world_db.transaction(write=False) as uow:
        [event] = uow.audit.list(action="condition.closed")
    assert event.payload["manifest"]["accepted_by"] == "olga" and len(event.payload["signature"]) == 128
    assert verify_database(world_db).ok
    with pytest.raises(ConflictError, match="already risk accepted"):
        reviews.close_condition(world_db, "bob", condition.id, evidence="done after all")


def test_a_finding_can_be_an_obligation_with_an_owner_and_a_due_date(world_db, world):
    from datetime import date

    status = reviews.open_review(world_db, "alice", model_version_id=world.model_version_id)
    review_id = status.review.id
    plain = reviews.add_finding(
        world_db, "alice", review_id, type="observation", severity="low", title="noted"
    )
    assert "owner" not in plain.review.findings[0].content()  # old findings hash exactly as before
    with pytest.raises(InputError, match="'nobody' is not an enabled Signoff account"):
        reviews.add_finding(world_db, "alice", review_id, type="limitation", severity="high",
                            title="young applicants", owner="nobody", due=date(2027, 1, 31))  # fmt: skip
    owned = reviews.add_finding(world_db, "alice", review_id, type="limitation", severity="high",
                                title="young applicants", owner="Bob", due=date(2027, 1, 31))  # fmt: skip
    finding = owned.review.findings[-1]
    assert (finding.owner, finding.due) == ("bob", date(2027, 1, 31))
    assert finding.content()["owner"] == "bob" and finding.content()["due"] == "2027-01-31"
    assert finding.is_overdue(date(2027, 2, 1)) and not finding.is_overdue(date(2027, 1, 31))
    stored = reviews.show(world_db, review_id).review.findings[-1]
    assert stored == finding and owned.bundle.hash == reviews.show(world_db, review_id).bundle.hash
