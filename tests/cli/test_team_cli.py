"""``signoff team setup|migrate`` on a real PostgreSQL server (issue 18, "Prevent").

A person connected with their own role cannot rewrite the record by hand: members have no UPDATE or
DELETE on any table, and the guard functions check who asks. Signoff's whole flow still works through
those roles, each step as the person who does it; and migrations run only as the owner role.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import sqlalchemy

from review_world import ANALYST, PASSWORDS
from signoff.domain.errors import PermissionDenied, SignoffError
from signoff.domain.prediction_log import ColumnMapping, LogRole
from signoff.domain.users import Role
from signoff.services import reviews, users
from signoff.services.audit import list_audit_events
from signoff.services.fairness import analyze_fairness
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.services.report import export_report
from signoff.services.verify import verify_database
from signoff.storage import migrate, open_database

ON_POSTGRESQL = pytest.mark.parametrize("engine_name", ["postgresql"])
# A log whose fairness table is counted by hand: selection rate = predicted positives / rows.
GROUPS = {"Female": (40, 12), "Male": (50, 25)}  # rows, predicted positives: rates 0.300 and 0.500


def _as(url: str, role: str) -> str:
    """The same database, connected as ``role`` (the test server trusts local connections)."""
    return sqlalchemy.make_url(url).set(username=role).render_as_string(hide_password=False)


def _refused(url: str, statement: str) -> str:
    engine = sqlalchemy.create_engine(url)
    try:
        with pytest.raises(sqlalchemy.exc.DBAPIError) as refused, engine.begin() as connection:
            connection.execute(sqlalchemy.text(statement))
        return str(refused.value.orig)
    finally:
        engine.dispose()


def _scalar(url: str, statement: str):
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            return connection.execute(sqlalchemy.text(statement)).scalar()
    finally:
        engine.dispose()


def _team(signed_in_cli, url: str) -> None:
    done = signed_in_cli("team", "setup", "--url", url, "--json", db=url)
    assert done.returncode == 0, done.stderr
    roles = json.loads(done.stdout)
    assert roles["owner"] == "signoff_owner"
    assert roles["logins"] == {name: f"signoff_{name}" for name in [*PASSWORDS, ANALYST]}


@ON_POSTGRESQL
def test_a_reviewer_with_their_own_role_cannot_rewrite_the_record(signed_in_cli, world_db_url, world):
    with open_database(world_db_url) as db:
        opened = reviews.open_review(db, "alice", model_version_id=world.model_version_id, title="release")
        review_id = reviews.submit(db, "alice", opened.review.id).review.id
    _team(signed_in_cli, world_db_url)
    bob = _as(world_db_url, "signoff_bob")

    # Every tamper of the issue by hand: no UPDATE, DELETE or hand-written INSERT reaches a state table.
    for statement in (
        f"UPDATE review SET state = 'approved' WHERE id = {review_id}",
        f"UPDATE review SET title = 'nothing to see' WHERE id = {review_id}",
        f"UPDATE review SET requirements = '[]' WHERE id = {review_id}",
        "UPDATE app_user SET roles = '[\"approver\",\"reviewer\"]' WHERE username = 'bob'",
        "UPDATE app_user SET public_key = public_key WHERE username = 'bob'",
        "UPDATE app_user SET failed_attempts = 0",
        "UPDATE signature SET meaning = 'approved'",
        "UPDATE audit_event SET payload = '{}'",
        "UPDATE audit_head SET sequence = 1",
        "UPDATE finding SET status = 'accepted'",
        "UPDATE evidence_chunk SET data = data",
        "UPDATE analysis_run SET result = result || ' '",
        f"DELETE FROM review WHERE id = {review_id}",
        "DELETE FROM review_log",
        "DELETE FROM app_user WHERE username = 'carol'",
        "DELETE FROM evidence_chunk",
        "TRUNCATE analysis_run CASCADE",
        f"SELECT 1 FROM review WHERE id = {review_id} FOR UPDATE",
        "INSERT INTO app_user (username, full_name, email, roles, disabled, created_at, failed_attempts, "
        "password_hash, public_key, sealed_private_key, must_change_password, retired_public_keys) VALUES "
        "('mallory', 'M', 'm@x', '[\"admin\"]', false, now(), 0, 'x', '\\x00', '\\x00', false, '[]')",
        "INSERT INTO audit_event (sequence, occurred_at, actor, action, entity, payload, previous_hash, hash) "
        "VALUES (999, now(), 'root', 'user.roles_changed', 'user:bob', '{}', 'x', 'y')",
        "CREATE TABLE review_copy (id integer)",
    ):
        assert "permission denied" in _refused(bob, statement), statement
    for statement in (
        "DROP TRIGGER review_state_follows_signatures ON review",
        "ALTER TABLE review DISABLE TRIGGER ALL",
        "ALTER TABLE signature OWNER TO signoff_bob",
        "DROP FUNCTION signoff_save_review",
        "ALTER FUNCTION signoff_session_account() OWNER TO signoff_bob",
    ):
        assert "must be owner" in _refused(bob, statement), statement

    # Through the functions: the state needs its signatures (0008's rule), roles need an administrator,
    # and nobody signs, or writes a token, in someone else's name.
    state_refused = _refused(
        bob, f"SELECT signoff_save_review({review_id}, 2, 'approved', bundle_hash, now(), NULL, NULL, NULL, "
        f"NULL) FROM review WHERE id = {review_id}",
    )  # fmt: skip
    assert "a review state follows from its signatures" in state_refused
    grant_refused = _refused(
        bob, "SELECT signoff_grant_roles('bob', '[\"approver\",\"reviewer\"]', 99, now(), 'bob', "
        "'{\"after\":[\"approver\",\"reviewer\"]}', 'x', 'y')",
    )  # fmt: skip
    assert "permission denied: only an account with the role admin may change roles" in grant_refused
    assert "acts for the account bob, not for root" in _refused(
        bob, "SELECT signoff_append_audit_event(sequence + 1, now(), 'root', 'user.roles_changed', "
        "'user:bob', '{}', hash, repeat('0', 64)) FROM audit_head",
    )  # fmt: skip
    assert "permission denied" in _refused(bob, "SELECT signoff_disable_user('carol')")
    assert "may only count one more failed sign-in of carol" in _refused(
        bob, "SELECT signoff_record_sign_in_state('carol', 5, now() + interval '100 years')"
    )
    assert "permission denied" in _refused(
        bob, "SELECT signoff_reset_credentials('carol', 'x', '\\x00', '\\x00')"
    )
    assert "acts for the account bob, not for carol" in _refused(
        bob, "INSERT INTO auth_token (token_sha256, username, created_at, expires_at) "
        "VALUES (repeat('a', 64), 'carol', now(), now() + interval '1 day')",
    )  # fmt: skip
    assert "acts for the account bob, not for carol" in _refused(
        bob, "INSERT INTO signature (review_id, signer, printed_name, role, meaning, signed_at, bundle_hash, "
        f"signature, public_key_fingerprint) SELECT {review_id}, 'carol', 'Carol', 'approver', 'approved', "
        f"now(), bundle_hash, '\\x00', 'x' FROM review WHERE id = {review_id}",
    )  # fmt: skip
    assert "bob does not hold the role approver" in _refused(
        bob, "INSERT INTO signature (review_id, signer, printed_name, role, meaning, signed_at, bundle_hash, "
        f"signature, public_key_fingerprint) SELECT {review_id}, 'bob', 'Bob', 'approver', 'approved', "
        f"now(), bundle_hash, '\\x00', 'x' FROM review WHERE id = {review_id}",
    )  # fmt: skip
    assert "acts for the account bob, not for dave" in _refused(
        bob, "INSERT INTO analysis_run (kind, model_version_id, request_sha256, inputs, parameters, engine_version, "
        "result, result_sha256, created_at, created_by) SELECT kind, model_version_id, request_sha256, inputs, "
        "parameters, engine_version, result, result_sha256, now(), 'dave' FROM analysis_run LIMIT 1",
    )  # fmt: skip
    assert _scalar(world_db_url, "SELECT roles FROM app_user WHERE username = 'bob'") == '["reviewer"]'
    assert _scalar(world_db_url, f"SELECT state FROM review WHERE id = {review_id}") == "in_review"

    # The same refusal through Signoff is a message, not a traceback; an administrator's grant works
    # and is recorded by the same function call.
    refusal = "only an account with the role admin may add accounts"
    with open_database(bob) as db, pytest.raises(PermissionDenied, match=refusal):
        root = next(u for u in users.list_users(db) if u.username == "root")
        # Signoff's own check passes (root is an administrator); the database sees bob connected.
        users.add_user(
            db,
            root,
            username="mallory",
            full_name="Mallory",
            email="m@example.org",
            roles=frozenset({Role.ADMIN}),
            password="mallory password 9",
        )
    with open_database(_as(world_db_url, "signoff_root")) as db:
        root = next(u for u in users.list_users(db) if u.username == "root")
        users.set_roles(db, root, "bob", frozenset({Role.REVIEWER, Role.VIEWER}))
        users.disable_user(db, root, "dave", reason="left the team")
        (granted,) = list_audit_events(db, action="user.roles_changed")
        # verify derives bob's roles from that event and finds the row agreeing with it.
        verification = verify_database(db, quick=True)
    assert verification.ok, (verification.row_problems, verification.problems)
    assert (granted.actor, granted.entity, granted.payload["after"]) == (
        "root",
        "user:bob",
        ["reviewer", "viewer"],
    )
    assert (
        _scalar(world_db_url, "SELECT roles FROM app_user WHERE username = 'bob'") == '["reviewer","viewer"]'
    )

    again = signed_in_cli("team", "setup", "--url", world_db_url, db=world_db_url)  # idempotent
    assert again.returncode == 0, again.stderr
    assert "bob: connects as signoff_bob" in again.stdout and "dave:" not in again.stdout
    assert _scalar(world_db_url, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'signoff_dave'") is False


@ON_POSTGRESQL
def test_the_whole_flow_runs_as_each_persons_own_role(signed_in_cli, world_db_url, tmp_path):
    """Import, analyse, open a review, a finding, two signatures, approval and the report, each step
    connected as the PostgreSQL role of the person who does it (never the owner or the administrator)."""
    _team(signed_in_cli, world_db_url)
    lines = ["id,y,p,sex"]
    for group, (rows, positives) in GROUPS.items():
        lines += [f"{group[0]}{i},{int(i < positives)},{int(i < positives)},{group}" for i in range(rows)]
    log_file = tmp_path / "validation.csv"
    log_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with open_database(_as(world_db_url, "signoff_alice")) as db:
        version = add_model_version(db, name="scorecard", version="2", actor="alice")
        log = import_log(
            db,
            log_file,
            model="scorecard",
            version="2",
            mapping=ColumnMapping(label="y", prediction="p", sensitive=("sex",), id="id"),
            role=LogRole.VALIDATION,
            actor="alice",
        ).log
        analyze_fairness(db, name="scorecard", version="2", log_id=log.id, n_resamples=50, actor="alice")
        review_id = reviews.open_review(db, "alice", model_version_id=version.id, title="v2").review.id
        reviews.add_finding(db, "alice", review_id, type="limitation", severity="low", title="small log")
        reviews.submit(db, "alice", review_id)
    with open_database(_as(world_db_url, "signoff_carol")) as db:
        reviews.update_finding(db, "carol", review_id, 1, status="accepted", resolution="known")
    with open_database(_as(world_db_url, "signoff_bob")) as db:
        reviews.sign(db, review_id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")
    with open_database(_as(world_db_url, "signoff_carol")) as db:
        approved = reviews.sign(
            db, review_id, username="carol", password=PASSWORDS["carol"], meaning="approved"
        )
        exported = export_report(db, name="scorecard", version="2", out=tmp_path / "r.pdf", actor="carol")

    assert approved.review.state.value == "approved"
    assert [s.signer for s in approved.review.signatures] == ["bob", "carol"]
    assert _scalar(world_db_url, f"SELECT state FROM review WHERE id = {review_id}") == "approved"
    text = subprocess.run(
        ["pdftotext", "-layout", str(exported.path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", " ", text)
    assert f"Model approved: yes, approved (review {review_id})" in flat
    fairness = text[text.index("Counts and selection rates by sex") :]
    female = [line for line in fairness.splitlines() if re.match(r"\s*Female\s+40\s", line)]
    assert female and re.split(r"\s{2,}", female[0].strip())[2] == f"{12 / 40:.3f}"
    # Everything was written by the people's roles: nothing in the schema changed owner.
    assert _scalar(world_db_url, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                   "AND tableowner <> 'signoff_owner'") == 0  # fmt: skip


@ON_POSTGRESQL
def test_migrations_run_only_as_the_owner_role(signed_in_cli, run_cli, world_db_url, world):
    _team(signed_in_cli, world_db_url)
    owner = sqlalchemy.create_engine(world_db_url)
    sqlalchemy.event.listen(
        owner, "connect", lambda connection, _: connection.execute("SET ROLE signoff_owner")
    )
    try:
        migrate.downgrade(owner, "0011_pades")  # as if this Signoff had just been installed
    finally:
        owner.dispose()

    with pytest.raises(SignoffError) as refused:
        open_database(_as(world_db_url, "signoff_bob"))
    message = str(refused.value)
    assert "schema is at revision '0011_pades'" in message and "its tables belong to signoff_owner" in message
    assert "`signoff team migrate`" in message
    assert _scalar(world_db_url, "SELECT version_num FROM alembic_version") == "0011_pades"
    # The server's administrator (a superuser here) is refused too unless it runs as the owner.
    with pytest.raises(SignoffError, match="signoff team migrate"):
        open_database(world_db_url)

    member = run_cli("team", "migrate", "--url", _as(world_db_url, "signoff_bob"))
    assert member.returncode == 2 and "Traceback" not in member.stderr, member.stderr
    assert "cannot act as signoff_owner on this database (permission denied to set role" in member.stderr
    done = run_cli("team", "migrate", "--url", world_db_url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"revision": migrate.SCHEMA_REVISION}
    owners = _scalar(
        world_db_url,
        "SELECT string_agg(DISTINCT pg_get_userbyid(p.proowner)::text, ',') FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()",
    )
    assert owners == "signoff_owner"
    with open_database(_as(world_db_url, "signoff_bob")) as db:  # members have their rights back
        opened = reviews.open_review(db, "bob", model_version_id=world.model_version_id)
        assert reviews.submit(db, "bob", opened.review.id).review.state.value == "in_review"
    assert "permission denied" in _refused(_as(world_db_url, "signoff_bob"), "UPDATE review SET title = 'x'")


def test_a_team_database_needs_postgresql(signed_in_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'signoff.db'}"
    refused = signed_in_cli("team", "setup", "--url", url, db=url)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "a team database is a PostgreSQL database" in refused.stderr
