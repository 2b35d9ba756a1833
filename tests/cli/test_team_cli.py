"""``signoff team setup`` on a real PostgreSQL server (issue 18, "Prevent"): a reviewer connected with their
own role cannot rewrite the record by hand, while Signoff's own work through that role still succeeds."""

from __future__ import annotations

import json

import pytest
import sqlalchemy

from review_world import ANALYST, PASSWORDS
from signoff.services import reviews
from signoff.storage import open_database


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


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_a_reviewer_with_their_own_role_cannot_rewrite_the_record(signed_in_cli, world_db_url, world):
    with open_database(world_db_url) as db:
        opened = reviews.open_review(db, "alice", model_version_id=world.model_version_id, title="release")
        review_id = reviews.submit(db, "alice", opened.review.id).review.id
    db_url = world_db_url

    done = signed_in_cli("team", "setup", "--url", db_url, "--json", db=db_url)
    assert done.returncode == 0, done.stderr
    roles = json.loads(done.stdout)
    assert roles["owner"] == "signoff_owner"
    assert roles["logins"] == {name: f"signoff_{name}" for name in [*PASSWORDS, ANALYST]}

    bob = _as(db_url, "signoff_bob")
    # The review state without a signature: refused by the guard, which bob cannot remove.
    assert "a review state follows from its signatures" in _refused(
        bob, f"UPDATE review SET state = 'approved' WHERE id = {review_id}"
    )
    for statement in (
        "DROP TRIGGER review_state_follows_signatures ON review",
        "ALTER TABLE review DISABLE TRIGGER ALL",
        "ALTER TABLE signature OWNER TO signoff_bob",
    ):
        assert "must be owner" in _refused(bob, statement), statement
    for statement in (
        "UPDATE app_user SET roles = '[\"approver\", \"reviewer\"]' WHERE username = 'bob'",
        "UPDATE app_user SET public_key = public_key WHERE username = 'bob'",
        "UPDATE signature SET meaning = 'approved'",
        "UPDATE audit_event SET payload = '{}'",
        "DELETE FROM evidence_chunk",
        "TRUNCATE analysis_run CASCADE",
        "CREATE TABLE review_copy (id integer)",
    ):
        assert "permission denied" in _refused(bob, statement), statement

    # Signoff itself, connected as bob, still signs: the grants leave room for the rules' own work.
    with open_database(bob) as db:
        signed = reviews.sign(db, review_id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")
    assert [s.signer for s in signed.review.signatures] == ["bob"]
    again = signed_in_cli("team", "setup", "--url", db_url, db=db_url)  # idempotent, after adding people
    assert again.returncode == 0, again.stderr
    assert "bob: connects as signoff_bob" in again.stdout


def test_a_team_database_needs_postgresql(signed_in_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'signoff.db'}"
    refused = signed_in_cli("team", "setup", "--url", url, db=url)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "a team database is a PostgreSQL database" in refused.stderr
