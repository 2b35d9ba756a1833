"""Changes of state through database functions that check who asks (PostgreSQL team databases).

On a team database a member role has no UPDATE or DELETE on any table: every change of state the app
makes is a call to one of these SECURITY DEFINER functions (owned by ``signoff_owner``, search_path
fixed), which checks that the person connected may make it and then writes. The rules on the rows
themselves stay in the triggers of ``0008_tamper`` (a review's state follows its signatures, a key is
only retired, a closed condition stays closed), which fire inside these functions too: one definition.
A session role that may UPDATE ``app_user`` by itself (the database's owner, a superuser) acts in its
own right and is not checked; a login role ``signoff_USERNAME`` acts only as the account USERNAME.
SQLite has one user and keeps plain UPDATEs under its triggers: nothing changes there.

Revision ID: 0013_guards
Revises: 0012_trust
"""

from __future__ import annotations

from alembic import op

revision = "0013_guards"
down_revision = "0012_trust"
branch_labels = None
depends_on = None

DENIED = "ERRCODE = '42501'"  # insufficient_privilege: psycopg raises it as a permission error

# name, parameters, return type, declarations, body. Each runs as its owner with the search_path fixed.
FUNCTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "signoff_session_account",
        "",
        "text",
        "",
        # NULL: the session role could change accounts by itself, so checking it would guard nothing.
        "IF has_table_privilege(session_user, 'app_user', 'UPDATE') THEN RETURN NULL; END IF; "
        "IF left(session_user::text, 8) <> 'signoff_' THEN RAISE EXCEPTION "
        "'permission denied: % is not the login role of a Signoff account (signoff_USERNAME)', "
        f"session_user USING {DENIED}; END IF; "
        "RETURN substr(session_user::text, 9);",
    ),
    (
        "signoff_act_as",
        "p_username text",
        "void",
        "account text := signoff_session_account();",
        "IF account IS NOT NULL AND account IS DISTINCT FROM p_username THEN RAISE EXCEPTION "
        "'permission denied: the role % acts for the account %, not for %', session_user, account, "
        f"p_username USING {DENIED}; END IF; "
        "IF account IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app_user WHERE username = account "
        "AND NOT disabled) THEN RAISE EXCEPTION "
        f"'permission denied: the account % is disabled or unknown', account USING {DENIED}; END IF;",
    ),
    (
        "signoff_require_role",
        "p_roles text[], p_what text",
        "void",
        "account text := signoff_session_account();",
        "IF account IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app_user WHERE username = account "
        "AND NOT disabled AND roles::jsonb ?| p_roles) THEN RAISE EXCEPTION "
        "'permission denied: only an account with the role % may %; % (role %) has not', "
        f"array_to_string(p_roles, ' or '), p_what, account, session_user USING {DENIED}; END IF;",
    ),
    (
        # SELECT ... FOR UPDATE needs UPDATE rights, which members have not: the app locks through here.
        "signoff_lock",
        "p_table text, p_key text DEFAULT NULL, p_key2 text DEFAULT NULL",
        "void",
        "",
        "CASE p_table "
        "WHEN 'audit_head' THEN PERFORM 1 FROM audit_head WHERE id = 1 FOR UPDATE; "
        "WHEN 'review' THEN PERFORM 1 FROM review WHERE id = p_key::bigint FOR UPDATE; "
        "WHEN 'review_condition' THEN PERFORM 1 FROM review_condition WHERE id = p_key::bigint FOR UPDATE; "
        "WHEN 'app_user' THEN PERFORM 1 FROM app_user WHERE username = p_key FOR UPDATE; "
        "WHEN 'inventory_record' THEN PERFORM 1 FROM inventory_record "
        "WHERE model_name = p_key AND version = p_key2 FOR UPDATE; "
        "ELSE RAISE EXCEPTION 'no lock for the table %', p_table; END CASE;",
    ),
    (
        "signoff_append_audit_event",
        "p_sequence bigint, p_occurred_at timestamptz, p_actor text, p_action text, p_entity text, "
        "p_payload text, p_previous_hash text, p_hash text",
        "void",
        "head audit_head%ROWTYPE;",
        # A failed sign-in is recorded under the name that was tried, which is nobody's session yet.
        "IF p_action NOT IN ('auth.failed', 'user.locked') THEN PERFORM signoff_act_as(p_actor); END IF; "
        "SELECT * INTO head FROM audit_head WHERE id = 1 FOR UPDATE; "
        "IF p_sequence <> head.sequence + 1 OR p_previous_hash <> head.hash THEN RAISE EXCEPTION "
        "'an audit event must follow the last one (% with hash %)', head.sequence, head.hash; END IF; "
        "INSERT INTO audit_event (sequence, occurred_at, actor, action, entity, payload, previous_hash, hash) "
        "VALUES (p_sequence, p_occurred_at, p_actor, p_action, p_entity, p_payload, p_previous_hash, p_hash); "
        "UPDATE audit_head SET sequence = p_sequence, hash = p_hash WHERE id = 1;",
    ),
    (
        # The state move itself is checked by review_state_follows_signatures (0008) on this UPDATE.
        "signoff_save_review",
        "p_id bigint, p_expected_version integer, p_state text, p_bundle_hash text, "
        "p_decided_at timestamptz, p_revoked_by text, p_revoked_at timestamptz, p_revocation_reason text, "
        "p_superseded_by bigint",
        "integer",
        "old review%ROWTYPE; changed integer;",
        "SELECT * INTO old FROM review WHERE id = p_id FOR UPDATE; "
        "IF p_revoked_by IS DISTINCT FROM old.revoked_by THEN "
        "PERFORM signoff_act_as(p_revoked_by); "
        "PERFORM signoff_require_role(ARRAY['approver', 'admin'], 'revoke an approval'); END IF; "
        "IF p_superseded_by IS DISTINCT FROM old.superseded_by_id AND NOT EXISTS "
        "(SELECT 1 FROM review WHERE id = p_superseded_by AND supersedes_id = p_id) THEN RAISE EXCEPTION "
        f"'permission denied: review % is superseded only by a review that names it', p_id USING {DENIED}; "
        "END IF; "
        "UPDATE review SET state = p_state, version = p_expected_version + 1, bundle_hash = p_bundle_hash, "
        "decided_at = p_decided_at, revoked_by = p_revoked_by, revoked_at = p_revoked_at, "
        "revocation_reason = p_revocation_reason, superseded_by_id = p_superseded_by "
        "WHERE id = p_id AND version = p_expected_version; "
        "GET DIAGNOSTICS changed = ROW_COUNT; RETURN changed;",
    ),
    (
        "signoff_set_review_logs",
        "p_review_id bigint, p_log_ids bigint[]",
        "void",
        "",
        "IF (SELECT state FROM review WHERE id = p_review_id) NOT IN ('draft', 'in_review') THEN "
        "RAISE EXCEPTION 'permission denied: the logs of review % change only before its decision', "
        f"p_review_id USING {DENIED}; END IF; "
        "DELETE FROM review_log WHERE review_id = p_review_id; "
        "INSERT INTO review_log (review_id, log_id) SELECT DISTINCT p_review_id, unnest(p_log_ids);",
    ),
    (
        "signoff_update_finding",
        "p_review_id bigint, p_number integer, p_type text, p_severity text, p_title text, "
        "p_description text, p_status text, p_resolution text, p_owner text, p_due date, "
        "p_updated_at timestamptz, p_updated_by text",
        "integer",
        "changed integer;",
        "PERFORM signoff_act_as(p_updated_by); "
        "UPDATE finding SET type = p_type, severity = p_severity, title = p_title, "
        "description = p_description, status = p_status, resolution = p_resolution, owner = p_owner, "
        "due = p_due, updated_at = p_updated_at, updated_by = p_updated_by "
        "WHERE review_id = p_review_id AND number = p_number; "
        "GET DIAGNOSTICS changed = ROW_COUNT; RETURN changed;",
    ),
    (
        # What was signed and a closed condition's status are kept by review_condition_keep (0008).
        "signoff_close_condition",
        "p_id bigint, p_status text, p_evidence text, p_closed_by text, p_closed_at timestamptz",
        "void",
        "",
        "PERFORM signoff_act_as(p_closed_by); "
        "UPDATE review_condition SET status = p_status, evidence = p_evidence, closed_by = p_closed_by, "
        "closed_at = p_closed_at WHERE id = p_id;",
    ),
    (
        "signoff_add_user",
        "p_username text, p_full_name text, p_email text, p_roles text, p_created_at timestamptz, "
        "p_password_hash text, p_public_key bytea, p_sealed_private_key bytea",
        "void",
        "",
        "PERFORM signoff_require_role(ARRAY['admin'], 'add accounts'); "
        "INSERT INTO app_user (username, full_name, email, roles, disabled, created_at, failed_attempts, "
        "locked_until, password_hash, public_key, sealed_private_key, must_change_password, "
        "retired_public_keys) VALUES (p_username, p_full_name, p_email, p_roles, false, p_created_at, 0, "
        "NULL, p_password_hash, p_public_key, p_sealed_private_key, false, '[]');",
    ),
    (
        # Roles change together with the audit event that records the grant, written here, or not at all.
        "signoff_grant_roles",
        "p_username text, p_roles text, p_sequence bigint, p_occurred_at timestamptz, p_actor text, "
        "p_payload text, p_previous_hash text, p_hash text",
        "void",
        "",
        "PERFORM signoff_require_role(ARRAY['admin'], 'change roles'); "
        "PERFORM signoff_act_as(p_actor); "
        "IF (p_payload::jsonb -> 'after') IS DISTINCT FROM p_roles::jsonb THEN RAISE EXCEPTION "
        "'permission denied: the audit event of a grant must record the roles granted (%)', p_roles "
        f"USING {DENIED}; END IF; "
        "UPDATE app_user SET roles = p_roles WHERE username = p_username; "
        "PERFORM signoff_append_audit_event(p_sequence, p_occurred_at, p_actor, 'user.roles_changed', "
        "'user:' || p_username, p_payload, p_previous_hash, p_hash);",
    ),
    (
        "signoff_disable_user",
        "p_username text",
        "void",
        "",
        "PERFORM signoff_require_role(ARRAY['admin'], 'disable accounts'); "
        "UPDATE app_user SET disabled = true WHERE username = p_username;",
    ),
    (
        # An administrator's reset: the old key is appended to the retired ones here, not by the caller.
        "signoff_reset_credentials",
        "p_username text, p_password_hash text, p_public_key bytea, p_sealed_private_key bytea",
        "void",
        "",
        "PERFORM signoff_require_role(ARRAY['admin'], 'reset passwords'); "
        "UPDATE app_user SET password_hash = p_password_hash, public_key = p_public_key, "
        "sealed_private_key = p_sealed_private_key, must_change_password = true, failed_attempts = 0, "
        "locked_until = NULL, retired_public_keys = left(retired_public_keys, length(retired_public_keys) - 1) "
        "|| CASE WHEN retired_public_keys = '[]' THEN '' ELSE ',' END "
        "|| '\"' || encode(public_key, 'hex') || '\"]' WHERE username = p_username;",
    ),
    (
        # A person's own password change re-seals the same key pair: the public key must not move.
        "signoff_set_credentials",
        "p_username text, p_password_hash text, p_public_key bytea, p_sealed_private_key bytea",
        "void",
        "",
        "PERFORM signoff_act_as(p_username); "
        "UPDATE app_user SET password_hash = p_password_hash, sealed_private_key = p_sealed_private_key "
        "WHERE username = p_username AND public_key = p_public_key;",
    ),
    (
        # Its owner clears it by changing the password; only an administrator's reset sets it.
        "signoff_set_must_change_password",
        "p_username text, p_value boolean",
        "void",
        "",
        "IF p_value THEN PERFORM signoff_require_role(ARRAY['admin'], 'require a password change'); "
        "ELSE PERFORM signoff_act_as(p_username); END IF; "
        "UPDATE app_user SET must_change_password = p_value WHERE username = p_username;",
    ),
    (
        # Counted from whichever desktop the attempt came from, so not only by the account's own role.
        "signoff_record_sign_in_state",
        "p_username text, p_failed_attempts integer, p_locked_until timestamptz",
        "void",
        "account text := signoff_session_account();",
        # Someone else may only count one more failure, locked at most for domain/users.py's
        # LOCKOUT_DURATION (15 minutes, plus 5 for clocks): what typing a wrong password can do.
        "IF account IS NOT NULL AND account <> p_username AND (p_failed_attempts NOT IN "
        "(1, (SELECT failed_attempts + 1 FROM app_user WHERE username = p_username)) "
        "OR p_locked_until > now() + interval '20 minutes') THEN RAISE EXCEPTION "
        "'permission denied: the role % may only count one more failed sign-in of %', session_user, "
        f"p_username USING {DENIED}; END IF; "
        "UPDATE app_user SET failed_attempts = p_failed_attempts, locked_until = p_locked_until "
        "WHERE username = p_username;",
    ),
    (
        "signoff_revoke_token",
        "p_token_id bigint, p_revoked_at timestamptz",
        "void",
        "",
        "PERFORM signoff_act_as((SELECT username FROM auth_token WHERE id = p_token_id)); "
        "UPDATE auth_token SET revoked_at = p_revoked_at WHERE id = p_token_id;",
    ),
    (
        "signoff_update_inventory_record",
        "p_model text, p_version text, p_revision integer, p_values text, p_stage_history text, "
        "p_risk text, p_updated_at timestamptz, p_updated_by text",
        "integer",
        "changed integer;",
        "PERFORM signoff_act_as(p_updated_by); "
        'UPDATE inventory_record SET "values" = p_values, stage_history = p_stage_history, risk = p_risk, '
        "revision = p_revision + 1, updated_at = p_updated_at, updated_by = p_updated_by "
        "WHERE model_name = p_model AND version = p_version AND revision = p_revision; "
        "GET DIAGNOSTICS changed = ROW_COUNT; RETURN changed;",
    ),
    (
        # A registry import refreshes what the registry says; name, version and source stay.
        "signoff_update_model_version",
        "p_id bigint, p_description text, p_attributes text",
        "void",
        "",
        "UPDATE model_version SET description = p_description, attributes = p_attributes WHERE id = p_id;",
    ),
)

