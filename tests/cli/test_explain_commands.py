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
import pytest
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier

from signoff.domain.prediction_log import ColumnMapping, LogRole
from signoff.services.logs import import_log
from signoff.services.models import list_model_versions
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
    """Import ``frame`` through the real log import, as a user's file would be."""
    model_version = next(v for v in list_model_versions(db) if v.id == model_version_id)
    path = folder / f"log-{frame['id'].iloc[0]}.parquet"
    frame[list(MAPPING.mapped_columns())].to_parquet(path, index=False)
    return import_log(
        db,
        path,
        model=model_version.name,
        version=model_version.version,
        mapping=MAPPING,
        role=LogRole.PRODUCTION,
        actor="test",
    ).log.id


class RunsCodeOnLoad:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_explain_and_trust_from_the_command_line(signed_in_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'signoff.db'}"
    assert signed_in_cli("models", "add", "credit", "1", db=url).returncode == 0
    assert signed_in_cli("models", "add", "legacy", "1", db=url).returncode == 0
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

    attached = signed_in_cli(
        "models", "attach", "credit", "1", str(tmp_path / "forest.skops"), "--json", db=url
    )
    assert attached.returncode == 0, attached.stderr
    first = signed_in_cli("explain", "credit", "1", "--log", str(log), "--row", "2-0", "--json", db=url)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["reused"] is False
    assert result["inputs"]["model"] == json.loads(attached.stdout)["sha256"]
    explanation = result["explanation"]
    assert explanation["settings"]["output_space"] == "probability of class 1"
    assert explanation["additivity"]["ok"] is True
    assert explanation["local"][0]["row_id"] == "2-0"
    second = signed_in_cli("explain", "credit", "1", "--log", str(log), "--row", "2-0", db=url)
    assert second.returncode == 0, second.stderr
    assert f"returned the stored analysis run {result['analysis_run_id']}" in second.stdout
    assert "Global importance" in second.stdout and "additivity: max error" in second.stdout
    assert "Row 2-0: base value" in second.stdout and "time: estimated" in second.stdout
    nothing = signed_in_cli("models", "trust", "credit", "1", db=url)
    assert "nothing to trust" in nothing.stdout

    assert (
        signed_in_cli("models", "attach", "legacy", "1", str(tmp_path / "model.pkl"), db=url).returncode == 0
    )
    declined = signed_in_cli("models", "trust", "legacy", "1", db=url, input="no\n")
    assert declined.returncode == 1
    assert "picklescan" in declined.stdout and "dangerous" in declined.stdout
    assert "not trusted" in declined.stdout
    refused = signed_in_cli("explain", "legacy", "1", "--log", str(legacy_log), db=url)
    assert refused.returncode == 4
    assert "signoff models trust" in refused.stderr and "Traceback" not in refused.stderr
    log_events = json.loads(signed_in_cli("audit", "log", "--json", db=url).stdout)
    assert not any(e["action"] == "model.artifact_trusted" for e in log_events)
    assert not marker.exists()

    help_text = signed_in_cli("explain", "--help").stdout
    assert "--sample" in help_text and "--row" in help_text
    assert np.isfinite(explanation["base_value"])


def test_shap_values_brought_in_the_log_explain_a_model_without_a_file(tmp_path, signed_in_cli):
    """A team computes SHAP in its own pipeline; Signoff summarises the columns it imported.

    The oracle: the SHAP values of a linear model are coef * (x - mean(x)), computed here with numpy,
    and mean |SHAP| per feature is taken from those same hand-made numbers.
    """
    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    rng = np.random.default_rng(7)
    rows = 300
    x = rng.normal(size=(rows, 2))
    coef = np.array([2.0, -0.5])
    shap = coef * (x - x.mean(axis=0))
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(rows)],
            "income": x[:, 0],
            "debt": x[:, 1],
            "shap_income": shap[:, 0],
            "shap_debt": shap[:, 1],
            "base": 0.25,
            "sex": rng.choice(["Female", "Male"], size=rows),
            "label": rng.integers(0, 2, size=rows),
        }
    )
    frame["prediction"] = (shap.sum(axis=1) + 0.25 > 0).astype(int)
    path = tmp_path / "scored.csv"
    frame.to_csv(path, index=False)
    assert signed_in_cli("models", "add", "pipeline-shap", "1", db=db).returncode == 0

    common = ["import", "log", str(path), "--model", "pipeline-shap", "--version", "1"]
    common += ["--label", "label", "--prediction", "prediction", "--id", "id", "--sensitive", "sex"]
    common += ["--feature", "income", "debt"]
    no_base = signed_in_cli(*common, "--shap", "income=shap_income", "debt=shap_debt", db=db)
    assert no_base.returncode != 0
    assert "--shap-base" in no_base.stderr and "Traceback" not in no_base.stderr

    imported = signed_in_cli(
        *common, "--shap", "income=shap_income", "debt=shap_debt", "--shap-base", "base", "--json", db=db
    )
    assert imported.returncode == 0, imported.stderr
    log_id = json.loads(imported.stdout)["id"]

    explained = signed_in_cli(
        "explain", "pipeline-shap", "1", "--log", str(log_id), "--row", "r5", "--json", db=db
    )
    assert explained.returncode == 0, explained.stderr
    result = json.loads(explained.stdout)
    assert result["parameters"]["source"] == "log"
    explanation = result["explanation"]
    importance = {i["feature"]: i["mean_abs_shap"] for i in explanation["global_importance"]}
    assert importance["income"] == pytest.approx(np.abs(shap[:, 0]).mean(), rel=1e-9)
    assert importance["debt"] == pytest.approx(np.abs(shap[:, 1]).mean(), rel=1e-9)
    assert explanation["settings"]["explainer"] == "precomputed"
    (local,) = explanation["local"]
    contributions = {c["feature"]: c["shap"] for c in local["contributions"]}
    assert contributions == pytest.approx({"income": shap[5, 0], "debt": shap[5, 1]})
    assert local["base_value"] == pytest.approx(0.25)

    from_model = signed_in_cli(
        "explain", "pipeline-shap", "1", "--log", str(log_id), "--from", "model", db=db
    )
    assert from_model.returncode != 0
    assert "no model file" in from_model.stderr and "Traceback" not in from_model.stderr


def test_a_shap_column_that_is_not_a_number_is_refused_naming_row_and_column(tmp_path, signed_in_cli):
    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    path = tmp_path / "bad.csv"
    path.write_text("label,prediction,x,shap_x,base\n1,1,0.5,0.1,0\n0,0,0.2,oops,0\n")
    assert signed_in_cli("models", "add", "pipeline-shap", "1", db=db).returncode == 0
    result = signed_in_cli(
        "import", "log", str(path), "--model", "pipeline-shap", "--version", "1", "--label", "label",
        "--prediction", "prediction", "--feature", "x", "--shap", "x=shap_x", "--shap-base", "base", db=db,
    )  # fmt: skip
    assert result.returncode != 0
    assert "shap_x" in result.stderr + result.stdout and "2" in result.stderr + result.stdout
    assert signed_in_cli("logs", "list", "--json", db=db).stdout.strip() in ("[]", "")
