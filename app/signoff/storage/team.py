"""A team database on PostgreSQL in which no desktop holds the power to rewrite the record (issue 18).

An owner role (no login) owns every table and function, so only it can drop or disable the guards of
migrations ``0008_tamper`` and ``0013_guards``. Each person connects with a login role of their own
(PostgreSQL authenticates it: password, SCRAM or Kerberos are its business), a member of one group role
that reads everything and only INSERTs: no UPDATE, DELETE or lock on any table. Every change of state goes
through the guard functions of ``0013_guards``, which check who asks (an administrator, the account
itself) while the triggers check the rule (a review's state follows its signatures). Migrations run as
the owner: ``migrate_team_database`` (``signoff team migrate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy import exc as sa_exc

from signoff.domain.errors import InputError
from signoff.storage.database import Database, resolve_url
from signoff.storage.migrate import TEAM_OWNER_ROLE, upgrade

OWNER_ROLE = TEAM_OWNER_ROLE
MEMBER_ROLE = "signoff_member"
# Kept so that existing team databases keep their groups; it grants nothing beyond the members' rights:
# the guard functions ask the account's audited roles, not the PostgreSQL group, who is an administrator.
ADMIN_ROLE = "signoff_admin"
LOGIN_PREFIX = "signoff_"
# Written only through the guard functions (accounts by an administrator; the audit log and its head in
# chain order; a review's chosen logs before its decision): members may not INSERT into them by hand.
THROUGH_FUNCTIONS_ONLY = ("alembic_version", "app_user", "audit_event", "audit_head", "review_log")
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


def set_up_team_roles(
    db: Database, people: Iterable[tuple[str, bool]], disabled: Iterable[str] = ()
) -> TeamRoles:
    """Create (or bring up to date) the owner, group and login roles; ``people`` is (username, is admin)
    of the enabled accounts; the login roles of ``disabled`` accounts lose their login and groups.

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
        run(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {quote(OWNER_ROLE)}")  # later migrations
        _grant_members(connection)
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
        for username in disabled:
            role = login_role(username)
            if role in existing:
                run(f"ALTER ROLE {quote(role)} NOLOGIN")
                run(f"REVOKE {quote(MEMBER_ROLE)}, {quote(ADMIN_ROLE)} FROM {quote(role)}")
    return TeamRoles(OWNER_ROLE, MEMBER_ROLE, ADMIN_ROLE, logins)


def _grant_members(connection: Connection) -> None:
    """Members read every table, INSERT into all but the function-only ones, and call the guard
    functions; nothing else (an earlier setup's UPDATE and DELETE rights are taken back)."""
    quote = connection.dialect.identifier_preparer.quote
    schema = quote(connection.scalar(text("SELECT current_schema()")))
    member = quote(MEMBER_ROLE)
    connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {member}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {member}"))
    tables = connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
    for table in list(tables):
        name = f"{schema}.{quote(table)}"
        # Revoking a table's rights takes its column rights (the old app_user UPDATE columns) too.
        connection.execute(text(f"REVOKE ALL ON {name} FROM {member}, {quote(ADMIN_ROLE)}"))
        rights = "SELECT" if table in THROUGH_FUNCTIONS_ONLY else "SELECT, INSERT"
        connection.execute(text(f"GRANT {rights} ON {name} TO {member}"))
    guards = connection.scalars(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE 'signoff\\_%' "
            "AND p.prorettype <> 'trigger'::regtype"
        )
    )
    for function in list(guards):
        connection.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {member}"))


def migrate_team_database(url: str) -> str:
    """Bring a team database's schema up to date as its owner role, then re-grant the members' rights
    on what the migrations added; returns the revision reached.

    ``url`` connects as a role that may ``SET ROLE signoff_owner`` (a superuser, or a member of it), so
    that new tables and functions belong to the owner like the others.
    """
    resolved = resolve_url(url)
    if resolved.get_backend_name() != "postgresql":
        raise InputError(NEEDS_POSTGRESQL)
    engine = create_engine(resolved)

    @event.listens_for(engine, "connect")
    def _as_owner(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{OWNER_ROLE}"')
        dbapi_connection.commit()

    try:
        try:
            engine.connect().close()
        except sa_exc.DBAPIError as error:
            raise InputError(
                f"cannot act as {OWNER_ROLE} on this database ({str(error.orig).strip().splitlines()[0]}): "
                f"connect as a role that may SET ROLE {OWNER_ROLE} (a superuser or a member of it), on a "
                "database that was set up as a team database"
            ) from error
        upgrade(engine)
        with engine.begin() as connection:
            _grant_members(connection)
            return str(connection.scalar(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()