# Rows whose author column must be the person connected: a signature (with a role the signer holds),
# a sign-in token, a review, a finding, imported evidence, a run or a record is never written in someone
# else's name.
INSERTED_BY = (
    ("signature", "signer"),
    ("auth_token", "username"),
    ("review", "opened_by"),
    ("finding", "author"),
    ("prediction_log", "imported_by"),
    ("analysis_run", "created_by"),
    ("waiver", "created_by"),
    ("registry_snapshot", "imported_by"),
    ("inventory_record", "updated_by"),
    ("workspace_certificate", "created_by"),
    ("personal_certificate", "username"),  # issued to the person exporting with their own key
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = op.get_bind().exec_driver_sql("SELECT quote_ident(current_schema())").scalar()
    search_path = f"pg_catalog, {schema}, pg_temp"
    for name, parameters, returns, declarations, body in FUNCTIONS:
        declare = f"DECLARE {declarations} " if declarations else ""
        op.execute(
            f"CREATE FUNCTION {name}({parameters}) RETURNS {returns} LANGUAGE plpgsql SECURITY DEFINER "
            f"SET search_path = {search_path} AS $$ {declare}BEGIN {body} END $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC")
    op.execute(
        "CREATE FUNCTION signoff_inserted_by_session() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
        f"SET search_path = {search_path} AS $$ BEGIN "
        "IF signoff_session_account() IS NULL THEN RETURN NEW; END IF; "
        "PERFORM signoff_act_as(to_jsonb(NEW) ->> TG_ARGV[0]); "
        # NEW is a row of whichever table fired: its fields are read by name from its JSON.
        "IF TG_TABLE_NAME = 'signature' AND NOT EXISTS (SELECT 1 FROM app_user "
        "WHERE username = to_jsonb(NEW) ->> 'signer' AND NOT disabled "
        "AND roles::jsonb ? (to_jsonb(NEW) ->> 'role')) THEN RAISE EXCEPTION "
        "'permission denied: % does not hold the role %', to_jsonb(NEW) ->> 'signer', "
        "to_jsonb(NEW) ->> 'role' USING ERRCODE = '42501'; END IF; RETURN NEW; END $$"
    )
    op.execute("REVOKE ALL ON FUNCTION signoff_inserted_by_session FROM PUBLIC")
    for table, column in INSERTED_BY:
        op.execute(
            f"CREATE TRIGGER {table}_inserted_by_session BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION signoff_inserted_by_session('{column}')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _ in INSERTED_BY:
        op.execute(f"DROP TRIGGER {table}_inserted_by_session ON {table}")
    op.execute("DROP FUNCTION signoff_inserted_by_session()")
    for name, *_ in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {name}")
