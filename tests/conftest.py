"""Shared test setup: Qt runs offscreen; nothing reads the developer's own settings or database.

``run_cli`` runs the real ``signoff`` executable in a subprocess against a database URL, the way a
user or a CI pipeline would; ``signed_in_cli`` does the same signed in as the test's own account
(``ANALYST``, made an administrator and reviewer if the database has none), through ``$SIGNOFF_TOKEN``. ``db_url`` / ``db`` give each test a fresh database on SQLite and on a
real PostgreSQL server (``postgres_server``: the machine's initdb/pg_ctl, started once per session).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The review tests' prepared world (users with real keys, a model version, a log, a run), per engine.
pytest_plugins = ["review_world"]

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_DIR = REPO_ROOT / "app"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
# The workspace CA's keys are encrypted under a passphrase kept outside the database. Tests copy
# databases (a prepared world per engine, PostgreSQL templates), which would leave an SQLite key file
# behind, so they use the passphrase from the environment; tests/services/test_trust.py covers the file.
os.environ.setdefault("SIGNOFF_SIGNING_KEY_PASSPHRASE", "test passphrase of the workspace signing keys")


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path_factory, monkeypatch):
    """Point the user's data/config folders and SIGNOFF_DB away from the developer's real ones."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("SIGNOFF_DB", raising=False)


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(APP_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra or {})
    return env


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """The environment for a child Python process that must import this checkout's ``signoff``."""
    return cli_env()


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_cli("models", "list", "--json", db=url, input="...")`` -> CompletedProcess (text)."""

    def run(
        *args: str,
        db: str | None = None,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "signoff"]
        if db is not None:
            command += ["--db", db]
        return subprocess.run(
            [*command, *args],
            input=input,
            capture_output=True,
            text=True,
            env=cli_env(env),
            timeout=timeout,
            check=False,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    return run


def _changes(args: tuple[str, ...]) -> bool:
    """Whether ``signoff ARGS`` is a changing command (built with an identity parent), by the real parser."""
    from signoff.cli.main import build_parser

    try:
        with contextlib.redirect_stdout(None), contextlib.redirect_stderr(None):
            parsed = build_parser().parse_args(list(args))
    except SystemExit:  # --help, or an argument error the test is about
        return False
    return getattr(parsed, "identity", None) is not None


@pytest.fixture
def signed_in_cli(run_cli) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_cli`` signed in as ``ANALYST`` through ``$SIGNOFF_TOKEN`` (one token per database) for a
    changing command; a read-only one runs as it is, so the account is added only when a change needs it."""
    from review_world import analyst_token

    tokens: dict[str, str] = {}

    def sign_in(url: str) -> str:
        """The token for ``url`` (account and token made now): call it before a "changes nothing"
        snapshot, so that signing in is not counted as the change."""
        if url not in tokens:
            tokens[url] = analyst_token(url)
        return tokens[url]

    def run(*args: str, db: str | None = None, env: dict[str, str] | None = None, **kwargs):
        url = db or os.environ.get("SIGNOFF_DB") or (env or {}).get("SIGNOFF_DB")
        if not url or not _changes(args):  # read-only commands need no account: do not add one
            return run_cli(*args, db=db, env=env, **kwargs)
        return run_cli(*args, db=db, env={**(env or {}), "SIGNOFF_TOKEN": sign_in(url)}, **kwargs)

    run.sign_in = sign_in  # type: ignore[attr-defined]
    return run


# --- Databases: every storage test runs on SQLite and on a real PostgreSQL server -------------------


