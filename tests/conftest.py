"""Shared test setup: Qt runs offscreen; nothing reads the developer's own settings or database.

``run_cli`` runs the real ``signoff`` executable in a subprocess against a database URL, the way a
user or a CI pipeline would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_DIR = REPO_ROOT / "app"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


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
