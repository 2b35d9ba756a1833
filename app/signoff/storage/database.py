"""Opening the database and working in it: one unit of work per transaction.

``open_database()`` picks the URL (argument, else ``$SIGNOFF_DB``, else ``signoff.db`` in the user's
data folder), configures the engine (SQLite: WAL, foreign keys, busy timeout, ``BEGIN IMMEDIATE``
for writes; PostgreSQL through psycopg 3) and brings the schema up to date. ``db.transaction()``
yields a ``UnitOfWork`` whose repositories hand out domain objects; audit events appended in it are
published to subscribers only after the transaction committed.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session

from signoff.domain.audit import AuditEvent
from signoff.domain.errors import ConflictError, ExternalServiceError, InputError, PermissionDenied
from signoff.storage import migrate
from signoff.storage.audit_ledger import AuditLedger
from signoff.storage.location import ENV_VAR, default_database_path

if TYPE_CHECKING:
    from signoff.storage.authority import AuthorityRepository
    from signoff.storage.evidence import EvidenceStore
    from signoff.storage.inventory import InventoryRepository
    from signoff.storage.registry import RegistryRepository
    from signoff.storage.repositories import (
        AnalysisRunRepository,
        LogSourceRepository,
        ModelVersionRepository,
        PredictionLogRepository,
    )
    from signoff.storage.reviews import ConditionRepository, ReviewRepository, WaiverRepository
    from signoff.storage.users import UserRepository

# A long import holds SQLite's write lock while its evidence goes in; other writers wait this long.
BUSY_TIMEOUT_SECONDS = 60
_WRITE = "signoff_write"
INSUFFICIENT_PRIVILEGE = "42501"

_log = logging.getLogger(__name__)

AuditListener = Callable[[AuditEvent], None]


def resolve_url(url: str | None = None) -> URL:
    """The database URL to use, with ``postgresql://`` read as psycopg 3 (the driver Signoff ships)."""
    text = url or os.environ.get(ENV_VAR)
    if not text:
        path = default_database_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return URL.create("sqlite", database=str(path))
    try:
        parsed = make_url(text)
    except sa_exc.ArgumentError as error:
        raise InputError(
            f"{text!r} is not a database URL; use sqlite:///path/to/signoff.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        ) from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "sqlite+pysqlite":
        parsed = parsed.set(drivername="sqlite")
    if parsed.drivername not in ("sqlite", "postgresql+psycopg"):
        raise InputError(
            f"database {parsed.drivername!r} is not supported: use SQLite (sqlite:///path) or "
            "PostgreSQL (postgresql+psycopg://...)"
        )
    if parsed.drivername == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise InputError(
            "an in-memory SQLite database cannot be shared; give a file: sqlite:///path/signoff.db"
        )
    return parsed


def open_database(url: str | None = None) -> Database:
    """Open (creating and migrating as needed) the database at ``url``; see the module docstring."""
    resolved = resolve_url(url)
    database = Database(_create_engine(resolved))
    try:
        migrate.upgrade(database.write_engine)
    except sa_exc.OperationalError as error:
        database.close()
        raise ExternalServiceError(
            f"cannot open the database {resolved.render_as_string(hide_password=True)}: "
            f"{_first_line(error.orig)}"
        ) from error
    except BaseException:
        database.close()
        raise
    return database


def _create_engine(url: URL) -> Engine:
    if url.drivername == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

        @event.listens_for(engine, "connect")
        def _configure_sqlite(dbapi_connection, _record) -> None:
            # Take transactions away from the sqlite3 module, which would begin them lazily and only
            # before writes; the "begin" hook below says exactly how each one starts.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed data
            # A multi-GB import passes through the write-ahead log; give the disk back afterwards.
            cursor.execute("PRAGMA journal_size_limit=67108864")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            # A write takes the write lock up front: two writers never both read, then both fail to
            # upgrade their lock. Readers start deferred and run alongside a writer thanks to WAL.
            write = connection.get_execution_options().get(_WRITE, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """An open database. Thread-safe: each ``transaction()`` uses its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write_engine = engine.execution_options(**{_WRITE: True})
        self._listeners: list[AuditListener] = []
        # How the people acting through this handle were identified, and the facts around it (OS login,
        # host): set by the services when someone signs in, added to every audit event's payload.
        self.session_facts: dict[str, Any] | None = None

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def file_path(self) -> Path | None:
        """The SQLite database file, or None for a server database."""
        if self.dialect == "sqlite" and self.engine.url.database:
            return Path(self.engine.url.database)
        return None

    def subscribe(self, listener: AuditListener) -> Callable[[], None]:
        """Call ``listener`` with each audit event once its transaction committed; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[UnitOfWork]:
        """One unit of work: commits when the block ends, rolls back if it raises.

        ``write=False`` is for reading only: on SQLite it does not wait for a running writer.
        """
        appended: list[AuditEvent] = []
        try:
            engine = self.write_engine if write else self.engine
            with Session(engine, expire_on_commit=False) as session, session.begin():
                yield UnitOfWork(session, appended.append, self.session_facts)
        except sa_exc.IntegrityError as error:
            # Repositories check before they insert, so a constraint failing here means another
            # writer stored the same thing between that check and this commit (PostgreSQL).
            raise ConflictError(
                f"someone else stored the same thing at the same moment ({_first_line(error.orig)}); "
                "nothing was stored. Try again."
            ) from error
        except sa_exc.ProgrammingError as error:
            # On a team database the member roles and the guard functions refuse what the person
            # connected may not do (insufficient_privilege); nothing was stored.
            if getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
                raise PermissionDenied(
                    f"the team database refused this to the role {self.engine.url.username}: "
                    f"{_first_line(error.orig)}; nothing was stored"
                ) from error
            raise
        except sa_exc.OperationalError as error:
            if _is_lock_timeout(error):
                raise ConflictError(
                    "the database stayed busy with another write for "
                    f"{BUSY_TIMEOUT_SECONDS} s; nothing was stored. Try again when it has finished."
                ) from error
            raise
        for audit_event in appended:
            for listener in list(self._listeners):
                try:
                    listener(audit_event)
                except Exception:
                    # The work is committed; a failing observer (a view, say) must not undo that
                    # or stop the others from hearing about it.
                    _log.exception("audit listener %r failed", listener)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Repository:
    """A unit of work's repository, built when first used: a command that reads two tables imports
    neither the other repositories nor the domain types they hand out (start-up time)."""

    def __init__(self, where: str) -> None:
        self.module, _, self.name = where.partition(":")

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, uow: UnitOfWork | None, owner: type | None = None) -> Any:
        if uow is None:
            return self
        repository = getattr(importlib.import_module(self.module), self.name)(uow.session)
        uow.__dict__[self.attribute] = repository  # from now on found before this descriptor
        return repository


class UnitOfWork:
    """The repositories of one transaction. Everything they return is a frozen domain object."""

    if TYPE_CHECKING:
        models: ModelVersionRepository
        evidence: EvidenceStore
        logs: PredictionLogRepository
        analysis_runs: AnalysisRunRepository
        users: UserRepository
        reviews: ReviewRepository
        conditions: ConditionRepository
        waivers: WaiverRepository
        registry: RegistryRepository
        inventory: InventoryRepository
        sources: LogSourceRepository
        authority: AuthorityRepository
    else:
        models = _Repository("signoff.storage.repositories:ModelVersionRepository")
        evidence = _Repository("signoff.storage.evidence:EvidenceStore")
        logs = _Repository("signoff.storage.repositories:PredictionLogRepository")
        analysis_runs = _Repository("signoff.storage.repositories:AnalysisRunRepository")
        users = _Repository("signoff.storage.users:UserRepository")
        reviews = _Repository("signoff.storage.reviews:ReviewRepository")
        conditions = _Repository("signoff.storage.reviews:ConditionRepository")
        waivers = _Repository("signoff.storage.reviews:WaiverRepository")
        registry = _Repository("signoff.storage.registry:RegistryRepository")
        inventory = _Repository("signoff.storage.inventory:InventoryRepository")
        sources = _Repository("signoff.storage.repositories:LogSourceRepository")
        authority = _Repository("signoff.storage.authority:AuthorityRepository")

    def __init__(
        self,
        session: Session,
        on_append: Callable[[AuditEvent], None],
        session_facts: dict[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.audit = AuditLedger(session, on_append, session_facts)


def _is_lock_timeout(error: sa_exc.OperationalError) -> bool:
    return "database is locked" in str(error.orig) or "database is busy" in str(error.orig)


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else "unknown error"
