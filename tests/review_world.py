"""A small real world for the review tests: users with real keys, a model version, a log, a run.

Everything goes through the real database (SQLite file or PostgreSQL) and the real services; the log's
evidence bytes are stand-ins, because reviews only cite a log by its evidence hash. The fixtures at the
end give each test a fresh copy of a world built once per engine.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass

import pytest
import sqlalchemy

from signoff.domain.prediction_log import ColumnMapping, LogRole, ValidationReport
from signoff.domain.users import Role
from signoff.services import users
from signoff.storage import Database, open_database

PASSWORDS = {
    "root": "root password 0",
    "alice": "alice password 1",
    "bob": "bob password 22",
    "carol": "carol password 3",
    "dave": "dave password 44",
    "olga": "olga password 55",
    "zoe": "zoe password 666",
}
NAMES = {
    "root": "Root Administrator",
    "alice": "Alice Ámsterdam",
    "bob": "Bob Brown",
    "carol": "Carol Çelik",
    "dave": "Dave Data",
    "olga": "Olga Łukasz",
    "zoe": "Zoë Ñúñez",
}
ROLES = {
    "root": {Role.ADMIN},
    "alice": {Role.REVIEWER},
    "bob": {Role.REVIEWER},
    "carol": {Role.APPROVER},
    "dave": {Role.APPROVER, Role.REVIEWER},  # runs analyses, so may not approve them
    "olga": {Role.APPROVER},
    "zoe": {Role.REVIEWER, Role.APPROVER},
}


@dataclass(frozen=True)
class World:
    model_version_id: int
    log_id: int
    run_id: int


def add_people(db: Database, names=tuple(PASSWORDS)) -> None:
    admin = None
    for name in names:
        user = users.add_user(
            db,
            admin,
            username=name,
            full_name=NAMES[name],
            email=f"{name}@example.org",
            roles=frozenset(ROLES[name]),
            password=PASSWORDS[name],
        )
        if admin is None:
            admin = user


def add_log(db: Database, model_version_id: int, content: bytes, role: LogRole = LogRole.VALIDATION) -> int:
    with db.transaction() as uow:
        digest = uow.evidence.put_bytes(content)
        log = uow.logs.add(
            model_version_id=model_version_id,
            role=role,
            source_name=f"{hashlib.sha256(content).hexdigest()[:8]}.csv",
            source_sha256=hashlib.sha256(b"source " + content).hexdigest(),
            evidence_sha256=digest,
            quarantine_sha256=None,
            rows=100,
            mapping=ColumnMapping(label="y", prediction="p", sensitive=("sex",)),
            validation=ValidationReport(rows_read=100, rows_kept=100),
            read_options={},
            period_start=None,
            period_end=None,
            importer="test",
            imported_by="alice",
        )
        # What the log import service records: ``signoff verify`` derives the row from it.
        uow.audit.append(
            actor="alice",
            action="log.imported",
            entity=f"prediction_log:{log.id}",
            payload={
                "model_version_id": model_version_id,
                "evidence_sha256": digest,
                "source_sha256": log.source_sha256,
                "rows": log.rows,
            },
        )
        return log.id


def add_run(db: Database, model_version_id: int, log_id: int, *, by: str = "dave", parameters=None) -> int:
    with db.transaction() as uow:
        log = uow.logs.get(log_id)
        run = uow.analysis_runs.add(
            kind="fairness",
            model_version_id=model_version_id,
            inputs={"log": log.evidence_sha256},
            parameters=parameters or {"attributes": ["sex"]},
            engine_version="test 1",
            result={"impact_ratio": 0.91},
            created_by=by,
        )
        uow.audit.append(
            actor=by,
            action="analysis.recorded",
            entity=f"analysis_run:{run.id}",
            payload={
                "kind": run.kind,
                "model_version_id": model_version_id,
                "inputs": run.inputs,
                "result_sha256": run.result_sha256,
            },
        )
        return run.id


def build_world(db: Database) -> World:
    add_people(db)
    with db.transaction() as uow:
        version = uow.models.add(
            name="credit", version="4", source="mlflow", attributes={"aliases": ["champion"]}
        )
    log_id = add_log(db, version.id, b"log one")
    run_id = add_run(db, version.id, log_id)
    return World(version.id, log_id, run_id)


ANALYST = "analyst"
ANALYST_PASSWORD = "analyst password 7"


def analyst_token(
    url: str, *, username: str = ANALYST, roles: tuple[str, ...] = ("admin", "reviewer")
) -> str:
    """A sign-in token for ``username`` in the database at ``url``, creating the account if needed
    (the first administrator of a new database, else added by an existing administrator)."""

    with open_database(url) as db:
        people = {u.username: u for u in users.list_users(db)}
        if username not in people:
            admin = next((u for u in people.values() if Role.ADMIN in u.roles and not u.disabled), None)
            users.add_user(
                db,
                admin,
                username=username,
                full_name="Ann Analyst",
                email=f"{username}@example.org",
                roles=frozenset(Role(r) for r in (roles if admin else ("admin", *roles))),
                password=ANALYST_PASSWORD,
            )
        return users.issue_token(db, username, ANALYST_PASSWORD).token


# --- Fixtures (imported by the conftest of each test folder that uses them) ----------------------------
# Creating users is slow on purpose (argon2id and scrypt), so the world is built once per engine and
# each test gets a fresh copy: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.


@pytest.fixture(scope="session")
def _review_worlds() -> dict[str, tuple[str, World]]:
    return {}


@pytest.fixture
def world_db_url(engine_name, request, tmp_path, tmp_path_factory, _review_worlds) -> str:
    """A fresh copy of the prepared world on this engine."""
    if engine_name not in _review_worlds:
        if engine_name == "sqlite":
            source = f"sqlite:///{tmp_path_factory.mktemp('world') / 'world.db'}"
        else:
            server = request.getfixturevalue("postgres_server")
            server.admin('CREATE DATABASE "review_world" TEMPLATE "signoff_template"')
            source = server.url("review_world")
        with open_database(source) as database:
            _review_worlds[engine_name] = (source, build_world(database))
    source, _ = _review_worlds[engine_name]
    if engine_name == "sqlite":
        target = tmp_path / "world-copy.db"
        shutil.copyfile(source.removeprefix("sqlite:///"), target)
        return f"sqlite:///{target}"
    return request.getfixturevalue("postgres_server").create_database("review_world")


@pytest.fixture
def world(world_db_url, engine_name, _review_worlds) -> World:
    return _review_worlds[engine_name][1]


@pytest.fixture
def world_db(world_db_url):
    database = open_database(world_db_url)
    yield database
    database.close()


def drop_guards(sql, engine_name, table):
    """What an attacker runs first: drop the triggers that guard ``table`` (whatever they are named)."""
    if engine_name == "sqlite":
        for (name,) in sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t", t=table
        ):
            sql(f'DROP TRIGGER "{name}"')
    else:
        for (name,) in sql(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal", t=table
        ):
            sql(f'DROP TRIGGER "{name}" ON {table}')


@pytest.fixture
def world_sql(world_db_url):
    """Raw SQL on the world copy, behind Signoff's back (committed): what someone with database access can do."""
    engine = sqlalchemy.create_engine(world_db_url)

    def run(statement: str, **params):
        with engine.begin() as connection:
            result = connection.execute(sqlalchemy.text(statement), params)
            return result.fetchall() if result.returns_rows else None

    yield run
    engine.dispose()
