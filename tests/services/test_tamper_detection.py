"""Each tamper of issue 18, done by hand with raw SQL or a byte flip on SQLite and PostgreSQL, is caught
by ``signoff verify`` with a message naming the row; the review service then counts nothing forged.

The oracle for every re-hash is ``hashlib`` over the bytes the test itself wrote, never Signoff's output.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest
import sqlalchemy

from review_world import PASSWORDS, drop_guards
from signoff.domain.errors import IntegrityError
from signoff.domain.review import ReviewState, SignatureRequirement
from signoff.domain.users import Role
from signoff.services import reviews, users
from signoff.services.policy import add_waiver
from signoff.services.verify import verify_database


def _sign(db, review_id, who, meaning):
    return reviews.sign(db, review_id, username=who, password=PASSWORDS[who], meaning=meaning)


def _submitted(db, world):
    opened = reviews.open_review(db, "alice", model_version_id=world.model_version_id, title="release")
    return reviews.submit(db, "alice", opened.review.id)


def _rows(verdict):
    return [(p.table, p.row, p.problem) for p in verdict.row_problems]


def _flip_first_byte(sql, engine_name, sha256):
    drop_guards(sql, engine_name, "evidence_chunk")
    (data,) = sql("SELECT data FROM evidence_chunk WHERE blob_sha256 = :h AND chunk_index = 0", h=sha256)[0]
    flipped = bytes([data[0] ^ 0x01]) + bytes(data[1:])
    sql("UPDATE evidence_chunk SET data = :d WHERE blob_sha256 = :h AND chunk_index = 0", d=flipped, h=sha256)
    return flipped


def test_an_untouched_world_verifies_in_full_and_quick(world_db, world):
    _sign(world_db, _submitted(world_db, world).review.id, "bob", "reviewed")
    full, quick = verify_database(world_db), verify_database(world_db, quick=True)
    assert full.ok and not full.quick and full.blobs_rehashed >= 2, full.to_dict()
    assert quick.ok and quick.quick and quick.blobs_rehashed == 0


def test_one_flipped_byte_in_a_logs_evidence_is_named_and_quick_mode_says_it_did_not_look(
    world_db, world, world_sql, engine_name
):
    (log_sha,) = world_sql("SELECT evidence_sha256 FROM prediction_log WHERE id = :i", i=world.log_id)[0]
    assert log_sha == hashlib.sha256(b"log one").hexdigest()
    flipped = _flip_first_byte(world_sql, engine_name, log_sha)
    verdict = verify_database(world_db)
    assert not verdict.ok and verdict.chain.ok
    assert _rows(verdict) == [
        (
            "evidence_blob",
            log_sha,
            f"its stored bytes hash to {hashlib.sha256(flipped).hexdigest()}: they were altered",
        )
    ]
    quick = verify_database(world_db, quick=True)
    assert quick.ok and quick.quick  # the blob was not read: the verdict says it skipped that


def test_one_flipped_byte_in_a_signed_evidence_bundle_is_named_even_in_quick_mode(
    world_db, world, world_sql, engine_name
):
    signed = _sign(world_db, _submitted(world_db, world).review.id, "bob", "reviewed")
    bundle = signed.review.signatures[0].bundle_hash
    flipped = _flip_first_byte(world_sql, engine_name, bundle)
    for verdict in (verify_database(world_db), verify_database(world_db, quick=True)):
        problems = [p for p in verdict.row_problems if p.row == bundle]
        assert [p.table for p in problems] == ["evidence_blob"]
        assert hashlib.sha256(flipped).hexdigest() in problems[0].problem


def test_an_edited_analysis_result_is_named_even_when_its_hash_column_is_edited_too(
    world_db, world, world_sql, engine_name
):
    drop_guards(world_sql, engine_name, "analysis_run")
    forged = {"impact_ratio": 0.999, "rows": 999999}
    world_sql("UPDATE analysis_run SET result = :r WHERE id = :i", r=json.dumps(forged), i=world.run_id)
    first = verify_database(world_db)
    assert [(t, r) for t, r, _ in _rows(first)] == [("analysis_run", str(world.run_id))] * 2
    assert "not its result_sha256" in _rows(first)[0][2]
    canonical = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    world_sql(
        "UPDATE analysis_run SET result_sha256 = :h WHERE id = :i",
        h=hashlib.sha256(canonical).hexdigest(),
        i=world.run_id,
    )
    second = verify_database(world_db)
    assert [(t, r) for t, r, _ in _rows(second)] == [("analysis_run", str(world.run_id))]
    assert "not the one the audit log recorded" in _rows(second)[0][2]


def test_a_review_set_to_approved_without_signatures_is_named_and_nobody_can_act_on_it(
    world_db, world, world_sql, engine_name
):
    review_id = _submitted(world_db, world).review.id
    drop_guards(world_sql, engine_name, "review")
    world_sql("UPDATE review SET state = 'approved' WHERE id = :i", i=review_id)
    verdict = verify_database(world_db)
    assert _rows(verdict) == [
        (
            "review",
            str(review_id),
            "its state is 'approved', but its signed and audited events lead to 'in_review'",
        )
    ]
    shown = reviews.show(world_db, review_id)
    assert shown.integrity_problems == (_rows(verdict)[0][2],)
    with pytest.raises(IntegrityError, match=f"review {review_id} was changed outside Signoff"):
        reviews.revoke(world_db, "root", review_id, reason="looks approved")


def test_roles_granted_by_sql_give_no_right_to_approve_and_are_named(world_db, world, world_sql, engine_name):
    review_id = _submitted(world_db, world).review.id
    drop_guards(world_sql, engine_name, "app_user")
    world_sql("""UPDATE app_user SET roles = '["approver","reviewer"]' WHERE username = 'bob'""")
    with pytest.raises(IntegrityError, match="account 'bob' was changed outside Signoff"):
        _sign(world_db, review_id, "bob", "approved")
    assert reviews.show(world_db, review_id).review.signatures == ()
    assert _rows(verify_database(world_db)) == [
        ("app_user", "'bob'", "it holds the roles approver, reviewer, but the audited grants give reviewer")
    ]


def test_a_swapped_public_key_is_named(world_db, world, world_sql, engine_name):
    drop_guards(world_sql, engine_name, "app_user")
    world_sql(
        "UPDATE app_user SET public_key = (SELECT public_key FROM app_user WHERE username = 'carol') "
        "WHERE username = 'olga'"
    )
    assert _rows(verify_database(world_db)) == [
        (
            "app_user",
            "'olga'",
            "its public key is not the one its audited creation or last reset recorded (key swapped)",
        )
    ]


def test_an_edited_waiver_is_named(world_db, world, world_sql, engine_name):
    waiver = add_waiver(
        world_db,
        name="credit",
        version="4",
        rule_id="four-fifths",
        justification="accepted for the pilot region while more data comes in",
        until=date.today() + timedelta(days=30),
        username="carol",
        password=PASSWORDS["carol"],
    )
    assert verify_database(world_db).ok
    drop_guards(world_sql, engine_name, "waiver")
    world_sql("UPDATE waiver SET until = :u WHERE id = :i", u=date(2099, 1, 1), i=waiver.id)
    verdict = verify_database(world_db)
    assert _rows(verdict) == [("waiver", str(waiver.id), "its until differ from the audited grant")]
    # The granter's signature over the waiver no longer verifies either (services/signed_acts.py).
    assert [p.problem for p in verdict.problems] == [
        f"waiver {waiver.id}: the Ed25519 signature does not verify over its record (rule, scope, "
        "justification, until, granter or time were altered, or the signature itself)",
        f"waiver {waiver.id}: it differs from the audit log's record of the grant",
    ]


def test_a_forged_signature_row_does_not_count_in_review_show(world_db, world, world_sql, engine_name):
    review_id = _submitted(world_db, world).review.id
    signed = _sign(world_db, review_id, "bob", "reviewed")
    assert signed.review.outstanding() == (SignatureRequirement(Role.APPROVER, 1),)
    drop_guards(world_sql, engine_name, "signature")
    world_sql("UPDATE signature SET printed_name = 'Robert Brown' WHERE review_id = :i", i=review_id)
    shown = reviews.show(world_db, review_id)
    (signature,) = shown.review.signatures
    assert shown.review.is_unverified(signature) and not shown.review.covers_current_evidence(signature)
    assert shown.review.outstanding() == (
        SignatureRequirement(Role.REVIEWER, 1),
        SignatureRequirement(Role.APPROVER, 1),
    )
    assert shown.review.state is ReviewState.IN_REVIEW
    assert shown.to_dict()["signatures"][0]["verified"] is False


def test_the_cli_names_the_row_and_says_when_it_was_quick(
    world_db_url, world, world_sql, engine_name, run_cli
):
    (log_sha,) = world_sql("SELECT evidence_sha256 FROM prediction_log WHERE id = :i", i=world.log_id)[0]
    _flip_first_byte(world_sql, engine_name, log_sha)
    full = run_cli("verify", db=world_db_url)
    assert full.returncode == 1 and "Traceback" not in full.stderr
    assert f"evidence_blob {log_sha}: its stored bytes hash to" in full.stdout
    assert full.stdout.rstrip().endswith("NOT verified")
    quick = run_cli("verify", "--quick", db=world_db_url)
    assert quick.returncode == 0, quick.stdout + quick.stderr
    assert "evidence blobs: NOT re-hashed (--quick)" in quick.stdout
    assert quick.stdout.rstrip().endswith("verified (quick: evidence blobs not re-hashed)")
    as_json = json.loads(run_cli("verify", "--json", db=world_db_url).stdout)
    assert (
        as_json["row_problems"][0]["table"] == "evidence_blob"
        and as_json["row_problems"][0]["row"] == log_sha
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE review SET state = 'approved' WHERE id = :i",
        "UPDATE review SET state = 'approved_with_conditions' WHERE id = :i",
        "UPDATE review SET state = 'rejected' WHERE id = :i",
        "UPDATE review SET state = 'revoked' WHERE id = :i",
        "UPDATE review SET state = 'draft' WHERE id = :i",
    ],
)
def test_the_database_refuses_a_review_state_its_signatures_do_not_give(
    world_db, world, world_sql, statement
):
    """The derived-state triggers: only the reviewer has signed, so no decision may be written."""
    review_id = _sign(world_db, _submitted(world_db, world).review.id, "bob", "reviewed").review.id
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="a review state follows from its signatures"):
        world_sql(statement, i=review_id)
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="a review starts as a draft"):
        world_sql(
            "INSERT INTO review (model_version_id, title, state, version, opened_by, opened_at, bundle_hash, "
            "requirements) SELECT model_version_id, 'forged', 'approved', 1, opened_by, opened_at, bundle_hash, "
            "requirements FROM review WHERE id = :i",
            i=review_id,
        )
    assert reviews.show(world_db, review_id).review.state is ReviewState.IN_REVIEW
    assert verify_database(world_db).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE evidence_chunk SET data = :b",
        "DELETE FROM evidence_chunk",
        "UPDATE evidence_blob SET size = 1",
        "UPDATE analysis_run SET result = '{}'",
        "DELETE FROM analysis_run",
        "UPDATE prediction_log SET rows = 999999",
        "DELETE FROM prediction_log",
    ],
)
def test_the_database_refuses_to_change_recorded_evidence(world_db, world, world_sql, statement):
    params = {"b": b"x"} if ":b" in statement else {}
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="recorded evidence is append-only"):
        world_sql(statement, **params)
    assert verify_database(world_db).ok


def test_the_database_refuses_to_swap_a_key_or_rename_an_account(world_db, world, world_sql):
    for statement in (
        "UPDATE app_user SET public_key = (SELECT public_key FROM app_user WHERE username = 'carol') "
        "WHERE username = 'olga'",
        "UPDATE app_user SET username = 'mallory' WHERE username = 'olga'",
    ):
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="keeps its username for good"):
            world_sql(statement)
    world_sql("UPDATE app_user SET failed_attempts = 1 WHERE username = 'olga'")  # counters still move
    assert verify_database(world_db).ok


def test_a_review_still_moves_through_signoff_with_the_triggers_in_place(world_db, world):
    review_id = _submitted(world_db, world).review.id
    _sign(world_db, review_id, "bob", "reviewed")
    assert _sign(world_db, review_id, "carol", "approved").review.state is ReviewState.APPROVED
    assert (
        reviews.revoke(world_db, "root", review_id, reason="leaked labels").review.state
        is ReviewState.REVOKED
    )
    rejected = _submitted(world_db, world).review.id
    assert _sign(world_db, rejected, "olga", "rejected").review.state is ReviewState.REJECTED
    assert verify_database(world_db).ok


def test_identity_acts_verify_clean_and_the_database_keeps_what_they_signed(
    world_db, world, world_sql, engine_name
):
    """A password reset (new key, old one retired), a role change, an approval with conditions, a closed
    condition and a sign-in token all verify clean; raw SQL cannot then unretire a key, edit a signed
    condition, reopen a closed one or stretch a token, and with the guards dropped verify names the row."""
    review_id = _submitted(world_db, world).review.id
    _sign(world_db, review_id, "bob", "reviewed")
    root = users.sign_in(world_db, "root", PASSWORDS["root"])
    users.reset_password(world_db, root, "bob", "a temporary password 1")
    users.change_password(world_db, "bob", "a temporary password 1", PASSWORDS["bob"])
    users.set_roles(world_db, root, "zoe", frozenset({Role.REVIEWER, Role.VIEWER}))
    signed = reviews.sign(
        world_db,
        review_id,
        username="carol",
        password=PASSWORDS["carol"],
        meaning="approved_with_conditions",
        justification="fit for the pilot while monitoring runs",
        conditions=[f"monthly drift check|owner=bob|due={date.today() + timedelta(days=30)}"],
    )
    assert signed.review.state is ReviewState.APPROVED_WITH_CONDITIONS
    (condition,) = signed.conditions
    reviews.close_condition(world_db, "bob", condition.id, evidence="the first check ran")
    users.issue_token(world_db, "bob", PASSWORDS["bob"])
    assert verify_database(world_db).ok

    for statement, refusal in (
        ("UPDATE app_user SET retired_public_keys = '[]' WHERE username = 'bob'", "keeps its username"),
        ("UPDATE review_condition SET text = 'nothing' WHERE id = :i", "keeps what its approval signed"),
        ("UPDATE review_condition SET status = 'open' WHERE id = :i", "stays closed"),
        ("DELETE FROM review_condition WHERE id = :i", "keeps what its approval signed"),
        ("UPDATE auth_token SET expires_at = expires_at + (expires_at - created_at)", "can only be ended"),
    ):
        params = {"i": condition.id} if ":i" in statement else {}
        with pytest.raises(sqlalchemy.exc.DBAPIError, match=refusal):
            world_sql(statement, **params)
    assert verify_database(world_db).ok

    drop_guards(world_sql, engine_name, "review_condition")
    drop_guards(world_sql, engine_name, "app_user")
    world_sql("UPDATE review_condition SET owner = 'dave', status = 'open' WHERE id = :i", i=condition.id)
    world_sql("UPDATE app_user SET must_change_password = :t WHERE username = 'bob'", t=True)
    assert _rows(verify_database(world_db)) == [
        (
            "app_user",
            "'bob'",
            "its forced password change is set, but the audited resets and changes say otherwise",
        ),
        (
            "review_condition",
            str(condition.id),
            "its text, owner or due date differ from what the approval signed",
        ),
        (
            "review_condition",
            str(condition.id),
            "its status, evidence or closer differ from the audited closing",
        ),
    ]
