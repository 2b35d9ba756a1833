"""``signoff explain``, ``signoff models attach`` and ``signoff models trust`` run as real subprocesses.

The malicious pickle runs ``os.system`` when unpickled; the marker file must never appear, neither when
the user declines to trust it nor when explanation is asked for anyway.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier

from signoff.domain.prediction_log import ColumnMapping, LogRole, ValidationReport
from signoff.storage import open_database

FEATURES = ("f0", "f1", "f2")
MAPPING = ColumnMapping(
    label="label", prediction="prediction", sensitive=("sex",), features=FEATURES, id="id"
)


def make_log(seed: int, rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 3)), columns=list(FEATURES))
    frame["sex"] = rng.choice(["Female", "Male"], size=rows)
    frame["label"] = (frame["f0"] + frame["f1"] > 0).astype(int)
    frame["prediction"] = frame["label"]
    frame["id"] = [f"{seed}-{i}" for i in range(rows)]
    return frame


def store_log(db, model_version_id: int, frame: pd.DataFrame, folder: Path) -> int:
    """A log as the importer leaves it: canonical Parquet evidence and its row (the importer itself
    is tested with its own command)."""
    path = folder / f"log-{frame['id'].iloc[0]}.parquet"
    frame[list(MAPPING.mapped_columns())].to_parquet(path, index=False)
    with db.transaction() as uow:
        sha256 = uow.evidence.put_file(path)
        return uow.logs.add(
            model_version_id=model_version_id,
            role=LogRole.PRODUCTION,
            source_name=path.name,
            source_sha256=sha256,
            evidence_sha256=sha256,
            quarantine_sha256=None,
            rows=len(frame),
            mapping=MAPPING,
            validation=ValidationReport(rows_read=len(frame), rows_kept=len(frame)),
            read_options={},
            period_start=None,
            period_end=None,
            importer="test",
            imported_by="test",
        ).id


class RunsCodeOnLoad:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_explain_and_trust_from_the_command_line(run_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'signoff.db'}"
    assert run_cli("models", "add", "credit", "1", db=url).returncode == 0
    assert run_cli("models", "add", "legacy", "1", db=url).returncode == 0
    training = make_log(1, rows=600)
    forest = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    forest.fit(training[list(FEATURES)], training["label"])
    sio.dump(forest, tmp_path / "forest.skops")
    marker = tmp_path / "MARKER"
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(RunsCodeOnLoad(marker)))
    db = open_database(url)
    try:
        with db.transaction(write=False) as uow:
            versions = {v.name: v.id for v in uow.models.list()}
        log = store_log(db, versions["credit"], make_log(2), tmp_path)
        legacy_log = store_log(db, versions["legacy"], make_log(3), tmp_path)
    finally:
        db.close()

    attached = run_cli("models", "attach", "credit", "1", str(tmp_path / "forest.skops"), "--json", db=url)
    assert attached.returncode == 0, attached.stderr
    first = run_cli("explain", "credit", "1", "--log", str(log), "--row", "2-0", "--json", db=url)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["reused"] is False
    assert result["inputs"]["model"] == json.loads(attached.stdout)["sha256"]
    explanation = result["explanation"]
    assert explanation["settings"]["output_space"] == "probability of class 1"
    assert explanation["additivity"]["ok"] is True
    assert explanation["local"][0]["row_id"] == "2-0"
    second = run_cli("explain", "credit", "1", "--log", str(log), "--row", "2-0", db=url)
    assert second.returncode == 0, second.stderr
    assert f"returned the stored analysis run {result['analysis_run_id']}" in second.stdout
    assert "Global importance" in second.stdout and "additivity: max error" in second.stdout
    assert "Row 2-0: base value" in second.stdout and "time: estimated" in second.stdout
    nothing = run_cli("models", "trust", "credit", "1", db=url)
    assert "nothing to trust" in nothing.stdout

    assert run_cli("models", "attach", "legacy", "1", str(tmp_path / "model.pkl"), db=url).returncode == 0
    declined = run_cli("models", "trust", "legacy", "1", db=url, input="no\n")
    assert declined.returncode == 1
    assert "picklescan" in declined.stdout and "dangerous" in declined.stdout
    assert "not trusted" in declined.stdout
    refused = run_cli("explain", "legacy", "1", "--log", str(legacy_log), db=url)
    assert refused.returncode == 4
    assert "signoff models trust" in refused.stderr and "Traceback" not in refused.stderr
    log_events = json.loads(run_cli("audit", "log", "--json", db=url).stdout)
    assert not any(e["action"] == "model.artifact_trusted" for e in log_events)
    assert not marker.exists()

    help_text = run_cli("explain", "--help").stdout
    assert "--sample" in help_text and "--row" in help_text
    assert np.isfinite(explanation["base_value"])
