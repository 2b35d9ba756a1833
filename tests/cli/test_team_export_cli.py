"""The credit team's export through the real executable: guess, refusal, import with the options named,
``logs show``, and the shipped lending policy evaluated on it with the attribute binding.

Expected numbers come from the written file with pandas (approval rates by gender), never from Signoff.
"""

from __future__ import annotations

import json

from team_export import write_team_export

MAPPING_ARGS = (
    "--label", "Actual_Outcome", "--prediction", "Model_Decision", "--id", "Application_ID",
    "--timestamp", "Decision Date", "--score", "Model_Score", "--sensitive", "Gender", "Ethnicity",
    "--feature", "Age", "Annual Income", "Loan_Amount", "CreditScore",
)  # fmt: skip


def test_the_team_export_from_guess_to_policy(signed_in_cli, tmp_path):
    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    export = write_team_export(tmp_path / "credit.csv")
    path = str(export.path)
    assert signed_in_cli("models", "add", "credit", "7", db=db).returncode == 0

    guess = signed_in_cli("import", "log", path, "--guess", db=db)
    assert guess.returncode == 0, guess.stderr
    assert '--date-format "%d/%m/%Y %H:%M"' in guess.stdout
    assert "--label Actual_Outcome" in guess.stdout and "--prediction Model_Decision" in guess.stdout
    assert "--prediction-map Approved=LABEL Declined=LABEL" in guess.stdout

    base = ("import", "log", path, "--model", "credit", "--version", "7", *MAPPING_ARGS)
    refused = signed_in_cli(*base, db=db)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "say which prediction means which label (--prediction-map" in refused.stderr

    imported = signed_in_cli(
        *base,
        "--prediction-map", "Approved=Repaid", "Declined=Defaulted", "--positive-label", "Repaid",
        "--json", db=db,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    log = json.loads(imported.stdout)
    assert log["mapping"]["timestamp_format"] == "%d/%m/%Y %H:%M"
    assert log["mapping"]["prediction_map"] == {"Approved": "Repaid", "Declined": "Defaulted"}
    assert log["validation"]["rows_unlabelled"] == 40 and log["rows"] == 400
    females = int((export.frame["Gender"] == "Female").sum())
    lower = int((export.frame["Gender"] == "female").sum())
    (warning,) = log["validation"]["warnings"]
    assert (
        f"Gender: 'Female' ({females:,}) and 'female' ({lower:,}) differ only in case" in warning["message"]
    )
    assert log["period_start"].startswith("2026-04-03T07:45:00")

    shown = signed_in_cli("logs", "show", str(log["id"]), db=db)
    assert "read as     timestamps in 'Decision Date' read as %d/%m/%Y %H:%M" in shown.stdout
    assert "read as     prediction 'Approved' means label 'Repaid'" in shown.stdout
    assert "warning: Gender: 'Female'" in shown.stdout and "40 rows without a label yet" in shown.stdout

    merged = signed_in_cli(
        *base,
        "--prediction-map", "Approved=Repaid", "Declined=Defaulted", "--positive-label", "Repaid",
        "--category-map", "Gender:female=Female", "--role", "production", "--json", db=db,
    )  # fmt: skip
    assert merged.returncode == 0, merged.stderr
    assert json.loads(merged.stdout)["mapping"]["category_map"] == [["Gender", "female", "Female"]]

    unbound = signed_in_cli("check", "credit", "7", "--policy", "lending-four-fifths", db=db)
    assert unbound.returncode == 1
    assert "--attribute sex=COLUMN" in unbound.stdout

    bound = signed_in_cli(
        "check", "credit", "7", "--policy", "lending-four-fifths",
        "--attribute", "sex=Gender", "--attribute", "race=Ethnicity", "--json", db=db,
    )  # fmt: skip
    assert bound.returncode in (0, 1), bound.stderr
    result = json.loads(bound.stdout)
    assert result["attribute_binding"] == {"sex": "Gender", "race": "Ethnicity"}
    verdicts = {(v["rule_id"], v["scope"]): v for v in result["verdicts"]}
    assert verdicts[("four-fifths", "Gender")]["status"] in ("pass", "fail")
    # Approval rates by gender over every row (unlabelled rows count for selection), spellings merged.
    frame = export.frame.assign(Gender=export.frame["Gender"].str.capitalize())
    rates = (frame["Model_Decision"] == "Approved").groupby(frame["Gender"]).mean()
    assert abs(verdicts[("four-fifths", "Gender")]["value"] - rates.min() / rates.max()) < 1e-12
    assert not any(v["status"] == "missing" and v["rule_id"] == "four-fifths" for v in result["verdicts"])
