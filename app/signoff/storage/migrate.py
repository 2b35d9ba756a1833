"""Schema migrations, applied when a database is opened, with a backup of an SQLite file first.

The migration scripts live in ``migrations/`` inside the package, so an installed Signoff can always
bring an older database up to date. Before an existing SQLite file is migrated it is copied with
SQLite's online backup API (consistent even with a write-ahead log) to
``<file>.bak-<revision>-<UTC time>`` next to it.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from signoff.domain.errors import SignoffError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration. Opening a database that is already there needs no Alembic at all (importing
# it costs most of a second at every command); a test checks this is the single head.
SCHEMA_REVISION = "0013_guards"
# The role that owns a team database's tables and functions (``storage/team.py``): its migrations run as it.
TEAM_OWNER_ROLE = "signoff_owner"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(heads)}); merge them")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (backing up an SQLite file first if it holds an older schema)."""
    current = current_revision(engine)
    if current == SCHEMA_REVISION and revision == "head":
        return
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and not _known(script, current):
        raise SignoffError(
            f"this database has schema revision {current!r}, which this Signoff does not know: it was "
            "written by a newer version of Signoff. Install that version (or newer) to open it."
        )
    target = script.get_revision(revision)
    if target is not None and current == target.revision:
        return
    if current is not None and engine.dialect.name == "postgresql":
        _check_may_migrate(engine, current, target.revision if target is not None else revision)
    if current is not None and engine.dialect.name == "sqlite" and engine.url.database:
        backup_sqlite_file(Path(engine.url.database), current)
    _run(engine, lambda config: command.upgrade(config, revision))


def _check_may_migrate(engine: Engine, current: str, target: str) -> None:
    """Refuse, with what to do, to migrate a PostgreSQL database as a role that does not own it.

    Objects a migration creates belong to the role that runs it: on a team database only its owner role
    may run migrations, or a member's desktop would own (and could drop) the new tables and guards.
    """
    with engine.connect() as connection:
        user, owner, may = connection.execute(
            text(
                "SELECT current_user, tableowner, pg_has_role(current_user, tableowner, 'USAGE') "
                "FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'alembic_version'"
            )
        ).one()
    if user == owner or (may and owner != TEAM_OWNER_ROLE):
        return
    raise SignoffError(
        f"this database's schema is at revision {current!r} and this Signoff needs {target!r}, but the "
        f"role {user} may not change it: its tables belong to {owner}. "
        + (
            "It is a team database: an administrator of the PostgreSQL server brings it up to date as "
            f"{TEAM_OWNER_ROLE} with `signoff team migrate`, then everyone opens it again."
            if owner == TEAM_OWNER_ROLE
            else f"Open it once as {owner} (or a member of it) to bring it up to date."
        )
    )


def _known(script: ScriptDirectory, revision: str) -> bool:
    from alembic.script.revision import ResolutionError
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is not None
    except (ResolutionError, CommandError):
        return False


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (used by tests and by a deliberate rollback)."""
    from alembic import command

    _run(engine, lambda config: command.downgrade(config, revision))


def backup_sqlite_file(path: Path, revision: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.bak-{revision}-{stamp}")
    source = sqlite3.connect(path)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
            # One self-contained file, without -wal/-shm companions beside it.
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
    finally:
        source.close()
    return target


def _run(engine: Engine, migrate) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # SQLite's own procedure for schema changes: foreign keys off (only possible outside a
            # transaction), change, check, back on. Table rebuilds would otherwise trip them.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if not sqlite:
                    # Two processes opening an old database at once: the second waits, then finds
                    # nothing left to do.
                    connection.execute(text("SELECT pg_advisory_xact_lock(7220551)"))
                config.attributes["connection"] = connection
                migrate(config)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
