"""``signoff import log`` end to end through the real executable, on both engines, including a SIGKILL."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from signoff.services.audit import verify_audit_log
from signoff.services.models import add_model_version


def test_import_list_show_and_verify(signed_in_cli, db_url, db, log_csv, log_mapping_args):
    add_model_version(db, name="credit risk", version="3")
    args = ("import", "log", str(log_csv), "--model", "credit risk", "--version", "3", *log_mapping_args)
    first = signed_in_cli(*args, "--role", "production", "--json", db=db_url)
    assert first.returncode == 0, first.stderr
    imported = json.loads(first.stdout)
    assert imported["created"] is True and imported["rows"] == 500 and imported["role"] == "production"
    assert first.stderr == ""  # no progress bar when standard error is not a terminal

    again = json.loads(signed_in_cli(*args, "--role", "production", "--json", db=db_url).stdout)
    assert again["created"] is False and again["id"] == imported["id"]

    listed = json.loads(
        signed_in_cli("logs", "list", "--model", "credit risk", "--version", "3", "--json", db=db_url).stdout
    )
    assert [(log["id"], log["evidence_sha256"]) for log in listed] == [
        (imported["id"], imported["evidence_sha256"])
    ]
    shown = signed_in_cli("logs", "show", str(imported["id"]), db=db_url)
    assert shown.returncode == 0 and imported["evidence_sha256"] in shown.stdout and "500" in shown.stdout

    verdict = verify_audit_log(db)
    # the model, the import, and the test account's creation (with the workspace's certificate
    # authority: it is the first administrator) and sign-in token
    assert verdict.ok and verdict.events_checked == 5


def test_a_rejected_import_is_one_paragraph_exit_2_and_changes_nothing(
    signed_in_cli, db_url, db, tmp_path, dump_tables
):
    add_model_version(db, name="m", version="1")
    bad = tmp_path / "ragged.csv"
    bad.write_text("label,prediction\n0,1\n1,0,1,1\n0,0\n")
    signed_in_cli.sign_in(db_url)
    before = dump_tables(db_url)
    for path in (bad, tmp_path / "missing.csv"):
        result = signed_in_cli("import", "log", str(path), "--model", "m", "--version", "1", "--label", "label",
                         "--prediction", "prediction", db=db_url)  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("signoff: ") and "Traceback" not in result.stderr
        assert path.name in result.stderr
    assert dump_tables(db_url) == before


@pytest.fixture(scope="session")
def big_log_csv(tmp_path_factory, prediction_log_writer):
    # Big enough that storing its evidence takes many chunks, so the kill lands inside the transaction.
    return prediction_log_writer(tmp_path_factory.mktemp("big") / "big.csv", 800_000, features=4)


def test_sigkill_in_the_middle_of_an_import_leaves_no_trace(
    db_url, db, big_log_csv, dump_tables, signed_in_cli, log_mapping_args, subprocess_env
):
    add_model_version(db, name="m", version="1")
    token = signed_in_cli.sign_in(db_url)
    before = dump_tables(db_url)
    controller, terminal = pty.openpty()  # a real terminal on standard error, so the progress bar shows
    process = subprocess.Popen(
        [sys.executable, "-m", "signoff", "--db", db_url, "import", "log", str(big_log_csv), "--model", "m",
         "--version", "1", *log_mapping_args],
        stdout=subprocess.DEVNULL, stderr=terminal, stdin=subprocess.DEVNULL,
        env={**subprocess_env, "SIGNOFF_TOKEN": token},
    )  # fmt: skip
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 240
    try:
        while b"storing" not in seen:
            assert process.poll() is None, f"the import ended before it was killed: {seen[-500:]!r}"
            assert time.monotonic() < deadline, "the import never started storing"
            if select.select([controller], [], [], 0.5)[0]:
                seen += os.read(controller, 65536)
        os.kill(process.pid, signal.SIGKILL)  # the evidence transaction is open: a chunk is already in
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    assert process.returncode == -signal.SIGKILL
    assert b"reading" in seen

    assert dump_tables(db_url) == before  # no log row, no blob, no chunk, no audit event
    verified = signed_in_cli("audit", "verify", db=db_url)
    assert verified.returncode == 0, verified.stdout
