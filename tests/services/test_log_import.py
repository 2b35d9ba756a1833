"""Importing a prediction log: evidence, log row and audit event land together, once, or not at all."""

from __future__ import annotations

import dataclasses

import pandas
import pytest

from signoff.domain.errors import InputError, NotFoundError
from signoff.domain.prediction_log import ColumnMapping, LogRejectedError, LogRole
from signoff.importers.prediction_log import LogReadOptions
from signoff.services.audit import list_audit_events, verify_audit_log
from signoff.services.logs import get_log, import_log, list_logs, load_log_frame
from signoff.services.models import add_model_version

MAPPING = ColumnMapping(
    label="label",
    prediction="prediction",
    scores=("score",),
    sensitive=("sex", "race"),
    features=("f0", "f1"),
    id="id",
    timestamp="ts",
)


@pytest.fixture
def model(db):
    return add_model_version(db, name="credit risk", version="3")


def test_a_log_is_stored_as_verified_evidence_with_its_report_and_event(db, model, log_csv, raw_sql):
    stages = []
    outcome = import_log(
        db,
        log_csv,
        model="credit risk",
        version="3",
        mapping=MAPPING,
        role=LogRole.PRODUCTION,
        actor="reviewer@bank",
        progress=lambda stage, done, total: stages.append(stage),
    )
    log = outcome.log
    assert outcome.created and log.rows == 500 and log.validation.ok
    assert (log.model_version_id, log.role, log.source_name) == (
        model.id,
        LogRole.PRODUCTION,
        "predictions.csv",
    )
    # The mapping as applied: the request plus the timestamp form the importer decided from the values.
    assert log.mapping == dataclasses.replace(MAPPING, timestamp_format="ISO 8601")
    assert log.imported_by == "reviewer@bank"
    assert "reading" in stages and stages[-1] == "storing"
    assert get_log(db, log.id) == log

    # What comes back out of the evidence store is the file's content, row for row.
    frame = load_log_frame(db, log.id)
    source = pandas.read_csv(log_csv)
    assert len(frame) == 500
    assert frame["label"].astype(int).tolist() == source["label"].tolist()
    assert frame["sex"].astype(str).tolist() == source["sex"].tolist()
    assert frame["score"].astype(float).tolist() == pytest.approx(source["score"].tolist())

    (event,) = list_audit_events(db, action="log")
    assert (event.action, event.entity, event.actor) == (
        "log.imported",
        f"prediction_log:{log.id}",
        "reviewer@bank",
    )
    assert event.payload["evidence_sha256"] == log.evidence_sha256 and event.payload["rows"] == 500
    assert raw_sql("SELECT sha256 FROM evidence_blob") == [(log.evidence_sha256,)]
    assert verify_audit_log(db).ok


def test_importing_the_same_file_twice_returns_the_stored_log(db, model, log_csv, dump_tables, db_url):
    first = import_log(db, log_csv, model="credit risk", version="3", mapping=MAPPING)
    before = dump_tables(db_url)
    again = import_log(db, log_csv, model="credit risk", version="3", mapping=MAPPING)
    assert not again.created and again.log == first.log
    assert dump_tables(db_url) == before  # not even an audit event
    # Another role is another log, but the same bytes are stored once.
    other = import_log(db, log_csv, model="credit risk", version="3", mapping=MAPPING, role=LogRole.REFERENCE)
    assert other.created and other.log.id != first.log.id
    assert other.log.evidence_sha256 == first.log.evidence_sha256
    assert len(dump_tables(db_url)["evidence_blob"]) == 1
    assert [log.id for log in list_logs(db, model="credit risk", version="3")] == [first.log.id, other.log.id]


def test_invalid_rows_are_rejected_in_strict_mode_and_quarantined_on_request(
    db, model, tmp_path, dump_tables, db_url
):
    path = tmp_path / "bad_scores.csv"
    path.write_text("id,label,prediction,score\n1,0,0,0.1\n2,1,1,0.9\n3,1,0,1.7\n4,0,0,0.2\n")
    mapping = ColumnMapping(label="label", prediction="prediction", scores=("score",), id="id")
    before = dump_tables(db_url)
    with pytest.raises(LogRejectedError) as rejected:
        import_log(db, path, model="credit risk", version="3", mapping=mapping)
    assert "score" in str(rejected.value) and rejected.value.report.rows_quarantined == 1
    assert dump_tables(db_url) == before

    outcome = import_log(
        db,
        path,
        model="credit risk",
        version="3",
        mapping=mapping,
        options=LogReadOptions(quarantine_invalid=True),
    )
    log = outcome.log
    assert log.rows == 3 and log.validation.rows_quarantined == 1 and log.quarantine_sha256
    assert log.read_options["quarantine_invalid"] is True
    assert {log.evidence_sha256, log.quarantine_sha256} == {
        r[0] for r in dump_tables(db_url)["evidence_blob"]
    }


def test_bad_input_leaves_the_database_unchanged(db, model, tmp_path, dump_tables, db_url):
    mapping = ColumnMapping(label="label", prediction="prediction", scores=("score",))
    files = {
        "empty.csv": b"",
        "header_only.csv": b"label,prediction,score\n",
        "missing_column.csv": b"label,prediction\n0,1\n",
        "junk.csv": bytes(range(256)) * 64,
        "text_label.csv": b"label,prediction,score\nyes,1,0.5\nno,0,0.2\nmaybe,1,0.7\n",
        "nan_score.csv": b"label,prediction,score\n0,0,nan\n1,1,0.4\n",
        "truncated.parquet": b"PAR1\x00\x00garbage",
    }
    before = dump_tables(db_url)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InputError):
            import_log(db, tmp_path / name, model="credit risk", version="3", mapping=mapping)
    with pytest.raises(InputError):
        import_log(db, tmp_path / "does_not_exist.csv", model="credit risk", version="3", mapping=mapping)
    with pytest.raises(NotFoundError):
        import_log(db, tmp_path / "empty.csv", model="no such model", version="1", mapping=mapping)
    assert dump_tables(db_url) == before