def _postgres_bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL's initdb was not found: install Debian's postgresql (./dev test does)")
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A throwaway PostgreSQL cluster on a loopback port, trust authentication, user ``postgres``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.pid: int | None = None
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._counter = itertools.count(1)

    def start(self) -> None:
        bin_dir = _postgres_bin_dir()
        data, sockets = self.root / "data", self.root / "sockets"
        sockets.mkdir()
        if self._as_postgres:  # initdb refuses to run as root
            shutil.chown(self.root, "postgres")
            shutil.chown(sockets, "postgres")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
        subprocess.run(
            [
                *self._as_postgres,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            **quiet,
        )
        options = (
            f"-p {self.port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        subprocess.run(
            [
                *self._as_postgres,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            **quiet,
        )
        self.pid = int((data / "postmaster.pid").read_text().splitlines()[0])

    def stop(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)  # "fast" shutdown: roll back, disconnect, exit
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.pid = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(sql)

    def create_database(self, template: str = "template0") -> str:
        name = f"t{os.getpid()}_{next(self._counter)}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server():
    root = Path(tempfile.mkdtemp(prefix="signoff-pg-"))
    server = PostgresServer(root)
    try:
        server.start()
        # A template already at the newest schema, so each test's fresh database is a quick copy.
        from signoff.storage import open_database

        server.admin('CREATE DATABASE "signoff_template" TEMPLATE template0')
        open_database(server.url("signoff_template")).close()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_name(request) -> str:
    return request.param


@pytest.fixture
def db_url(engine_name, request, tmp_path) -> str:
    """A fresh database at the newest schema on each engine: a new SQLite file or a new PostgreSQL database."""
    if engine_name == "sqlite":
        from signoff.storage import open_database

        url = f"sqlite:///{tmp_path / 'signoff.db'}"
        open_database(url).close()
        return url
    return request.getfixturevalue("postgres_server").create_database("signoff_template")


@pytest.fixture
def blank_db_url(engine_name, request, tmp_path) -> str:
    """A fresh, empty database (no schema at all) on each engine, for migration tests."""
    if engine_name == "sqlite":
        return f"sqlite:///{tmp_path / 'signoff.db'}"
    return request.getfixturevalue("postgres_server").create_database("template0")


@pytest.fixture
def db(db_url):
    from signoff.storage import open_database

    database = open_database(db_url)
    yield database
    database.close()


@pytest.fixture
def raw_sql(db_url):
    """``raw_sql("UPDATE ...")`` runs SQL on the test's database behind Signoff's back (committed);
    returns the rows of a query. For tampering tests: what an attacker with database access can do."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(db_url)

    def run(statement: str, **params):
        with engine.begin() as connection:
            result = connection.execute(sqlalchemy.text(statement), params)
            return result.fetchall() if result.returns_rows else None

    yield run
    engine.dispose()


@pytest.fixture
def drop_audit_triggers(engine_name, raw_sql):
    """What an attacker runs first to edit the audit log by hand."""

    def drop() -> None:
        if engine_name == "sqlite":
            raw_sql("DROP TRIGGER audit_event_no_update")
            raw_sql("DROP TRIGGER audit_event_no_delete")
        else:
            raw_sql("DROP TRIGGER audit_event_no_update_delete ON audit_event")

    return drop


@pytest.fixture
def drop_triggers(engine_name, raw_sql):
    """``drop_triggers("evidence_chunk")``: what an attacker runs first to edit an append-only table."""

    def drop(table: str) -> None:
        if engine_name == "sqlite":
            found = raw_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t", t=table
            )
            for (name,) in found:
                raw_sql(f'DROP TRIGGER "{name}"')
        else:
            found = raw_sql(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal",
                t=table,
            )
            for (name,) in found:
                raw_sql(f'DROP TRIGGER "{name}" ON {table}')

    return drop


@pytest.fixture
def dump_tables():
    return table_dump


def table_dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: to prove a failed operation changed nothing."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        metadata = sqlalchemy.MetaData()
        metadata.reflect(engine)
        dump = {}
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                dump[table.name] = [tuple(r) for r in connection.execute(table.select().order_by(*order))]
        return dump
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory) -> tuple[Path, dict]:
    """The demo workspace, built once per session by the real ``signoff demo --json`` into an SQLite
    file: (path of the file, the printed summary). Only read it; copy it (``sqlite3`` backup) to change it."""
    import json

    from review_world import analyst_token

    folder = tmp_path_factory.mktemp("demo-workspace")
    path = folder / "demo.db"
    token = analyst_token(f"sqlite:///{path}")  # building the demo is a change: a signed-in account
    result = subprocess.run(
        [sys.executable, "-m", "signoff", "--db", f"sqlite:///{path}", "demo", "--json"],
        capture_output=True,
        text=True,
        env=cli_env(
            {
                "XDG_DATA_HOME": str(folder / "data"),
                "XDG_CONFIG_HOME": str(folder / "config"),
                "SIGNOFF_TOKEN": token,
            }
        ),
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return path, json.loads(result.stdout)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory) -> Iterator[str]:
    """A real ``mlflow server`` on a loopback port for the whole session; yields its tracking URI.

    Shared by every test that needs MLflow: create models under names of your own, and do not assume
    the registry holds only yours.
    """
    from mlflow_server import start_mlflow_server

    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mlflow_registry(mlflow_server):
    """The shared server filled once with the registry models of ``mlflow_server.populate_registry``."""
    from mlflow_server import populate_registry

    return populate_registry(mlflow_server)


@pytest.fixture
def loopback_http():
    """``loopback_http(handler)`` serves ``handler(Exchange) -> (status, headers, body)`` on 127.0.0.1."""
    from loopback_http import start_loopback_http

    servers = []
    yield lambda handle: start_loopback_http(handle, servers)
    for server in servers:
        server.shutdown()
        server.server_close()


def write_prediction_log(path: Path, rows: int, *, seed: int = 7, features: int = 2) -> Path:
    """A plausible binary-classification prediction log as CSV: id, timestamp, label, prediction,
    score, two sensitive attributes and ``features`` numeric features."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    score = rng.random(rows)
    columns = {
        "id": np.arange(1, rows + 1),
        "ts": pa.array(
            np.datetime64("2026-01-01T00:00:00") + (np.arange(rows) * 7).astype("timedelta64[s]")
        ).cast(pa.string()),
        "label": (rng.random(rows) < 0.3).astype(int),
        "prediction": (score > 0.5).astype(int),
        "score": np.round(score, 6),
        "sex": rng.choice(["Female", "Male"], rows),
        "race": rng.choice(["White", "Black", "Asian-Pac-Islander", "Other"], rows),
    }
    for i in range(features):
        columns[f"f{i}"] = np.round(rng.normal(size=rows), 6)
    pacsv.write_csv(pa.table(columns), path)
    return path


@pytest.fixture(scope="session")
def prediction_log_writer() -> Callable[..., Path]:
    """``prediction_log_writer(path, rows, seed=7, features=2)`` writes a log CSV (see above)."""
    return write_prediction_log


@pytest.fixture
def log_csv(tmp_path) -> Path:
    return write_prediction_log(tmp_path / "predictions.csv", 500)


@pytest.fixture
def log_mapping_args() -> tuple[str, ...]:
    """``signoff import log`` arguments mapping every column of ``write_prediction_log``'s file."""
    return (
        "--label", "label", "--prediction", "prediction", "--score", "score",
        "--sensitive", "sex", "race", "--feature", "f0", "f1", "--id", "id", "--timestamp", "ts",
    )  # fmt: skip


@pytest.fixture(scope="session")
def spark_connect_server(tmp_path_factory) -> Iterator[str]:
    """A real Spark Connect server (local[2]) on a loopback port for the whole session; yields its URL."""
    from spark_connect import start_spark_connect

    server = start_spark_connect(tmp_path_factory.mktemp("spark-connect"))
    try:
        yield server.url
    finally:
        server.stop()
