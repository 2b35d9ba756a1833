"""``signoff import source`` and ``signoff analyze ... --log ID`` on it, as a CI pipeline runs them."""

from __future__ import annotations

import json

import keyring.core
import numpy as np
import pandas as pd
import pytest
from keyrings.alt.file import PlaintextKeyring

from postgres_roles import password_role
from signoff.domain.errors import ExternalServiceError
from signoff.domain.prediction_log import ColumnMapping
from signoff.services.fairness import analyze_fairness
from signoff.services.models import add_model_version
from signoff.services.sources import register_source
from signoff.storage import open_database


def test_import_source_then_analyze_it_by_its_log_id(signed_in_cli, tmp_path):
    rng = np.random.default_rng(2)
    n = 400
    frame = pd.DataFrame(
        {
            "decision": rng.integers(0, 2, n),
            "outcome": rng.integers(0, 2, n),
            "gender": rng.choice(["F", "M"], n),
        }
    )
    path = tmp_path / "log.parquet"
    frame.to_parquet(path, index=False)
    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    assert signed_in_cli("models", "add", "credit", "2", db=db).returncode == 0

    registered = signed_in_cli(
        "import", "source", "credit", "2", "--url", f"duckdb://{path}", "--label", "outcome",
        "--prediction", "decision", "--sensitive", "gender", "--role", "production", "--json", db=db,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    log = json.loads(registered.stdout)
    assert log["created"] and log["rows"] == n and log["source"]["engine"] == "duckdb"

    fairness = signed_in_cli("analyze", "fairness", "credit", "2", "--log", str(log["id"]), "--json", db=db)
    assert fairness.returncode == 0, fairness.stderr
    result = json.loads(fairness.stdout)["result"]
    women = frame[frame["gender"] == "F"]
    rate = next(g for g in result["segments"][0]["groups"] if g["group"] == "F")["metrics"]["selection_rate"]
    assert rate == women["decision"].mean()
    assert "GROUP BY" in result["source"]["sql"].upper()

    listed = json.loads(signed_in_cli("logs", "list", "--json", db=db).stdout)
    assert [entry["id"] for entry in listed] == [log["id"]]

    refused = signed_in_cli(
        "import", "source", "credit", "2", "--url", f"duckdb://{path}", "--label", "verdict",
        "--prediction", "decision", db=db,
    )  # fmt: skip
    assert refused.returncode == 2 and "no column 'verdict'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_postgres_password_is_taken_from_the_keyring_after_the_environment(
    run_cli, postgres_server, tmp_path, monkeypatch, dump_tables
):
    """A real file-based keyring (keyrings.alt's plaintext file, chosen by PYTHON_KEYRING_BACKEND) and
    a PostgreSQL role that must give its password (scram-sha-256 for that role alone). The password is
    kept with the CLI; registering and analysing (in this process, to spare the tests' time) find it."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # chosen afresh from the environment
    secret = "kr-Secret-7f3a"
    rows = pd.DataFrame({"y": [0, 1, 1, 0], "yhat": [0, 1, 0, 0], "g": list("abab")})
    url = password_role(postgres_server, rows, secret)
    account = url.split("://", 1)[1].split(":", 1)[0]  # role@127.0.0.1
    db = open_database(f"sqlite:///{tmp_path / 'signoff.db'}")
    add_model_version(db, name="credit", version="1")
    mapping = ColumnMapping(label="y", prediction="yhat", sensitive=("g",))

    def register():
        return register_source(db, model="credit", version="1", url=url, table="predictions", mapping=mapping)

    with pytest.raises(ExternalServiceError, match="no password supplied"):
        register()

    stored = run_cli("source", "credentials", "set", url, "--password-stdin", input=f"{secret}\n")
    assert stored.returncode == 0, stored.stderr
    assert account in stored.stdout
    # the backend itself, read from the same file, holds it under service "signoff"
    assert PlaintextKeyring().get_password("signoff", account) == secret

    log = register().log
    assert log.rows == 4
    fairness = analyze_fairness(db, name="credit", version="1", log_id=log.id, n_resamples=0)
    rates = {g.group: g.metrics["selection_rate"] for g in fairness.result.segments[0].groups}
    assert rates == {"a": 0.0, "b": 0.5}  # hand-counted: yhat is 0, 0 for a and 1, 0 for b

    # the environment comes first: a wrong PGPASSWORD is used, and refused, before the keyring
    monkeypatch.setenv("PGPASSWORD", "not-it")
    with pytest.raises(ExternalServiceError, match="password authentication failed"):
        analyze_fairness(db, name="credit", version="1", log_id=log.id, n_resamples=5)
    db.close()
    assert secret not in repr(dump_tables(db.url))  # neither the tables nor the audit log hold it

    assert run_cli("source", "credentials", "delete", url).returncode == 0
    assert PlaintextKeyring().get_password("signoff", account) is None
    assert run_cli("source", "credentials", "delete", url).returncode == 1
    in_url = run_cli(
        "source",
        "credentials",
        "set",
        url.replace("@127.0.0.1", ":x@127.0.0.1"),
        "--password-stdin",
        input="y\n",
    )
    assert in_url.returncode == 2 and "not inside the source URL" in in_url.stderr
