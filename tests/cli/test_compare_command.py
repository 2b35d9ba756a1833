"""``signoff compare`` as a release pipeline runs it: the real executable on a real SQLite database whose
logs went through the real importer; numbers checked against statsmodels on the rows themselves."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from review_world import analyst_token
from signoff.cli.main import main
from signoff.domain.prediction_log import ColumnMapping
from signoff.services.audit import list_audit_events
from signoff.services.compare import compare_versions
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.storage import open_database

N = 1500


def _rows(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = (rng.random(N) < 0.35).astype(int)
    s1 = np.clip(0.3 * y + 0.7 * rng.random(N), 0, 1).round(4)
    s2 = np.clip(0.4 * y + 0.6 * rng.random(N), 0, 1).round(4)
    return pd.DataFrame(
        {
            "id": [f"a{i}" for i in range(N)],
            "label": y,
            "pred_v1": (s1 > 0.5).astype(int),
            "pred_v2": (s2 > 0.5).astype(int),
            "score_v1": s1,
            "score_v2": s2,
            "sex": rng.choice(["Female", "Male"], N),
        }
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """credit v1 (champion) with log 1 (its own rows 0..1399), v2 (challenger) with log 2 (rows
    100..1499, own columns) and log 3 (one log with both versions' columns)."""
    folder = tmp_path_factory.mktemp("compare")
    url = f"sqlite:///{folder / 'signoff.db'}"
    rows = _rows()
    db = open_database(url)
    add_model_version(db, name="credit", version="1")
    add_model_version(db, name="credit", version="2")
    rows.iloc[:1400][["id", "label", "pred_v1", "score_v1", "sex"]].to_csv(folder / "v1.csv", index=False)
    rows.iloc[100:][["id", "label", "pred_v2", "score_v2", "sex"]].sample(frac=1, random_state=2).to_csv(
        folder / "v2.csv", index=False
    )
    rows.to_csv(folder / "both.csv", index=False)
    own = {"label": "label", "sensitive": ("sex",), "id": "id"}
    import_log(
        db, folder / "v1.csv", model="credit", version="1",
        mapping=ColumnMapping(prediction="pred_v1", scores=("score_v1",), **own),
    )  # fmt: skip
    import_log(
        db, folder / "v2.csv", model="credit", version="2",
        mapping=ColumnMapping(prediction="pred_v2", scores=("score_v2",), **own),
    )  # fmt: skip
    import_log(
        db, folder / "both.csv", model="credit", version="2",
        mapping=ColumnMapping(prediction="pred_v2", scores=("score_v2",), features=("pred_v1", "score_v1"), **own),
    )  # fmt: skip
    db.close()
    return url, rows


def _mcnemar_accuracy(rows: pd.DataFrame) -> float:
    a, b = rows.pred_v1 == rows.label, rows.pred_v2 == rows.label
    table = [[(a & b).sum(), (a & ~b).sum()], [(~a & b).sum(), (~a & ~b).sum()]]
    return mcnemar(table, exact=table[0][1] + table[1][0] < 25, correction=True).pvalue


def test_two_logs_joined_by_row_id(signed_in_cli, workspace) -> None:
    url, rows = workspace
    done = signed_in_cli(
        "compare", "credit", "1", "2", "--log", "1", "--log", "2", "--resamples", "200", "--json", db=url
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["analysis_run"]["kind"] == "compare" and out["challenger"]["version"] == "2"
    assert set(out["analysis_run"]["inputs"]) == {"champion_log", "challenger_log"}
    result = out["result"]
    assert result["coverage"] == {
        "design": "paired",
        "champion_rows": 1400,
        "challenger_rows": 1400,
        "compared_rows": 1300,
        "only_champion": 100,
        "only_challenger": 100,
        "joined_on": "id",
    }
    accuracy = next(m for m in result["overall"]["metrics"] if m["metric"] == "accuracy")
    shared = rows.iloc[100:1400]
    assert accuracy["p_value"] == pytest.approx(_mcnemar_accuracy(shared), rel=1e-9)
    assert accuracy["difference"] == pytest.approx(
        (shared.pred_v2 == shared.label).mean() - (shared.pred_v1 == shared.label).mean()
    )
    again = signed_in_cli(
        "compare", "credit", "1", "2", "--log", "1", "--log", "2", "--resamples", "200", "--json", db=url
    )
    assert json.loads(again.stdout)["analysis_run"]["id"] == out["analysis_run"]["id"]


def test_one_log_with_both_versions_columns_and_a_readable_summary(workspace, capsys, monkeypatch) -> None:
    url, rows = workspace
    monkeypatch.setenv("SIGNOFF_TOKEN", analyst_token(url))
    code = main(
        [
            "--db", url, "compare", "credit", "1", "2", "--log", "3",
            "--predictions", "pred_v1", "pred_v2", "--scores", "score_v1", "score_v2", "--resamples", "100",
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "rows compared 1,500" in printed and "paired" in printed
    assert "roc_auc" in printed and "delong" in printed
    assert "family: Holm over the" in printed
    db = open_database(url)
    try:
        run = compare_versions(
            db, name="credit", champion="1", challenger="2", log_ids=[3],
            prediction_columns=("pred_v1", "pred_v2"), score_columns=("score_v1", "score_v2"), n_resamples=100,
        )  # fmt: skip
    finally:
        db.close()
    assert run.result.overall.metric("accuracy").p_value == pytest.approx(_mcnemar_accuracy(rows), rel=1e-9)
    female = next(g for g in run.result.segments[0].groups if g.group == "Female")
    part = rows[rows.sex == "Female"]
    assert female.changes.newly_approved == int(((part.pred_v1 == 0) & (part.pred_v2 == 1)).sum())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log", "3"], "name the champion's and the challenger's prediction columns"),
        (["--log", "2", "--log", "1"], "belongs to another model version"),
        (["--log", "3", "--predictions", "pred_v1", "nope"], "column 'nope' is not in stored log 3"),
        (["--log", "1", "--log", "2", "--sensitive", "age"], "no such column"),
    ],
)
def test_mistakes_are_one_message_and_store_nothing(workspace, capsys, monkeypatch, args, message) -> None:
    url, _ = workspace
    monkeypatch.setenv("SIGNOFF_TOKEN", analyst_token(url))  # signed in before the "nothing changed" snapshot
    db = open_database(url)
    try:
        before = list_audit_events(db)
        assert main(["--db", url, "compare", "credit", "1", "2", *args]) == 2
        error = capsys.readouterr().err
        assert message in error and "Traceback" not in error
        assert list_audit_events(db) == before
    finally:
        db.close()


def test_unpaired_ab_test_of_two_logs(workspace, capsys, monkeypatch) -> None:
    url, rows = workspace
    monkeypatch.setenv("SIGNOFF_TOKEN", analyst_token(url))
    code = main(
        ["--db", url, "compare", "credit", "1", "2", "--log", "1", "--log", "2", "--unpaired", "--json"]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)["result"]
    assert result["design"] == "unpaired"
    assert (result["coverage"]["compared_rows"], result["coverage"]["only_champion"]) == (2800, 0)
    sr = next(m for m in result["overall"]["metrics"] if m["metric"] == "selection_rate")
    a, b = rows.iloc[:1400].pred_v1, rows.iloc[100:].pred_v2
    assert sr["difference"] == pytest.approx(b.mean() - a.mean())
    assert sr["interval_method"].startswith("Newcombe") and sr["test"] == "two_proportion_z"
