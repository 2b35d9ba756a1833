"""Gating a challenger on its champion: non-inferiority of AUC with a margin at the policy's confidence,
and no group's selection rate falling by more than a stated amount, judged by ``check_policy`` on both
database engines. Expected verdicts are reasoned from the rows (DeLong written here from its definition)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from signoff.domain.policy import RuleStatus
from signoff.domain.prediction_log import ColumnMapping
from signoff.services.compare import compare_versions
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.services.policy import check_policy

POLICY = """\
format: signoff-policy/1
name: challenger-gate
required_analyses: [compare]
settings:
  compare: {confidence_level: 0.9}
rules:
  - id: auc-non-inferior
    metric: compare.roc_auc_difference
    scope: overall
    operator: ">="
    threshold: -0.02
    on: ci_low
    description: the challenger's AUC is at most 0.02 below the champion's (90% interval)
  - id: no-group-loses-approvals
    metric: compare.selection_rate_difference
    scope: "sex=*"
    operator: ">="
    threshold: -0.05
"""


def _rows(n: int = 1200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n)
    y = (rng.random(n) < 0.4).astype(int)
    s1 = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1).round(3)
    s2 = np.clip(0.4 * y + 0.6 * rng.random(n), 0, 1).round(3)
    # The challenger is stricter with women: a higher bar for the same score.
    p2 = (s2 > np.where(sex == "Female", 0.62, 0.5)).astype(int)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "label": y,
            "p1": (s1 > 0.5).astype(int),
            "p2": p2,
            "s1": s1,
            "s2": s2,
            "sex": sex,
        }
    )


def _delong_lower(y: np.ndarray, a: np.ndarray, b: np.ndarray, level: float) -> float:
    v10, v01 = [], []
    for s in (a, b):
        psi = (s[y == 1][:, None] > s[y == 0][None, :]) + 0.5 * (s[y == 1][:, None] == s[y == 0][None, :])
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    cov = np.cov(np.vstack(v10)) / (y == 1).sum() + np.cov(np.vstack(v01)) / (y == 0).sum()
    diff = v10[1].mean() - v10[0].mean()
    return diff - stats.norm.ppf(0.5 + level / 2) * np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])


def test_policy_gates_the_challenger_on_the_comparison(db, tmp_path) -> None:
    rows = _rows()
    add_model_version(db, name="credit", version="1")
    add_model_version(db, name="credit", version="2")
    rows.to_csv(tmp_path / "shadow.csv", index=False)
    mapping = ColumnMapping(
        label="label", prediction="p2", scores=("s2",), features=("p1", "s1"), sensitive=("sex",), id="id"
    )
    log = import_log(db, tmp_path / "shadow.csv", model="credit", version="2", mapping=mapping).log
    policy = tmp_path / "gate.yaml"
    policy.write_text(POLICY)

    before = check_policy(db, name="credit", version="2", policy_file=policy)
    assert before.evaluation.missing_analyses == ("compare",) and before.exit_code == 1

    common = {"name": "credit", "champion": "1", "challenger": "2", "log_ids": [log.id]}
    common.update(prediction_columns=("p1", "p2"), score_columns=("s1", "s2"), n_resamples=200)
    compare_versions(db, **common, confidence_level=0.9)
    compare_versions(db, **common, confidence_level=0.95, seed=1)  # newer, but not the policy's level
    check = check_policy(db, name="credit", version="2", policy_file=policy)

    verdicts = {(v.rule.id, v.scope): v for v in check.evaluation.verdicts}
    auc = verdicts[("auc-non-inferior", "overall")]
    lower = _delong_lower(rows.label.to_numpy(), rows.s1.to_numpy(), rows.s2.to_numpy(), 0.9)
    assert auc.judged == pytest.approx(lower, abs=1e-9)
    assert auc.status is (RuleStatus.PASS if lower >= -0.02 else RuleStatus.FAIL)
    for sex in ("Female", "Male"):
        part = rows[rows.sex == sex]
        drop = part.p2.mean() - part.p1.mean()
        verdict = verdicts[("no-group-loses-approvals", f"sex={sex}")]
        assert verdict.value == pytest.approx(drop)
        assert verdict.status is (RuleStatus.PASS if drop >= -0.05 else RuleStatus.FAIL)
    assert verdicts[("no-group-loses-approvals", "sex=Female")].status is RuleStatus.FAIL
    assert check.exit_code == 1
    assert [r.kind for r in check.evidence] == ["compare"]
    assert check.evidence[0].parameters["confidence_level"] == 0.9


def _explanation(income: float, age: float, female_income: float):
    from signoff.domain.explanation import (
        Additivity,
        ExplainerKind,
        Explanation,
        ExplanationSettings,
        FeatureImportance,
        GroupImportance,
    )

    settings = ExplanationSettings(
        explainer=ExplainerKind.TREE, method="shap.TreeExplainer", output_space="log-odds",
        model_class="GradientBoostingClassifier", features=("income", "age"), rows_available=100,
        sample_size=100, background_size=0, background_source="", seed=0, bootstrap_resamples=0,
        confidence=0.95, min_group_size=30, shap_version="0.51", estimate=None,
    )  # fmt: skip
    return Explanation(
        settings=settings,
        base_value=0.0,
        global_importance=(
            FeatureImportance("income", income, None, None),
            FeatureImportance("age", age, None, None),
        ),
        directions=(),
        segments=(
            GroupImportance("sex", "Female", 60, (FeatureImportance("income", female_income, None, None),)),
        ),
        gaps=(),
        local=(),
        additivity=Additivity(max_error=0.0, tolerance=0.001, rows_checked=100, basis="float64 sum"),
    )


def test_shap_reliance_change_when_both_versions_are_explained(db, tmp_path) -> None:
    from signoff.services.analysis_runs import record_analysis

    rows = _rows(400)
    champion, challenger = (
        add_model_version(db, name="m", version="1"),
        add_model_version(db, name="m", version="2"),
    )
    rows.to_csv(tmp_path / "shadow.csv", index=False)
    mapping = ColumnMapping(label="label", prediction="p2", features=("p1",), sensitive=("sex",), id="id")
    log = import_log(db, tmp_path / "shadow.csv", model="m", version="2", mapping=mapping).log
    common = {"name": "m", "champion": "1", "challenger": "2", "log_ids": [log.id], "n_resamples": 0}
    without = compare_versions(db, **common, prediction_columns=("p1", "p2"))
    assert without.result.reliance == ()
    for version, explanation in (
        (champion, _explanation(0.40, 0.10, 0.50)),
        (challenger, _explanation(0.25, 0.30, 0.20)),
    ):
        record_analysis(
            db, kind="shap", model_version_id=version.id, inputs={"log": log.evidence_sha256},
            parameters={}, engine_version="test", result=explanation.to_dict(),
        )  # fmt: skip
    done = compare_versions(db, **common, prediction_columns=("p1", "p2"))
    assert done.run.id != without.run.id and "challenger_explanation" in done.run.inputs
    changes = {(c.scope, c.feature): c for c in done.result.reliance}
    assert changes[("overall", "income")].difference == pytest.approx(0.25 - 0.40)
    assert changes[("overall", "age")].difference == pytest.approx(0.30 - 0.10)
    assert changes[("sex=Female", "income")].champion == 0.50
    assert changes[("sex=Female", "income")].difference == pytest.approx(0.20 - 0.50)


def test_the_comparison_enters_the_challengers_evidence_bundle(db, tmp_path) -> None:
    from review_world import add_people
    from signoff.services.reviews import open_review

    rows = _rows(300)
    add_model_version(db, name="credit", version="1")
    challenger = add_model_version(db, name="credit", version="2")
    rows.to_csv(tmp_path / "shadow.csv", index=False)
    mapping = ColumnMapping(label="label", prediction="p2", features=("p1",), sensitive=("sex",), id="id")
    log = import_log(db, tmp_path / "shadow.csv", model="credit", version="2", mapping=mapping).log
    done = compare_versions(
        db, name="credit", champion="1", challenger="2", log_ids=[log.id], prediction_columns=("p1", "p2"),
        n_resamples=0,
    )  # fmt: skip
    add_people(db, ("root", "alice"))
    status = open_review(db, "alice", model_version_id=challenger.id, log_ids=[log.id])
    cited = {(a.kind, a.run_id, a.result_sha256) for a in status.bundle.analyses}
    assert ("compare", done.run.id, done.run.result_sha256) in cited
