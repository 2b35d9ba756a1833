"""A report is exported only over evidence that verifies, and ``verify REPORT.pdf`` checks what the report
states (signature meanings, review state) against the signed events, not only hashes (issue 18).

Each test tampers a copy of the report world's SQLite file with raw SQL, the way someone holding the file
would; the expected hashes are computed here with ``hashlib`` from the bytes the test wrote.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import sqlalchemy
from report_world import NAME, VERSION, build_report_world

from signoff.domain.errors import IntegrityError
from signoff.services.report import export_report, verify_report
from signoff.storage import open_database


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_report_world(tmp_path_factory.mktemp("tamper_world"))


@pytest.fixture
def copy_url(world, tmp_path):
    target = tmp_path / "copy.db"
    shutil.copyfile(world.url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def _sql(url, statement, **params):
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(sqlalchemy.text(statement), params)
            return result.fetchall() if result.returns_rows else None
    finally:
        engine.dispose()


def _drop_triggers(url, table):
    for (name,) in _sql(
        url, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t", t=table
    ):
        _sql(url, f'DROP TRIGGER "{name}"')


def _events(url):
    return _sql(url, "SELECT count(*) FROM audit_event")[0][0]


def test_a_report_is_not_exported_over_a_flipped_evidence_byte(world, copy_url, tmp_path):
    (sha,) = _sql(copy_url, "SELECT evidence_sha256 FROM prediction_log WHERE id = :i", i=world.log_id)[0]
    _drop_triggers(copy_url, "evidence_chunk")
    (data,) = _sql(
        copy_url, "SELECT data FROM evidence_chunk WHERE blob_sha256 = :h AND chunk_index = 0", h=sha
    )[0]
    flipped = bytes(data[:100]) + bytes([data[100] ^ 0x40]) + bytes(data[101:])
    _sql(
        copy_url,
        "UPDATE evidence_chunk SET data = :d WHERE blob_sha256 = :h AND chunk_index = 0",
        d=flipped,
        h=sha,
    )
    before = _events(copy_url)
    out = tmp_path / "report.pdf"
    with open_database(copy_url) as db, pytest.raises(IntegrityError) as refused:
        export_report(db, name=NAME, version=VERSION, out=out, actor="alice")
    assert f"evidence_blob {sha}" in str(refused.value)
    assert hashlib.sha256(flipped).hexdigest() in str(refused.value)
    assert not out.exists() and not list(tmp_path.glob(".*.part")) and _events(copy_url) == before


def test_a_report_is_not_exported_over_an_edited_result(world, copy_url, tmp_path):
    (run_id, result) = _sql(copy_url, "SELECT id, result FROM analysis_run WHERE kind = 'performance'")[0]
    edited = json.loads(result)
    edited["overall"]["n"] = 999_999
    _drop_triggers(copy_url, "analysis_run")
    _sql(copy_url, "UPDATE analysis_run SET result = :r WHERE id = :i", r=json.dumps(edited), i=run_id)
    with (
        open_database(copy_url) as db,
        pytest.raises(IntegrityError, match=f"analysis_run {run_id}: its stored"),
    ):
        export_report(db, name=NAME, version=VERSION, out=tmp_path / "r.pdf", actor="alice")
    assert not (tmp_path / "r.pdf").exists()


def test_a_report_is_not_exported_while_the_review_state_was_forged(world, copy_url, tmp_path):
    _drop_triggers(copy_url, "review")
    _sql(copy_url, "UPDATE review SET state = 'in_review' WHERE id = :i", i=world.review_id)
    with (
        open_database(copy_url) as db,
        pytest.raises(IntegrityError, match=f"review {world.review_id}: its state"),
    ):
        export_report(db, name=NAME, version=VERSION, out=tmp_path / "r.pdf", actor="alice")


def test_verify_report_names_a_signing_whose_audited_meaning_was_changed(world, copy_url, tmp_path):
    """The issue's last tamper: approved -> rejected in the signing's audit event; the PDF verify caught nothing."""
    out = tmp_path / "report.pdf"
    with open_database(copy_url) as db:
        export_report(db, name=NAME, version=VERSION, out=out, actor="alice")
        assert verify_report(db, out).ok
    (sequence, payload) = _sql(
        copy_url,
        "SELECT sequence, payload FROM audit_event WHERE action = 'review.signed' ORDER BY sequence DESC LIMIT 1",
    )[0]
    assert '"meaning":"approved"' in payload
    _drop_triggers(copy_url, "audit_event")
    _sql(
        copy_url,
        "UPDATE audit_event SET payload = :p WHERE sequence = :s",
        p=payload.replace('"meaning":"approved"', '"meaning":"rejected"'),
        s=sequence,
    )
    with open_database(copy_url) as db:
        verdict = verify_report(db, out)
    failed = {c.name: c.detail for c in verdict.checks if c.ok is False}
    name = "signature 2 means approved as approver, as the audit log recorded it"
    assert failed[name] == (
        "the audit log records meaning 'rejected' as 'approver' at "
        f"{json.loads(payload)['manifest']['signed_at']}; the report states 'approved' as 'approver'"
    )
    assert f"event {sequence} differs" in failed["audit events in the report are the audit log's"]
    assert not verdict.ok


def test_verify_report_checks_the_stated_state_against_the_signed_events(world, copy_url, tmp_path):
    out = tmp_path / "report.pdf"
    with open_database(copy_url) as db:
        export_report(db, name=NAME, version=VERSION, out=out, actor="alice")
        checks = {c.name: (c.ok, c.detail) for c in verify_report(db, out).checks}
    assert checks[f"review {world.review_id} state 'approved' follows from its signed events"] == (
        True,
        "2 counted signature(s)",
    )
    assert checks["signature 1 means reviewed as reviewer, as the audit log recorded it"][0] is True
