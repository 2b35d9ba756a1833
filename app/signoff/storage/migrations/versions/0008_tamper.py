"""Derived-state checks in the database: a review's state follows its signatures; evidence is append-only.

A review is inserted as a draft and its state moves only along the state machine's table; it becomes
approved (with conditions) only when signature rows on its current bundle meet its required signatures,
rejected only with a rejecting signature, revoked only with a revoker. An account's username and public
key never change. Evidence blobs and chunks,
analysis runs, prediction logs and waivers refuse UPDATE and DELETE. ``signoff verify`` still checks every
signature cryptographically: a trigger cannot, and someone holding the file can drop triggers.

Revision ID: 0008_tamper
Revises: 0006_reviews
"""

from __future__ import annotations

from alembic import op

revision = "0008_tamper"
down_revision = "0006_reviews"
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("evidence_blob", "evidence_chunk", "analysis_run", "prediction_log", "waiver")
APPEND_ONLY = "recorded evidence is append-only: it is never changed or removed"
NOT_DRAFT = "a review starts as a draft"
STATE_REFUSED = "a review state follows from its signatures: this change has not the signatures it needs"
IDENTITY_KEPT = (
    "an account keeps its username and public key for good: every signature is checked against them"
)

# The state machine's moves between different states (domain/review.py TRANSITIONS), as it is here.
STATE_MOVES = (
    ("draft", "in_review"),
    ("draft", "superseded"),
    ("in_review", "approved"),
    ("in_review", "approved_with_conditions"),
    ("in_review", "rejected"),
    ("in_review", "superseded"),
    ("approved", "revoked"),
    ("approved", "superseded"),
    ("approved_with_conditions", "revoked"),
    ("approved_with_conditions", "superseded"),
    ("rejected", "superseded"),
)


def _refused_move(new: str, old: str, requirements_json: str) -> str:
    """A SQL condition, true when the change of state is not backed by the rows it needs.

    ``requirements_json`` is an SQL expression giving the review's requirements as rows of (role, count).
    """
    moves = " OR ".join(f"({old}.state = '{a}' AND {new}.state = '{b}')" for a, b in STATE_MOVES)
    signatures = f"FROM signature s WHERE s.review_id = {new}.id AND s.bundle_hash = {new}.bundle_hash"
    return (
        f"NOT ({moves}) "
        f"OR ({new}.state IN ('approved', 'approved_with_conditions') AND EXISTS ("
        f"SELECT 1 FROM {requirements_json} WHERE (SELECT count(DISTINCT s.signer) {signatures} "
        f"AND s.role = r_role AND s.meaning <> 'rejected') < r_count)) "
        f"OR ({new}.state IN ('approved', 'approved_with_conditions') AND EXISTS "
        f"(SELECT 1 {signatures} AND s.meaning = 'rejected')) "
        f"OR ({new}.state = 'approved_with_conditions' AND NOT EXISTS "
        f"(SELECT 1 {signatures} AND s.meaning = 'approved_with_conditions')) "
        f"OR ({new}.state = 'rejected' AND NOT EXISTS (SELECT 1 {signatures} AND s.meaning = 'rejected')) "
        f"OR ({new}.state = 'revoked' AND {new}.revoked_by IS NULL)"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _postgresql_upgrade()


def _sqlite_upgrade() -> None:
    for table in APPEND_ONLY_TABLES:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    op.execute(
        "CREATE TRIGGER app_user_identity_kept BEFORE UPDATE OF username, public_key ON app_user "
        "WHEN NEW.username IS NOT OLD.username OR NEW.public_key IS NOT OLD.public_key "
        f"BEGIN SELECT RAISE(ABORT, '{IDENTITY_KEPT}'); END"
    )
    op.execute(
        f"CREATE TRIGGER review_starts_as_draft BEFORE INSERT ON review WHEN NEW.state <> 'draft' "
        f"BEGIN SELECT RAISE(ABORT, '{NOT_DRAFT}'); END"
    )
    requirements = (
        "(SELECT json_extract(value, '$.role') AS r_role, json_extract(value, '$.count') AS r_count "
        "FROM json_each(NEW.requirements))"
    )
    op.execute(
        "CREATE TRIGGER review_state_follows_signatures BEFORE UPDATE OF state ON review "
        f"WHEN NEW.state IS NOT OLD.state AND ({_refused_move('NEW', 'OLD', requirements)}) "
        f"BEGIN SELECT RAISE(ABORT, '{STATE_REFUSED}'); END"
    )


def _postgresql_upgrade() -> None:
    op.execute(
        "CREATE FUNCTION evidence_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{APPEND_ONLY} (% on % refused)', TG_OP, TG_TABLE_NAME; END $$"
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse_change()"
        )
    op.execute(
        "CREATE FUNCTION app_user_keep_identity() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.username IS DISTINCT FROM OLD.username OR NEW.public_key IS DISTINCT FROM OLD.public_key "
        f"THEN RAISE EXCEPTION '{IDENTITY_KEPT}'; END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER app_user_identity_kept BEFORE UPDATE ON app_user "
        "FOR EACH ROW EXECUTE FUNCTION app_user_keep_identity()"
    )
    requirements = (
        "(SELECT r->>'role' AS r_role, (r->>'count')::int AS r_count "
        "FROM jsonb_array_elements(NEW.requirements::jsonb) AS r) AS required"
    )
    op.execute(
        "CREATE FUNCTION review_check_state() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' AND NEW.state <> 'draft' THEN RAISE EXCEPTION '{NOT_DRAFT}'; END IF; "
        "IF TG_OP = 'UPDATE' AND NEW.state IS DISTINCT FROM OLD.state AND "
        f"({_refused_move('NEW', 'OLD', requirements)}) THEN "
        f"RAISE EXCEPTION '{STATE_REFUSED} (review %: % to %)', NEW.id, OLD.state, NEW.state; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER review_state_follows_signatures BEFORE INSERT OR UPDATE ON review "
        "FOR EACH ROW EXECUTE FUNCTION review_check_state()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{verb}")
        op.execute("DROP TRIGGER app_user_identity_kept")
        op.execute("DROP TRIGGER review_starts_as_draft")
        op.execute("DROP TRIGGER review_state_follows_signatures")
        return
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER {table}_no_update_delete ON {table}")
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    op.execute("DROP TRIGGER app_user_identity_kept ON app_user")
    op.execute("DROP FUNCTION app_user_keep_identity()")
    op.execute("DROP TRIGGER review_state_follows_signatures ON review")
    op.execute("DROP FUNCTION review_check_state()")
    op.execute("DROP FUNCTION evidence_refuse_change()")
