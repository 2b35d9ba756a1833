"""The demo workspace, built by the real ``signoff demo --json`` on a real SQLite file (once per session).

The row counts, group sizes, label counts and ROC AUC are checked against the shipped gzip files read
here on their own (csv module, scikit-learn), not against what the demo code computed.
"""

from __future__ import annotations

import csv
import gzip
import json

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.metrics import roc_auc_score

from signoff.resources import resource_path
from signoff.services import open_database
from signoff.services.analysis_runs import list_analyses
from signoff.services.audit import list_audit_events
from signoff.services.demo import DEMO_MODEL, REFERENCE_ROWS
from signoff.services.logs import list_logs, load_log_frame
from signoff.services.models import list_model_versions

KINDS = {"validation", "fairness", "performance", "monitoring", "drift", "shap", "policy"}


def raw_rows(name: str) -> list[list[str]]:
    """The data rows of a shipped Adult file: blank lines and the test file's comment line left out."""
    with gzip.open(resource_path("demo", f"{name}.gz"), "rt", encoding="ascii") as handle:
        rows = [[field.strip() for field in row] for row in csv.reader(handle) if row]
    return [row for row in rows if len(row) == 15]


@pytest.fixture(scope="module")
def test_rows() -> list[list[str]]:
    rows = raw_rows("adult.test")
    with gzip.open(resource_path("demo", "adult.test.gz"), "rt", encoding="ascii") as handle:
        lines = [line for line in handle if line.strip()]
    assert lines[0].startswith("|") and len(rows) == len(lines) - 1  # only the junk first line dropped
    return rows


@pytest.fixture(scope="module")
def demo(demo_workspace):
    path, summary = demo_workspace
    db = open_database(f"sqlite:///{path}")
    yield db, summary
    db.close()


def test_two_versions_with_a_reference_and_a_production_log_each(demo, test_rows):
    db, summary = demo
    assert len(raw_rows("adult.data")) == 32561
    assert len(test_rows) == 16281
    versions = list_model_versions(db, name=DEMO_MODEL)
    assert sorted(v.version for v in versions) == ["1", "2"]
    assert all("UCI Adult" in v.description for v in versions)
    for version in ("1", "2"):
        logs = {str(log.role): log for log in list_logs(db, model=DEMO_MODEL, version=version)}
        assert set(logs) == {"reference", "production"}
        assert logs["production"].rows == len(test_rows)
        assert logs["reference"].rows == REFERENCE_ROWS
        assert logs["production"].validation.ok and logs["reference"].validation.ok
    assert [v["version"] for v in summary["versions"]] == ["1", "2"]
    assert [log["rows"] for v in summary["versions"] for log in v["logs"]] == [REFERENCE_ROWS, 16281] * 2


def test_production_log_holds_the_test_file_labels_and_the_attached_model_scores(demo, test_rows, tmp_path):
    db, _ = demo
    positives = sum(row[14] == ">50K." for row in test_rows)
    for version in ("1", "2"):
        production = next(
            log for log in list_logs(db, model=DEMO_MODEL, version=version) if str(log.role) == "production"
        )
        frame = load_log_frame(db, production.id)
        assert int(frame["income_over_50k"].sum()) == positives
        assert list(frame["age"]) == [int(row[0]) for row in test_rows]
        assert list(frame["sex"]) == [row[9] for row in test_rows]
        assert list(frame["married"]) == [int(row[5].startswith("Married")) for row in test_rows]
        # The model file attached to the version is the one that produced the scores.
        attached = [e for e in list_audit_events(db) if e.action == "model.artifact_attached"]
        event = next(e for e in attached if e.entity == f"model_version:{production.model_version_id}")
        model_path = tmp_path / f"v{version}.skops"
        with db.transaction(write=False) as uow:
            uow.evidence.write_to(event.payload["sha256"], model_path)
        model = sio.load(model_path, trusted=sio.get_untrusted_types(file=model_path))
        inputs = pd.DataFrame(
            {
                "age": [int(r[0]) for r in test_rows],
                "education_num": [int(r[4]) for r in test_rows],
                "capital_gain": [int(r[10]) for r in test_rows],
                "capital_loss": [int(r[11]) for r in test_rows],
                "hours_per_week": [int(r[12]) for r in test_rows],
                "married": [int(r[5].startswith("Married")) for r in test_rows],
            }
        )
        np.testing.assert_allclose(frame["score"], model.predict_proba(inputs)[:, 1], atol=1e-6)


def test_every_analysis_kind_is_recorded_for_both_versions(demo, test_rows):
    db, summary = demo
    for entry in summary["versions"]:
        runs = list_analyses(db, model_version_id=entry["model_version_id"])
        assert {run.kind for run in runs} == KINDS
        assert {a["kind"] for a in entry["analyses"]} == KINDS
        by_kind = {run.kind: run for run in runs}
        fairness = by_kind["fairness"].result
        sex = next(s for s in fairness["segments"] if s["name"] == "sex")
        counts = {g["group"]: g["count"] for g in sex["groups"]}
        assert counts == {
            "Female": sum(r[9] == "Female" for r in test_rows),
            "Male": sum(r[9] == "Male" for r in test_rows),
        }
        assert {s["name"] for s in fairness["segments"]} >= {"sex&race", "sex&age_group", "race&age_group"}
        log = load_log_frame(db, entry["logs"][1]["id"])
        expected_auc = roc_auc_score(log["income_over_50k"], log["score"])
        performance = by_kind["performance"].result["overall"]["metrics"]
        assert performance["roc_auc"] == pytest.approx(expected_auc, abs=1e-9)
        policy = by_kind["policy"].result
        verdicts = {(v["rule_id"], v["scope"]): v for v in policy["verdicts"]}
        # The AUC rule judges the estimate now, so it is decided rather than missing.
        assert verdicts[("discrimination-power", "overall")]["status"] == "pass"
        assert entry["policy_status"] == policy["status"]


def test_the_audit_log_verifies(signed_in_cli, demo_workspace):
    path, _ = demo_workspace
    result = signed_in_cli("audit", "verify", db=f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    assert "intact" in result.stdout


def test_a_second_demo_is_refused_and_changes_nothing(signed_in_cli, demo_workspace, dump_tables):
    path, _ = demo_workspace
    url = f"sqlite:///{path}"
    signed_in_cli.sign_in(url)
    before = dump_tables(url)
    result = signed_in_cli("demo", "--json", db=url)
    assert result.returncode == 3
    assert result.stdout == ""
    assert "already in this database" in result.stderr and DEMO_MODEL in result.stderr
    assert "Traceback" not in result.stderr
    assert dump_tables(url) == before


def test_the_summary_is_plain_json(demo):
    _, summary = demo
    assert json.loads(json.dumps(summary)) == summary
    assert summary["model"] == DEMO_MODEL and summary["policy"] == "lending-four-fifths"
