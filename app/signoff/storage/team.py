"""A team database on PostgreSQL in which no desktop holds the power to rewrite the record (issue 18).

An owner role (no login) owns every table and function, so only it can drop or disable the guards of
migration ``0008_tamper``. Each person connects with a login role of their own (PostgreSQL authenticates
it: password, SCRAM or Kerberos are its business), a member of one group role that reads everything,
only INSERTs into the append-only tables and changes the other rows, which the triggers still check (a
review's state follows its signatures). Changing an account's roles, key or status needs the admin group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text

from signoff.domain.errors import InputError
from signoff.storage.database import Database

OWNER_ROLE = "signoff_owner"
MEMBER_ROLE = "signoff_member"
ADMIN_ROLE = "signoff_admin"
LOGIN_PREFIX = "signoff_"
# Rows that are never changed once written: a member may only add to them.
APPEND_ONLY_TABLES = (
    "audit_event",
    "evidence_blob",
    "evidence_chunk",
    "signature",
    "analysis_run",
    "prediction_log",
    "waiver",
    "personal_certificate",
)
DELETABLE_TABLES = ("review_log",)  # a review's chosen logs are replaced when its evidence changes
# What a sign-in, a lockout or a person's own password change writes; roles, keys and status are the
# admin group's.
MEMBER_ACCOUNT_COLUMNS = (
    "failed_attempts",
    "locked_until",
    "password_hash",
    "sealed_private_key",
    "must_change_password",
)
NEEDS_POSTGRESQL = (
    "a team database is a PostgreSQL database: give its URL as its administrator, e.g. "
    "postgresql+psycopg://admin@host/db (an SQLite file has one user and keeps its triggers)"
)


@dataclass(frozen=True)
class TeamRoles:
    owner: str
    member: str
    admin: str
    logins: dict[str, str]  # Signoff username -> its PostgreSQL login role

    def to_dict(self) -> dict[str, object]:
        return {"owner": self.owner, "member": self.member, "admin": self.admin, "logins": self.logins}


def login_role(username: str) -> str:
    return LOGIN_PREFIX + username


def set_up_team_roles(db: Database, people: Iterable[tuple[str, bool]]) -> TeamRoles:
    """Create (or bring up to date) the owner, group and login roles; ``people`` is (username, is admin).

    Run as a PostgreSQL superuser, or the database's owner with CREATEROLE. Idempotent.
    """
    if db.dialect != "postgresql":
        raise InputError(NEEDS_POSTGRESQL)
    people = list(people)
    with db.engine.begin() as connection:
        quote = connection.dialect.identifier_preparer.quote

        def run(statement: str) -> None:
            connection.execute(text(statement))

        existing = set(connection.scalars(text("SELECT rolname FROM pg_roles")))
        for role in (OWNER_ROLE, MEMBER_ROLE, ADMIN_ROLE):
            if role not in existing:
                run(f"CREATE ROLE {quote(role)} NOLOGIN")
        run(f"GRANT {quote(MEMBER_ROLE)} TO {quote(ADMIN_ROLE)}")
        schema = quote(connection.scalar(text("SELECT current_schema()")))
        tables = list(
            connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
        )
        functions = connection.scalars(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = current_schema()"
            )
        )
        # Owned sequences follow their tables; functions (the guards' trigger functions) are moved too.
        for table in tables:
            run(f"ALTER TABLE {schema}.{quote(table)} OWNER TO {quote(OWNER_ROLE)}")
        for function in list(functions):
            run(f"ALTER FUNCTION {function} OWNER TO {quote(OWNER_ROLE)}")
        run(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC")
        run(f"GRANT USAGE ON SCHEMA {schema} TO {quote(MEMBER_ROLE)}")
        run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quote(MEMBER_ROLE)}")
        for table in tables:
            name = f"{schema}.{quote(table)}"
            run(f"REVOKE ALL ON {name} FROM {quote(MEMBER_ROLE)}, {quote(ADMIN_ROLE)}")
            if table == "alembic_version":
                run(f"GRANT SELECT ON {name} TO {quote(MEMBER_ROLE)}")
                continue
            run(f"GRANT SELECT, INSERT ON {name} TO {quote(MEMBER_ROLE)}")
            if table == "app_user":
                columns = ", ".join(quote(c) for c in MEMBER_ACCOUNT_COLUMNS)
                run(f"GRANT UPDATE ({columns}) ON {name} TO {quote(MEMBER_ROLE)}")
                run(f"GRANT UPDATE ON {name} TO {quote(ADMIN_ROLE)}")
            elif table not in APPEND_ONLY_TABLES:
                run(f"GRANT UPDATE ON {name} TO {quote(MEMBER_ROLE)}")
            if table in DELETABLE_TABLES:
                run(f"GRANT DELETE ON {name} TO {quote(MEMBER_ROLE)}")
        logins = {}
        for username, is_admin in people:
            role = login_role(username)
            if role not in existing:
                run(f"CREATE ROLE {quote(role)} LOGIN")
            group, other = (ADMIN_ROLE, MEMBER_ROLE) if is_admin else (MEMBER_ROLE, ADMIN_ROLE)
            run(f"GRANT {quote(group)} TO {quote(role)}")
            if not is_admin:
                run(f"REVOKE {quote(other)} FROM {quote(role)}")
            logins[username] = role
    return TeamRoles(OWNER_ROLE, MEMBER_ROLE, ADMIN_ROLE, logins)
