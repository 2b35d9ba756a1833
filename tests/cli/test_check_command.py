"""``signoff check``, ``signoff waivers`` and ``signoff analyze drift|validation`` as a CI pipeline runs
them: the real executable in a subprocess, against a real SQLite database holding imported logs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from review_world import ANALYST_PASSWORD
from signoff.domain.prediction_log import ColumnMapping, LogRole
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.storage import open_database

MAPPING = ColumnMapping(
    label="label", prediction="prediction", scores=("score",), features=("x", "colour"), id="id"
)
POLICY = """\
format: signoff-policy/1
name: ci-gate
required_analyses: [drift]
rules:
  - id: stable
    metric: drift.psi
    scope: "*"
    operator: "<"
    threshold: 0.2
"""


def _log(path, rows: int, shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1, rows)
    score = 1 / (1 + np.exp(-x))
    pd.DataFrame(
        {
            "id": np.arange(rows),
            "label": (rng.random(rows) < score).astype(int),
            "prediction": (score > 0.5).astype(int),
            "score": score.round(6),
            "x": x.round(6),
            "colour": rng.choice(["red", "green", "blue"], rows),
        }
    ).to_csv(path, index=False)


@pytest.fixture
def database(tmp_path):
    """model 'churn' v1 with a reference log (id 1), a similar log (id 2) and a shifted log (id 3)."""
    url = f"sqlite:///{tmp_path / 'signoff.db'}"
    db = open_database(url)
    add_model_version(db, name="churn", version="1")
    for index, (shift, role) in enumerate(
        [(0.0, LogRole.REFERENCE), (0.0, LogRole.VALIDATION), (1.0, LogRole.PRODUCTION)]
    ):
        path = tmp_path / f"log{index}.csv"
        _log(path, 2000, shift, seed=index)
        import_log(db, path, model="churn", version="1", mapping=MAPPING, role=role)
    db.close()
    policy = tmp_path / "gate.yaml"
    policy.write_text(POLICY)
    return url, policy


def test_check_exits_0_when_every_rule_passes(signed_in_cli, database):
    url, policy = database
    result = signed_in_cli(
        "check", "--policy", str(policy), "churn", "1", "--log", "1", "--log", "2", "--json", db=url
    )
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["status"] == "pass" and output["passed"] is True and output["exit_code"] == 0
    assert output["policy"]["name"] == "ci-gate" and len(output["policy"]["version"]) == 64
    assert output["model"] == {"id": 1, "name": "churn", "version": "1"}
    assert {v["scope"] for v in output["verdicts"]} == {"x", "colour", "score", "prediction"}
    assert [r["kind"] for r in output["analysis_runs"]] == ["drift"]


def test_check_exits_1_on_a_failure_and_0_once_it_is_waived(signed_in_cli, database):
    url, policy = database
    failing = signed_in_cli("check", "--policy", str(policy), "churn", "1", "--date", "2026-11-22", db=url)
    assert failing.returncode == 1, failing.stderr
    assert "FAIL" in failing.stdout and "stable" in failing.stdout
    assert "Traceback" not in failing.stderr

    granted = signed_in_cli(
        "waivers", "add", "churn", "1", "--rule", "stable", "--until", "2026-12-31",
        "--justification", "Seasonal shift expected in winter; re-baseline in January.",
        "--password-stdin", "--json",  # a signed act: the signed-in administrator types their password
        db=url, input=f"{ANALYST_PASSWORD}\n",
    )  # fmt: skip
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["scope"] == "*"

    waived = signed_in_cli(
        "check", "--policy", str(policy), "churn", "1", "--date", "2026-11-22", "--json", db=url
    )
    assert waived.returncode == 0, waived.stderr
    verdicts = json.loads(waived.stdout)["verdicts"]
    assert {v["status"] for v in verdicts} >= {"waived"}
    assert all(
        (v["waiver"]["granted_by"], v["waiver"]["printed_name"]) == ("analyst", "Ann Analyst")
        for v in verdicts
        if v["status"] == "waived"
    )

    expired = signed_in_cli("check", "--policy", str(policy), "churn", "1", "--date", "2027-01-01", db=url)
    assert expired.returncode == 1


def test_check_exits_1_when_required_evidence_is_missing(signed_in_cli, database):
    url, _ = database
    result = signed_in_cli("check", "--policy", "lending-four-fifths", "churn", "1", "--json", db=url)
    assert result.returncode == 1
    output = json.loads(result.stdout)
    assert "fairness" in output["missing_analyses"]
    assert output["counts"]["missing"] > 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--policy", "{policy_bad}", "churn", "1"), "rules[0].threshold: expected a number"),
        (("--policy", "{policy}", "churn", "9"), "is not registered"),
        (("--policy", "{policy}", "churn", "1", "--date", "22/11/2026"), "expected a date as YYYY-MM-DD"),
    ],
)
def test_check_exits_2_for_bad_input(signed_in_cli, database, tmp_path, arguments, message):
    url, policy = database
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.replace("threshold: 0.2", "threshold: high"))
    filled = [a.format(policy=policy, policy_bad=bad, nowhere=tmp_path / "none.yaml") for a in arguments]
    result = signed_in_cli("check", *filled, "--json", db=url)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_analyze_drift_and_validation(signed_in_cli, database):
    url, _ = database
    drift = signed_in_cli(
        "analyze", "drift", "churn", "1", "--reference", "1", "--current", "3", "--json", db=url
    )
    assert drift.returncode == 0, drift.stderr
    output = json.loads(drift.stdout)
    assert output["analysis_run"]["kind"] == "drift"
    assert "result" not in output["analysis_run"]
    assert "x" in output["result"]["drifted_columns"]
    assert {c["column"] for c in output["result"]["columns"]} == {"x", "colour", "score", "prediction"}

    validation = signed_in_cli("analyze", "validation", "churn", "1", "--log", "2", db=url)
    assert validation.returncode == 0, validation.stderr
    assert "2,000 rows read, 2,000 kept, 0 quarantined" in validation.stdout
    assert "colour" in validation.stdout and "MISSING" in validation.stdout
