"""Fairness, performance and monitoring of a stored log: read from evidence, recorded once, on both engines;
and the same through ``signoff analyze`` as a CI pipeline runs it."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from signoff.analysis.fairness import run_fairness
from signoff.domain.errors import InputError
from signoff.domain.prediction_log import ColumnMapping, LogRole, ValidationReport
from signoff.services.audit import list_audit_events
from signoff.services.fairness import analyze_fairness, analyze_monitoring, analyze_performance
from signoff.services.models import add_model_version


def _log_frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 1200
    sex = rng.choice(["Female", "Male"], size=n).astype(object)
    sex[:20] = None
    score = rng.random(n)
    return pd.DataFrame(
        {
            "ts": pd.date_range("2026-03-02", periods=n, freq="h", tz="UTC"),
            "y": (rng.random(n) < score).astype(int),
            "yhat": (score > np.where(sex == "Female", 0.6, 0.5)).astype(int),
            "p1": score,
            "sex": sex,
            "age": rng.integers(18, 80, size=n),
        }
    )


def store_log(db, frame: pd.DataFrame, model_version_id: int) -> int:
    """What the log importer leaves behind: canonical Parquet in the evidence store, a log row."""
    buffer = io.BytesIO()
    frame.assign(source_row=np.arange(1, len(frame) + 1)).to_parquet(buffer, index=False)
    mapping = ColumnMapping(
        label="y", prediction="yhat", scores=("p1",), sensitive=("sex", "age"), timestamp="ts"
    )
    with db.transaction() as uow:
        sha = uow.evidence.put_bytes(buffer.getvalue(), media_type="application/vnd.apache.parquet")
        log = uow.logs.add(
            model_version_id=model_version_id,
            role=LogRole.PRODUCTION,
            source_name="log.parquet",
            source_sha256=sha,
            evidence_sha256=sha,
            quarantine_sha256=None,
            rows=len(frame),
            mapping=mapping,
            validation=ValidationReport(rows_read=len(frame), rows_kept=len(frame), task="binary"),
            read_options={},
            period_start=None,
            period_end=None,
            importer="test",
            imported_by="tester",
        )
    return log.id


@pytest.fixture
def stored(db):
    model = add_model_version(db, name="credit", version="2")
    frame = _log_frame()
    return model, store_log(db, frame, model.id), frame


def test_fairness_of_a_stored_log_is_recorded_once(db, stored):
    _, log_id, frame = stored
    kw = {"name": "credit", "version": "2", "log_id": log_id, "sensitive": ["sex"], "n_resamples": 100}
    first = analyze_fairness(db, **kw)
    again = analyze_fairness(db, **kw)
    assert again.run.id == first.run.id
    expected = run_fairness(
        frame, label="y", prediction="yhat", scores="p1", sensitive=["sex"], n_resamples=100
    )
    assert first.result == expected
    assert first.run.inputs == {"log": first.run.inputs["log"]} and len(first.run.inputs["log"]) == 64
    assert first.result.segment("sex").unknown_count == 20
    events = list_audit_events(db, action="analysis")
    assert len(events) == 1 and events[0].payload["result_sha256"] == first.run.result_sha256


def test_performance_and_monitoring_of_a_stored_log(db, stored):
    _, log_id, frame = stored
    perf = analyze_performance(
        db, name="credit", version="2", log_id=log_id, bins={"age": [0, 40, float("inf")]}, n_resamples=50
    )
    assert perf.result.task == "binary"
    assert [g.group for g in perf.result.segment("age").groups] == ["0-40", "40+"]
    assert perf.run.parameters["bins"] == {"age": [0.0, 40.0, "inf"]}
    mon = analyze_monitoring(db, name="credit", version="2", log_id=log_id, frequency="day")
    assert sum(w.count for w in mon.result.windows) == len(frame) and len(mon.result.windows) == 50


def test_a_log_of_another_version_is_refused(db, stored):
    _, log_id, _ = stored
    add_model_version(db, name="credit", version="3")
    with pytest.raises(InputError, match="another model version"):
        analyze_fairness(db, name="credit", version="3", log_id=log_id)


def test_analyze_fairness_cli_json(signed_in_cli, db_url, db, stored):
    _, log_id, _ = stored
    args = ["analyze", "fairness", "credit", "2", "--log", str(log_id), "--sensitive", "sex", "age"]
    args += ["--bins", "age=0,40,inf", "--reference", "sex=Male", "--resamples", "50", "--json"]
    done = signed_in_cli(*args, db=db_url)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["analysis_run"]["kind"] == "fairness" and "result" not in out["analysis_run"]
    result = out["result"]
    assert result["kind"] == "fairness" and [s["name"] for s in result["segments"]] == [
        "sex",
        "age",
        "sex&age",
    ]
    sex = result["segments"][0]
    assert sex["reference"] == "Male" and sex["unknown_count"] == 20
    names = {c["name"] for c in sex["comparisons"]}
    assert {"demographic_parity_difference", "disparate_impact", "equalized_odds_difference_mean"} <= names
    text = signed_in_cli(
        "analyze", "fairness", "credit", "2", "--log", str(log_id), "--resamples", "50", db=db_url
    )
    assert text.returncode == 0 and "IMPACT RATIO" in text.stdout
    bad = signed_in_cli(
        "analyze", "fairness", "credit", "2", "--log", str(log_id), "--sensitive", "gender", db=db_url
    )
    assert bad.returncode == 2 and "no such column" in bad.stderr and "Traceback" not in bad.stderr
