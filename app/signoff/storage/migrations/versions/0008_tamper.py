"""Derived-state checks in the database: a review's state follows its signatures; evidence is append-only.

A review is inserted as a draft and its state moves only along the state machine's table; it becomes
approved (with conditions) only when signature rows on its current bundle meet its required signatures,
rejected only with a rejecting signature, revoked only with a revoker. An account's username never
changes, and its public key only by a reset that retires the old key (retired keys are only appended).
A condition of an approval keeps what was signed and, once closed, stays closed; a sign-in token can only
be ended. Evidence blobs and chunks, analysis runs, prediction logs and waivers refuse UPDATE and DELETE. ``signoff verify`` still checks every
signature cryptographically: a trigger cannot, and someone holding the file can drop triggers.

Revision ID: 0008_tamper
Revises: 0007_identity
"""

from __future__ import annotations

from alembic import op

revision = "0008_tamper"
down_revision = "0007_identity"
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("evidence_blob", "evidence_chunk", "analysis_run", "prediction_log", "waiver")
APPEND_ONLY = "recorded evidence is append-only: it is never changed or removed"
NOT_DRAFT = "a review starts as a draft"
STATE_REFUSED = "a review state follows from its signatures: this change has not the signatures it needs"
IDENTITY_KEPT = (
    "an account keeps its username for good, and its public key unless a reset retires it: every "
    "signature is checked against them"
)
CONDITION_KEPT = "a condition keeps what its approval signed, and a closed condition stays closed"
TOKEN_KEPT = "a sign-in token can only be ended, never changed or removed"
# The text of OLD's retired keys without its closing bracket: NEW's list must start with it (append only).
_RETIRED_KEPT = {
    "sqlite": "substr(NEW.retired_public_keys, 1, length(OLD.retired_public_keys) - 1) = "
    "substr(OLD.retired_public_keys, 1, length(OLD.retired_public_keys) - 1)",
    "postgresql": "left(NEW.retired_public_keys, length(OLD.retired_public_keys) - 1) = "
    "left(OLD.retired_public_keys, length(OLD.retired_public_keys) - 1)",
}
# The old key, as hex in the JSON list of retired keys (``storage/users.py`` reset_credentials).
_OLD_KEY_RETIRED = {
    "sqlite": "instr(NEW.retired_public_keys, '\"' || lower(hex(OLD.public_key)) || '\"') > 0",
    "postgresql": "position('\"' || encode(OLD.public_key, 'hex') || '\"' in NEW.retired_public_keys) > 0",
}

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


def _identity_refused(dialect: str) -> str:
    """True when an update of ``app_user`` changes who the account is or drops a key it signed with."""
    distinct = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    return (
        f"NEW.username {distinct} OLD.username OR NOT ({_RETIRED_KEPT[dialect]}) "
        f"OR (NEW.public_key {distinct} OLD.public_key AND NOT ({_OLD_KEY_RETIRED[dialect]}))"
    )


def _condition_refused(dialect: str) -> str:
    """True when an update of ``review_condition`` changes what was signed or reopens a closed one."""
    distinct = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    signed = " OR ".join(
        f"NEW.{c} {distinct} OLD.{c}" for c in ("review_id", "signature_id", "number", "text", "owner", "due")
    )
    return f"{signed} OR OLD.status IN ('closed', 'risk_accepted')"


def _token_refused(dialect: str) -> str:
    """True when an update of ``auth_token`` does anything but end a live token."""
    distinct = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    kept = " OR ".join(
        f"NEW.{c} {distinct} OLD.{c}" for c in ("id", "token_sha256", "username", "created_at", "expires_at")
    )
    return f"{kept} OR OLD.revoked_at IS NOT NULL"


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
        "CREATE TRIGGER app_user_identity_kept BEFORE UPDATE ON app_user "
        f"WHEN {_identity_refused('sqlite')} BEGIN SELECT RAISE(ABORT, '{IDENTITY_KEPT}'); END"
    )
    op.execute(
        "CREATE TRIGGER review_condition_kept BEFORE UPDATE ON review_condition "
        f"WHEN {_condition_refused('sqlite')} BEGIN SELECT RAISE(ABORT, '{CONDITION_KEPT}'); END"
    )
    op.execute(
        "CREATE TRIGGER auth_token_kept BEFORE UPDATE ON auth_token "
        f"WHEN {_token_refused('sqlite')} BEGIN SELECT RAISE(ABORT, '{TOKEN_KEPT}'); END"
    )
    for table, message in (("review_condition", CONDITION_KEPT), ("auth_token", TOKEN_KEPT)):
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
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
    for table, function, refused, message in (
        ("app_user", "app_user_keep_identity", _identity_refused("postgresql"), IDENTITY_KEPT),
        ("review_condition", "review_condition_keep", _condition_refused("postgresql"), CONDITION_KEPT),
        ("auth_token", "auth_token_keep", _token_refused("postgresql"), TOKEN_KEPT),
    ):
        # A DELETE has no NEW row to compare: refused before the comparison (app_user rows are kept
        # by their foreign keys).
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' THEN RAISE EXCEPTION '{message}'; END IF; "
            f"IF {refused} THEN RAISE EXCEPTION '{message}'; END IF; RETURN NEW; END $$"
        )
        verbs = "UPDATE" if table == "app_user" else "UPDATE OR DELETE"
        op.execute(
            f"CREATE TRIGGER {table}_kept BEFORE {verbs} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
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
        for table in ("review_condition", "auth_token"):
            op.execute(f"DROP TRIGGER {table}_kept")
            op.execute(f"DROP TRIGGER {table}_no_delete")
        op.execute("DROP TRIGGER review_starts_as_draft")
        op.execute("DROP TRIGGER review_state_follows_signatures")
        return
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER {table}_no_update_delete ON {table}")
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    for table, function in (
        ("app_user", "app_user_keep_identity"),
        ("review_condition", "review_condition_keep"),
        ("auth_token", "auth_token_keep"),
    ):
        op.execute(f"DROP TRIGGER {table}_kept ON {table}")
        op.execute(f"DROP FUNCTION {function}()")
    op.execute("DROP TRIGGER review_state_follows_signatures ON review")
    op.execute("DROP FUNCTION review_check_state()")
    op.execute("DROP FUNCTION evidence_refuse_change()")
