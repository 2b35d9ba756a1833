"""Analysis runs: an identical request is computed once and recorded once, with its audit event."""

from __future__ import annotations

from dataclasses import replace

from signoff.domain.canonical import canonical_hash
from signoff.domain.prediction_log import ColumnMapping, LogRole, PredictionLog, ValidationReport
from signoff.services.analysis_runs import (
    find_analysis,
    latest_analysis,
    latest_analysis_of_log,
    list_analyses,
    record_analysis,
    run_analysis,
)
from signoff.services.audit import list_audit_events
from signoff.services.models import add_model_version


def test_an_identical_request_returns_the_stored_run(db):
    model = add_model_version(db, name="m", version="1")
    calls = []

    def compute():
        calls.append(1)
        return {"impact_ratio": 0.8, "groups": {"Female": 120, "Male": 200}, "undefined": None}

    request = {
        "kind": "fairness",
        "model_version_id": model.id,
        "inputs": {"log": "ab" * 32},
        "parameters": {"sensitive": ["sex"], "threshold": 0.5},
        "engine_version": "signoff.analysis 0.1.0",
    }
    first = run_analysis(db, **request, compute=compute)
    second = run_analysis(db, **request, compute=compute)
    again = record_analysis(db, **request, result={"something": "else"})
    assert first == second == again and len(calls) == 1
    assert first.result_sha256 == canonical_hash(compute())
    # Parameter order does not matter; a different parameter or engine is a different run.
    reordered = {**request, "parameters": {"threshold": 0.5, "sensitive": ["sex"]}}
    assert find_analysis(db, **reordered) == first
    assert find_analysis(db, **{**request, "parameters": {"sensitive": ["race"], "threshold": 0.5}}) is None
    newer = record_analysis(db, **{**request, "engine_version": "signoff.analysis 0.2.0"}, result={"x": 1})
    assert newer.id != first.id
    without_engine = {k: v for k, v in request.items() if k != "engine_version"}
    assert find_analysis(db, **without_engine) == newer  # the newest of any engine
    events = list_audit_events(db, action="analysis")
    assert [e.entity for e in events] == [f"analysis_run:{newer.id}", f"analysis_run:{first.id}"]
    assert events[-1].payload["result_sha256"] == first.result_sha256
    assert [r.id for r in list_analyses(db, kind="fairness", model_version_id=model.id)] == [
        first.id,
        newer.id,
    ]


def test_the_latest_run_of_a_log(db):
    model = add_model_version(db, name="m", version="1")
    log = PredictionLog(
        id=1,
        model_version_id=model.id,
        role=LogRole.VALIDATION,
        source_name="log.csv",
        source_sha256="cd" * 32,
        evidence_sha256="ab" * 32,
        quarantine_sha256=None,
        rows=10,
        mapping=ColumnMapping(label="y", prediction="p"),
        validation=ValidationReport(rows_read=10, rows_kept=10),
    )
    assert latest_analysis_of_log(db, kind="fairness", log=log) is None

    def record(kind, sha, seed):
        return record_analysis(
            db,
            kind=kind,
            model_version_id=model.id,
            inputs={"log": sha},
            parameters={"seed": seed},
            engine_version="e",
            result={"seed": seed},
        )

    record("fairness", log.evidence_sha256, 1)
    second = record("fairness", log.evidence_sha256, 2)
    record("fairness", "ef" * 32, 3)  # another log's
    record("validation", log.evidence_sha256, 4)  # another kind
    assert latest_analysis_of_log(db, kind="fairness", log=log) == second
    assert latest_analysis_of_log(db, kind="fairness", log=replace(log, evidence_sha256="00" * 32)) is None

    # Without a log: the newest run of the kind for this version, never another version's.
    other = add_model_version(db, name="m", version="2")
    record_analysis(
        db,
        kind="fairness",
        model_version_id=other.id,
        inputs={"log": "ef" * 32},
        parameters={},
        engine_version="e",
        result={},
    )
    newest = latest_analysis(db, kind="fairness", model_version_id=model.id)
    assert newest is not None and newest.result == {"seed": 3}
    # A run reading two logs (drift) is found by either of them.
    drift = record_analysis(
        db,
        kind="drift",
        model_version_id=model.id,
        inputs={"reference_log": "01" * 32, "current_log": "02" * 32},
        parameters={},
        engine_version="e",
        result={},
    )
    assert (
        latest_analysis(db, kind="drift", model_version_id=model.id, reading={"02" * 32, "99" * 32}) == drift
    )
    assert latest_analysis(db, kind="drift", model_version_id=model.id, reading={"99" * 32}) is None
    assert latest_analysis(db, kind="policy", model_version_id=model.id) is None
