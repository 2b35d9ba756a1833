"""``signoff import source`` and ``signoff analyze ... --log ID`` on it, as a CI pipeline runs them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd


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
